"""The precomputed score table always equals a fresh computation, whatever staff edit."""

import contextlib
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidence.batch import bulk_edit
from evidence.models import Dosing, Finding, Rating, SideEffect, Study, Tier
from stacks.models import GoalScore
from stacks.ranking import ranking_order
from stacks.refresh import rescore_all, score_rows
from tests.factories import (
    make_compound,
    make_dosing,
    make_finding,
    make_goal,
    make_rating,
    make_side_effect,
    make_study,
)
from tests.factories.edits import TargetGone, first, set_fields

pytestmark = pytest.mark.django_db

# A row's place and its group's size depend on the goal's other rows (checked by `stored`).
NUMBERING = ("place", "group_size", "goal_place")
FIELDS = [f.attname for f in GoalScore._meta.concrete_fields if f.name not in ("id", *NUMBERING)]
SIX_PLACES = Decimal("0.000001")


def normalised(row):
    """A row's values as the database gives them back (str choices, 6-place decimals)."""
    values = {name: getattr(row, name) for name in FIELDS}
    values["group"] = str(values["group"])
    if values["milligrams_per_month"] is not None:
        values["milligrams_per_month"] = Decimal(values["milligrams_per_month"]).quantize(
            SIX_PLACES
        )
    return tuple(values.values())


def documented_order(row) -> tuple:
    return ranking_order(
        row.score,
        row.tier_number,
        row.randomised_study_count,
        row.participants,
        row.design_weighted_studies,
        row.study_count,
        row.sort_name,
        row.slug,
    )


def numbered_in_python(rows) -> dict[int, tuple[int, int, int]]:
    """Each row's place in its goal's group in the documented order, the group's size, and
    its place among all of its goal's rows."""
    lists, goals = defaultdict(list), defaultdict(list)
    for row in rows:
        lists[(row.goal_id, row.group)].append(row)
        goals[row.goal_id].append(row)
    in_group = {}
    for members in lists.values():
        members.sort(key=documented_order)
        for place, row in enumerate(members, start=1):
            in_group[row.pk] = (place, len(members))
    numbered = {}
    for members in goals.values():
        members.sort(key=documented_order)
        for goal_place, row in enumerate(members, start=1):
            numbered[row.pk] = (*in_group[row.pk], goal_place)
    return numbered


def stored():
    """The stored rows, once their places are checked against the documented order."""
    rows = list(GoalScore.objects.all())
    places = {row.pk: (row.place, row.group_size, row.goal_place) for row in rows}
    assert places == numbered_in_python(rows)
    return sorted(normalised(row) for row in rows)


def fresh():
    return sorted(normalised(row) for row in score_rows())


def catalogue():
    goals = [make_goal() for _ in range(2)]
    compounds = [make_compound() for _ in range(3)]
    for i, compound in enumerate(compounds):
        make_rating(compound, goals[i % 2], 2 + i)
        make_dosing(compound, route="subcutaneous" if i == 0 else "oral")
        study = make_study(design=Study.Design.RCT, n=100 * (i + 1))
        make_finding(compound, goals[i % 2], study=study)
    make_finding(compounds[0], goals[1])  # studied for a goal it is not rated for
    make_finding(  # a significant benefit its source states without figures
        compounds[2], goals[0], measure=Finding.Measure.QUALITATIVE, stated_significance=True
    )
    return goals, compounds


EDITS = {
    "add a significant finding": lambda g, c: make_finding(c[1], g[1]),
    "delete a finding": lambda g, c: first(Finding.objects.filter(compound=c[0])).delete(),
    "move a finding to another compound": lambda g, c: [
        set_fields(f, compound=c[2]) for f in Finding.objects.filter(compound=c[0])
    ],
    "change a rating's tier": lambda g, c: set_fields(
        first(Rating.objects.filter(compound=c[1])), tier=Tier.objects.get(number=1)
    ),
    "delete a rating": lambda g, c: [r.delete() for r in Rating.objects.filter(compound=c[2])],
    "reweigh a tier": lambda g, c: set_fields(Tier.objects.get(number=3), weight=70),
    "change a study's design": lambda g, c: set_fields(
        first(Study.objects.filter(findings__compound=c[0])), design=Study.Design.COHORT
    ),
    "delete a study": lambda g, c: first(Study.objects.filter(findings__compound=c[1])).delete(),
    "add a serious side effect": lambda g, c: make_side_effect(c[0], SideEffect.Frequency.SERIOUS),
    "add an oral dose": lambda g, c: make_dosing(c[0], route="oral", amount=Decimal(3)),
    "make a dose per kg of body weight": lambda g, c: set_fields(
        first(Dosing.objects.filter(compound=c[1])), per_kg=True
    ),
    "report a dose's route as not reported": lambda g, c: set_fields(
        first(Dosing.objects.filter(compound=c[0])), route="not_reported"
    ),
    "unpublish a compound": lambda g, c: set_fields(c[1], published=False),
    "rename a compound": lambda g, c: set_fields(c[2], name=f"Synthetic renamed {c[2].pk}"),
    "rate a studied compound": lambda g, c: (
        Rating.objects.filter(compound=c[0], goal=g[1]).exists() or make_rating(c[0], g[1], 4)
    ),
    "publish it again": lambda g, c: set_fields(c[1], published=True),
    "turn a stated benefit into a stated harm": lambda g, c: set_fields(
        first(Finding.objects.filter(measure=Finding.Measure.QUALITATIVE)),
        direction=Finding.Direction.HARM,
    ),
    "reclassify a compound's mechanism": lambda g, c: set_fields(c[0], mechanism_class="Synthetic"),
    "edit a finding's notes only": lambda g, c: set_fields(
        first(Finding.objects.filter(compound=c[1])), notes="Synthetic note"
    ),
}


def test_factory_data_is_scored_as_it_is_created():
    catalogue()
    assert stored() == fresh()
    assert GoalScore.objects.filter(computed=True).count() == 1


@pytest.mark.parametrize("edit", EDITS)
def test_each_edit_keeps_the_table_equal_to_a_fresh_computation(edit):
    goals, compounds = catalogue()
    EDITS[edit](goals, compounds)
    assert stored() == fresh()


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.sampled_from(sorted(EDITS)), min_size=1, max_size=6))
def test_any_sequence_of_edits_keeps_the_table_equal_to_a_fresh_computation(edits):
    with transaction.atomic():  # each example starts from an empty database
        goals, compounds = catalogue()
        for edit in edits:
            # An edit whose target an earlier edit removed does nothing; any other error,
            # an AttributeError from a broken edit included, fails the test.
            with contextlib.suppress(TargetGone):
                EDITS[edit](goals, compounds)
            for compound in compounds:
                compound.refresh_from_db()
        assert stored() == fresh()
        transaction.set_rollback(True)


def test_a_batch_refreshes_once_at_the_end():
    goal = make_goal()
    with bulk_edit():
        compound = make_compound()
        make_rating(compound, goal, 3)
        assert not GoalScore.objects.filter(compound=compound).exists()
    assert GoalScore.objects.filter(compound=compound).exists()
    assert stored() == fresh()


def test_rescore_all_rebuilds_a_table_that_bulk_writes_left_stale():
    goals, compounds = catalogue()
    Rating.objects.filter(compound=compounds[0]).update(tier=Tier.objects.get(number=1))
    assert stored() != fresh()
    rescore_all()
    assert stored() == fresh()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a collation of PostgreSQL's")
def test_places_follow_the_documented_order_whatever_the_databases_collation():
    """The documented order compares names by code point, as Python does; a database whose
    locale sorts "é" with "e" (before "f") still numbers by code point ("f" first)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu'")
        if cursor.fetchone() is None:
            pytest.skip("this PostgreSQL has no ICU collations")
        cursor.execute(
            "ALTER TABLE stacks_goalscore"
            ' ALTER COLUMN sort_name TYPE varchar(160) COLLATE "und-x-icu"'
        )
    goal = make_goal()
    accented = make_compound("Synthetic é compound")
    plain = make_compound("Synthetic f compound")
    for compound in (accented, plain):
        make_rating(compound, goal, 2)
    places = dict(GoalScore.objects.filter(goal=goal).values_list("compound_id", "goal_place"))
    assert places == {plain.pk: 1, accented.pk: 2}
    stored()
