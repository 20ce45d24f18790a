"""A change of a computed certainty is recorded by the rescore that computes it and shown on the
public change log: the compound's "What changed", /changes/ and both Atom feeds."""

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from evidence.certainty import Level
from evidence.models import CertaintyChange, Finding
from stacks.models import GoalScore
from stacks.refresh import rescore_all
from tests.factories import make_compound, make_finding, make_goal, make_study
from tests.factories.personas import anonymous_visitor

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def certainty(compound, goal) -> int | None:
    return GoalScore.objects.get(compound=compound, goal=goal).certainty


def feed_titles(response) -> list[str]:
    root = ET.fromstring(response.content)
    return [entry.find(f"{ATOM}title").text for entry in root.findall(f"{ATOM}entry")]


@pytest.fixture
def scored():
    """A synthetic compound with one randomised finding in its favour, scored once."""
    compound = make_compound("Synthetic certainty compound", slug="synthetic-certainty-compound")
    goal = make_goal("Synthetic certainty goal")
    make_finding(compound, goal, study=make_study(n=120), outcome="Synthetic response")
    return compound, goal


def test_the_first_assessment_is_not_a_change(scored):
    compound, goal = scored
    assert certainty(compound, goal) is not None
    assert not CertaintyChange.objects.exists()


def test_a_finding_against_the_compound_changes_its_certainty_on_the_public_log(scored):
    compound, goal = scored
    before = certainty(compound, goal)
    # A second randomised trial finds the opposite: inconsistency rates the benefit down.
    make_finding(
        compound,
        goal,
        study=make_study(n=150),
        outcome="Synthetic response at one year",
        value=Decimal("0.6"),
        ci_low=Decimal("0.4"),
        ci_high=Decimal("0.9"),
    )
    after = certainty(compound, goal)
    assert after != before
    (change,) = CertaintyChange.objects.all()
    assert (change.compound, change.goal, change.previous, change.certainty) == (
        compound,
        goal,
        before,
        after,
    )
    expected = (
        f"Computed certainty of benefit for {goal.name} changed from {Level(before).label} "
        f"to {Level(after).label}."
    )
    visitor = anonymous_visitor()
    assert expected in visitor.get(f"/compounds/{compound.slug}/changes/recent/").text
    assert expected in visitor.get("/changes/").text
    for url in ("/changes/feed/", f"/compounds/{compound.slug}/changes/feed/"):
        assert f"{compound.name}: {expected}" in feed_titles(visitor.get(url))


def test_an_edit_that_leaves_the_certainty_alone_records_nothing(scored):
    compound, goal = scored
    finding = compound.findings.get()
    finding.notes = "Synthetic note."
    finding.save()
    finding.ci_high = Decimal("1.95")  # scored, but still significant with the same n
    finding.save()
    assert not CertaintyChange.objects.exists()


def test_rescore_all_records_only_the_certainties_it_changes(scored):
    compound, goal = scored
    steady = make_compound("Synthetic steady compound")
    make_finding(steady, goal)
    before = certainty(compound, goal)
    # A bulk write bypasses the signals: only rescore_all sees the finding against.
    Finding.objects.bulk_create(
        [
            Finding(
                study=make_study(n=150),
                compound=compound,
                goal=goal,
                outcome="Synthetic response at one year",
                comparator=Finding.Comparator.PLACEBO,
                measure=Finding.Measure.ODDS_RATIO,
                value=Decimal("0.6"),
                ci_low=Decimal("0.4"),
                ci_high=Decimal("0.9"),
            )
        ]
    )
    assert certainty(compound, goal) == before
    rescore_all()
    (change,) = CertaintyChange.objects.all()
    assert (change.compound, change.previous, change.certainty) == (
        compound,
        before,
        certainty(compound, goal),
    )


def test_an_unpublished_compound_s_certainty_changes_are_not_listed(scored):
    compound, goal = scored
    CertaintyChange.objects.create(compound=compound, goal=goal, previous=3, certainty=2)
    compound.published = False
    compound.save()
    assert "Synthetic certainty compound" not in anonymous_visitor().get("/changes/").text
