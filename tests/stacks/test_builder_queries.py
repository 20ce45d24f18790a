"""What one builder request costs the database, with the cache off (the content-version read
counts): a fixed number of queries, whatever the catalogue, with every filter that reads
offers on."""

from decimal import Decimal
from itertools import combinations

import pytest

from evidence.models import Condition, Interaction
from tests.factories import (
    make_contraindication,
    make_dosing,
    make_goal,
    make_offer,
    make_rated_compound,
)

pytestmark = pytest.mark.django_db

COMPOUNDS_PER_GOAL = 6


@pytest.fixture(autouse=True)
def _no_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}


def goals_with_stocked_compounds(count: int):
    """Goals each with ranked compounds that have offers in stock, dosing, a contraindication
    (one of them the visitor's) and interactions with each other, so every read happens."""
    goals = [make_goal() for _ in range(count)]
    for goal in goals:
        compounds = []
        for i in range(COMPOUNDS_PER_GOAL):
            compound = make_rated_compound(goal, tier_number=2 + i % 3, mechanism_class="Synth")
            make_offer(compound, price=Decimal("10.00"))
            make_dosing(compound, doses_per_week=Decimal(7))
            condition = Condition.PREGNANCY if i == 0 else Condition.KIDNEY_DISEASE
            make_contraindication(compound, condition)
            compounds.append(compound)
        for a, b in combinations(sorted(c.pk for c in compounds), 2):
            Interaction.objects.create(
                compound_a_id=a, compound_b_id=b, severity="minor", note="Synthetic note"
            )
    return goals


def builder_url(goals) -> str:
    picked = "&".join(f"goals={goal.slug}" for goal in goals)
    return f"/?{picked}&in_stock=on&budget=1000&currency=USD&condition=pregnancy"


@pytest.mark.parametrize(("goal_count", "budget"), [(1, 6), (3, 8)])
@pytest.mark.parametrize("fragment", [False, True], ids=["page", "htmx fragment"])
def test_builder_reads_a_fixed_number_of_queries(
    client, goal_count, budget, fragment, django_assert_max_num_queries
):
    goals = goals_with_stocked_compounds(goal_count)
    headers = {"HX-Request": "true"} if fragment else {}
    with django_assert_max_num_queries(budget):
        response = client.get(builder_url(goals), headers=headers)
    assert response.status_code == 200
    stack = response.context["stack"]
    assert len(stack.picks) >= 2  # the warnings' reads happened
    kinds = {w.kind for w in stack.warnings}
    assert kinds == {"interaction", "shared_contraindication", "same_mechanism"}
    for ranking in stack.rankings:
        assert len(ranking.ranked) == COMPOUNDS_PER_GOAL - 1
        [excluded] = ranking.excluded
        assert excluded.reasons == ("Contraindicated: Pregnancy",)


def test_the_fragment_reads_only_the_goals_it_was_asked_for(client, django_assert_num_queries):
    goals = goals_with_stocked_compounds(1)
    for _ in range(30):
        make_goal()
    response = client.get(builder_url(goals), headers={"HX-Request": "true"})
    assert [g.slug for g in response.context["goals"]] == [goals[0].slug]
    assert b"<html" not in response.content
