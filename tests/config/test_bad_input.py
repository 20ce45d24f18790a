"""Garbage in never gives a 5xx: arbitrary query strings and slugs at every public URL."""

from urllib.parse import quote, urlencode

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PAGES = [
    "/",
    "/stack/goal-options/",
    "/goals/liver-health/why/thymosin-alpha-1/",
    "/goals/liver-health/",
    "/compounds/",
    "/compounds/thymosin-alpha-1/",
    "/compounds/thymosin-alpha-1/evidence/liver-health/",
    "/vendors/",
    "/vendors/synthetic-example-vendor/",
    "/methodology/",
    "/goals/",
    "/research/",
    "/research/thymosin-alpha-1-for-liver-health/",
    "/sitemap.xml",
    "/healthz",
    "/api/goals/",
    "/api/goals/liver-health/ranking/",
    "/api/stack/",
    "/api/compounds/thymosin-alpha-1/",
    "/api/compounds/",
    "/api/studies/",
    "/api/changes/",
    "/data/",
]
PARAMETERS = [
    "goals",
    "condition",
    "no_injections",
    "exclude_kind",
    "min_tier",
    "in_stock",
    "budget",
    "currency",
    "limit",
    "q",
    "priority",
    "size",
    "goal",
    "p",
    "page",
    "page_size",
    "since",
    "goal_q",
    "goal_category",
    "category",
]
nasty_text = st.one_of(
    st.text(max_size=50),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
    st.sampled_from(
        ["", "0", "-1", "1e309", "9" * 400, "NaN", "inf", "true", "on", "\x00", "<script>", "'; --"]
    ),
    st.integers().map(str),
    st.just("x" * 5000),
)
query_strings = st.lists(
    st.tuples(st.one_of(st.sampled_from(PARAMETERS), st.text(max_size=10)), nasty_text),
    max_size=8,
)
settings_for_db = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def demo(db):
    call_command("load_demo", "--deep-dive-only", verbosity=0)


@settings_for_db
@given(path=st.sampled_from(PAGES), query=query_strings, htmx=st.booleans())
def test_no_query_string_makes_a_public_url_fail(client, demo, path, query, htmx):
    url = f"{path}?{urlencode(query)}"
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.get(url, headers=headers)
    assert response.status_code < 500, url


@settings_for_db
@given(
    template=st.sampled_from(
        [
            "/goals/{}/",
            "/compounds/{}/",
            "/compounds/thymosin-alpha-1/evidence/{}/",
            "/compounds/{}/evidence/liver-health/",
            "/vendors/{}/",
            "/go/{}/",
            "/api/goals/{}/ranking/",
            "/api/compounds/{}/",
        ]
    ),
    slug=st.text(min_size=1, max_size=300),
)
def test_no_slug_makes_a_public_url_fail(client, demo, template, slug):
    response = client.get(template.format(quote(slug, safe="")))
    assert response.status_code < 500


@pytest.mark.parametrize("path", PAGES)
def test_every_public_url_answers_without_parameters(client, demo, path):
    assert client.get(path).status_code in {200, 422}  # /api/stack/ needs goals


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
@pytest.mark.parametrize("path", PAGES)
def test_other_methods_are_refused_cleanly(client, demo, path, method):
    assert getattr(client, method)(path).status_code in {403, 405}


@pytest.mark.parametrize(
    "url",
    [
        "/?goals=%00",
        "/?goals=liver-health&currency=%00",
        "/?goal_q=%00",
        "/?goal_category=%00",
        "/stack/goal-options/?goal_q=%00",
        "/stack/goal-options/?goal_category=%00",
        "/goals/liver-health/?condition=%00",
        "/compounds/?q=%00",
        "/api/stack/?goals=%00",
        "/api/goals/a%00/ranking/",
        "/api/compounds/a%00/",
        "/api/goals/liver-health/ranking/?condition=%00",
        "/compounds/%00/",
    ],
)
def test_nul_bytes_are_refused_before_they_reach_postgresql(client, demo, url):
    assert client.get(url).status_code in {400, 404, 422}


def test_repeated_and_huge_values_are_answered_with_an_error_not_a_crash(client, demo):
    many_goals = "&".join(["goals=liver-health"] * 500)
    assert client.get(f"/?{many_goals}").status_code in {200, 400}
    assert client.get(f"/api/stack/?{many_goals}").status_code == 422
    assert client.get("/?budget=" + "9" * 400).status_code == 400
    assert client.get("/compounds/?q=" + "x" * 5000).status_code == 400
