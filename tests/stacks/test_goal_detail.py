"""A goal's page (/goals/<slug>/): its ranking, evidence map, fragment, errors, query count."""

import re

import pytest

from tests.factories import make_goal, make_rated_compound

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def test_goal_page_ranks_and_draws_the_evidence_map(client):
    goal = make_goal(name="Synthetic sleep")
    compound = make_rated_compound(goal, name="Synthetic <Epsilon>")
    response = client.get(f"/goals/{goal.slug}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Evidence map" in html and "<svg" in html
    assert f'href="/compounds/{compound.slug}/evidence/{goal.slug}/"' in html
    assert "Synthetic &lt;Epsilon&gt;" in html and "Synthetic <Epsilon>" not in html
    assert "Educational purposes only" in html


def test_goal_page_answers_htmx_with_a_fragment_and_a_bad_filter_with_400(client):
    goal = make_goal()
    make_rated_compound(goal)
    fragment = client.get(f"/goals/{goal.slug}/?in_stock=on", headers=HTMX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()
    assert client.get(f"/goals/{goal.slug}/?min_tier=99").status_code == 400


def test_unknown_goal_page_is_404(client):
    assert client.get("/goals/no-such-goal/").status_code == 404


def test_long_rankings_show_the_top_entries_and_a_link_for_more(client):
    goal = make_goal()
    for _ in range(23):
        make_rated_compound(goal)
    html = client.get(f"/goals/{goal.slug}/").content.decode()
    assert "Showing the top 20 of 23 ranked compounds." in html
    assert "limit=40" in html
    more = client.get(f"/goals/{goal.slug}/?limit=40").content.decode()
    assert "Showing the top" not in more
    assert more.count('class="ranked card"') == 23
    assert client.get(f"/goals/{goal.slug}/?limit=5000").status_code == 400


@pytest.mark.parametrize("scale", [1, 10])
def test_goal_page_query_count_is_bounded(client, scale, django_assert_max_num_queries):
    goal = make_goal()
    for _ in range(2 * scale):
        make_rated_compound(goal)
    with django_assert_max_num_queries(11):
        response = client.get(f"/goals/{goal.slug}/")
    assert response.status_code == 200


def test_the_ranking_comes_before_the_disclaimer_and_the_filters_are_a_disclosure(client):
    goal = make_goal()
    compound = make_rated_compound(goal, name="Synthetic Ranked")
    html = client.get(f"/goals/{goal.slug}/").content.decode()
    assert '<details class="filters-disclosure" data-open-when-wide>' in html
    main = html[html.index('id="results"') : html.index('class="site-footer"')]
    # The disclaimer appears once in the page (and once in the footer), below the ranking.
    assert main.count("Educational purposes only") == 1
    assert main.index(compound.name) < main.index("Educational purposes only")


def test_the_filters_disclosure_is_open_when_a_filter_could_not_be_used(client):
    goal = make_goal()
    html = client.get(f"/goals/{goal.slug}/?min_tier=99").content.decode()
    assert '<details class="filters-disclosure" data-open-when-wide open>' in html


def test_the_status_line_and_filter_count_follow_the_filters_out_of_band(client):
    goal = make_goal()
    make_rated_compound(goal)
    page = client.get(f"/goals/{goal.slug}/").content.decode()
    assert '<div role="status" aria-live="polite">' in page
    assert "1 compound ranked</p>" in page

    fragment = client.get(
        f"/goals/{goal.slug}/?in_stock=on&no_injections=on&currency=EUR", headers=HTMX
    ).content.decode()
    assert 'id="ranking-status" class="stack-summary" hx-swap-oob="true"' in fragment
    assert "0 compounds ranked · 1 excluded by your filters" in fragment
    assert 'id="filter-count" class="filters-disclosure__count" hx-swap-oob="true">(2 in use)' in (
        fragment
    )


def test_the_link_for_more_leaves_out_empty_fields(client):
    goal = make_goal()
    for _ in range(23):
        make_rated_compound(goal)
    html = client.get(f"/goals/{goal.slug}/?min_tier=&budget=&currency=USD&condition=pregnancy")
    more = re.search(r'<a href="\?([^"]*)"[^>]*>Show more</a>', html.content.decode())[1]
    assert more.replace("&amp;", "&") == "condition=pregnancy&limit=40"
