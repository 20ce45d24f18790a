"""The scoring service on the demo data: what a visitor sees for the seed's compound."""

import pytest
from django.core.management import call_command

from evidence.models import Condition, Goal
from stacks.ranking import Constraints, build_stack, rank_goal


@pytest.fixture
def demo(db):
    call_command("load_demo", "--deep-dive-only", verbosity=0)


def test_liver_health_ranks_thymosin_alpha_1_at_tier_3_with_its_studies(demo):
    ranking = rank_goal(Goal.objects.get(slug="liver-health"))
    [entry] = ranking.ranked
    assert entry.name == "Thymosin alpha-1"
    assert (entry.tier_number, entry.tier_label) == (3, "Probable efficacy")
    studies = [c.label for c in entry.components if c.kind == "study"]
    assert any("n=316" in label and "Randomised controlled trial" in label for label in studies)
    assert any(
        "Meta-analysis" in label and "n=199, 4 trials" in label and "interferon" in label.lower()
        for label in studies
    )
    assert any("n=468" in label and "Cohort" in label for label in studies)
    assert any("n=690" in label for label in studies)
    assert entry.score == 62.9  # worked through in docs/methodology.md
    # The evidence map's x: meta-analysis 1.0 + two RCTs 0.8 each + cohort 0.4.
    assert entry.design_weighted_studies == 3.0


def test_inferiority_to_interferon_is_shown_as_such_not_as_harm(demo):
    [entry] = rank_goal(Goal.objects.get(slug="liver-health")).ranked
    [meta] = [c for c in entry.components if "Meta-analysis" in c.label]
    assert "significantly inferior to an active comparator" in meta.detail
    assert "harm" not in meta.detail
    assert -1 < meta.points < 0


def test_pregnancy_excludes_thymosin_alpha_1_with_the_seeds_reason(demo):
    ranking = rank_goal(
        Goal.objects.get(slug="liver-health"),
        Constraints(conditions=frozenset({Condition.PREGNANCY})),
    )
    assert ranking.ranked == ()
    [exclusion] = ranking.excluded
    assert exclusion.reasons[0].startswith("Contraindicated: Pregnancy")


def test_no_injections_excludes_it_as_only_injected(demo):
    ranking = rank_goal(Goal.objects.get(slug="liver-health"), Constraints(no_injections=True))
    assert "Only given by injection" in ranking.excluded[0].reasons[0]


def test_immune_function_ranks_it_by_computed_certainty_not_by_an_editors_tier(demo):
    ranking = rank_goal(Goal.objects.get(slug="immune-function"))
    [entry] = ranking.ranked
    assert (entry.name, entry.computed, entry.tier) == ("Thymosin alpha-1", True, None)
    assert entry.certainty_label


def test_a_stack_for_both_goals_covers_both_with_thymosin_alpha_1(demo):
    goals = list(Goal.objects.order_by("slug"))
    stack = build_stack(goals)
    assert [p.compound.name for p in stack.picks] == ["Thymosin alpha-1"]
    assert stack.uncovered_goals == ()
