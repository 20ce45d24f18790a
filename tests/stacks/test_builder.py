"""The stack builder (/): full page, HTMX fragment, filters, errors, query count."""

import pytest

from evidence.models import Condition
from tests.factories import (
    make_contraindication,
    make_dosing,
    make_goal,
    make_offer,
    make_rated_compound,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def test_builder_without_goals_invites_a_choice(client):
    goal = make_goal(name="Synthetic liver", category="Synthetic organs")
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Start with a goal" in html
    assert "Synthetic organs" in html and goal.slug in html
    assert "Educational purposes only, not medical advice" in html


def test_picking_goals_shows_the_stack_and_each_ranking(client):
    liver, immune = make_goal(name="Synthetic liver"), make_goal(name="Synthetic immune")
    a = make_rated_compound(liver, 2, name="Synthetic Alpha")
    b = make_rated_compound(immune, 3, name="Synthetic Beta")
    response = client.get(f"/?goals={liver.slug}&goals={immune.slug}")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Your recommended stack" in html
    assert html.count("Synthetic Alpha") >= 2 and "Synthetic Beta" in html
    assert "Why this rank" in html
    assert "Tier 2" in html and "Likely efficacy" in html
    assert f"/compounds/{a.slug}/evidence/{liver.slug}/" in html
    assert f"/compounds/{b.slug}/evidence/{immune.slug}/" in html
    assert "Educational purposes only" in html


def test_htmx_request_gets_only_the_results_fragment_with_the_summary_out_of_band(client):
    goal = make_goal()
    make_rated_compound(goal, name="Synthetic Gamma")
    response = client.get(f"/?goals={goal.slug}", headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "site-footer" not in html
    assert "Synthetic Gamma" in html
    assert 'id="stack-summary"' in html and 'hx-swap-oob="true"' in html
    assert "HX-Request" in response["Vary"]


def test_plain_request_gets_the_full_page_and_varies_on_htmx(client):
    response = client.get("/")
    assert "<html" in response.content.decode()
    assert "HX-Request" in response["Vary"]


def test_declared_condition_moves_a_compound_to_the_excluded_list(client):
    goal = make_goal()
    compound = make_rated_compound(goal, name="Synthetic Delta")
    make_contraindication(compound, Condition.PREGNANCY, note="Synthetic note")
    html = client.get(f"/?goals={goal.slug}&condition=pregnancy").content.decode()
    assert "Excluded by your filters" in html
    assert "Contraindicated: Pregnancy (Synthetic note)" in html


def test_no_injection_filter_and_budget_apply(client):
    goal = make_goal()
    injected = make_rated_compound(goal, name="Synthetic Injected")
    make_dosing(injected, route="subcutaneous")
    oral = make_rated_compound(goal, name="Synthetic Oral")
    make_dosing(oral, route="oral")
    make_offer(oral)
    html = client.get(f"/?goals={goal.slug}&no_injections=on&budget=1000").content.decode()
    assert "Only given by injection" in html
    assert "/month" in html


@pytest.mark.parametrize(
    "query",
    ["goals=no-such-goal", "min_tier=abc", "budget=-1", "budget=abc", "condition=flu"],
)
def test_bad_builder_input_is_shown_with_errors_and_400(client, query):
    make_goal()
    response = client.get(f"/?{query}")
    assert response.status_code == 400
    assert "could not be used" in response.content.decode()


@pytest.mark.parametrize("scale", [1, 10])
def test_builder_query_count_is_bounded(client, scale, django_assert_max_num_queries):
    goals = [make_goal() for _ in range(3)]
    for goal in goals:
        for _ in range(2 * scale):
            compound = make_rated_compound(goal)
            make_offer(compound)
            make_dosing(compound)
    query = "&".join(f"goals={g.slug}" for g in goals)
    # Content version (cache key), goals, tiers and the form, then the stack for three goals
    # (see test_ranking).
    with django_assert_max_num_queries(22):
        response = client.get(f"/?{query}&in_stock=on")
    assert response.status_code == 200
