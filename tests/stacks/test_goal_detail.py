"""A goal's page (/goals/<slug>/): its ranking, evidence map, fragment, errors, query count."""

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
