"""The knowledge base as paginated lists: every published entry once in a stable order,
filters that narrow it, bad input answered 4xx with a message, and a constant query count."""

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidence.models import Compound, Finding, Rating, Study
from stacks import paging
from stacks.api_lists import MAX_PAGE_SIZE
from tests.factories import (
    make_compound,
    make_finding,
    make_goal,
    make_rating,
    make_source,
    make_study,
    tier,
)

pytestmark = pytest.mark.django_db


def walk(client, url: str) -> list[dict]:
    """Every entry of a list, following `next` from the first page to the last."""
    entries, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.json()
        entries += body["results"]
        pages += 1
        assert body["page"] == pages
        url = body["next"]
    assert pages == body["pages"]
    return entries


def test_openapi_documents_paginated_lists_of_compounds_studies_and_sources(client):
    document = json.loads(client.get("/api/openapi.json").content)
    schemas = document["components"]["schemas"]
    for path in ["/api/compounds/", "/api/studies/", "/api/sources/", "/api/goals/"]:
        get = document["paths"][path]["get"]
        parameters = {p["name"] for p in get["parameters"]}
        assert {"page", "page_size"} <= parameters, path
        answer = get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        page = schemas[answer.rsplit("/", 1)[1]]
        assert {"count", "page", "pages", "next", "previous", "results"} <= set(
            page["properties"]
        ), path
    assert {"since", "compound", "minor"} <= {
        p["name"] for p in document["paths"]["/api/changes/"]["get"]["parameters"]
    }


def test_walking_every_page_of_compounds_finds_every_published_compound_exactly_once(client):
    published = {make_compound().slug for _ in range(8)}
    hidden = make_compound(published=False).slug
    entries = walk(client, "/api/compounds/?page_size=3")
    slugs = [entry["slug"] for entry in entries]
    assert sorted(slugs) == sorted(published)
    assert len(slugs) == len(set(slugs))
    assert hidden not in slugs
    assert slugs == sorted(slugs)  # the documented order


def test_the_links_keep_the_filters_and_the_first_page_has_no_previous(client):
    for _ in range(3):
        make_compound(kind=Compound.Kind.PEPTIDE)
    first = client.get("/api/compounds/?kind=peptide&page_size=2&utm_source=junk").json()
    assert first["previous"] is None
    assert first["next"] == "/api/compounds/?page=2&page_size=2&kind=peptide"
    second = client.get(first["next"]).json()
    assert (second["count"], second["pages"], second["next"]) == (3, 2, None)
    assert second["previous"] == "/api/compounds/?page_size=2&kind=peptide"


def test_an_empty_list_is_one_empty_page(client):
    body = client.get("/api/compounds/").json()
    assert (body["count"], body["pages"], body["results"], body["next"]) == (0, 1, [], None)


def test_a_compound_entry_names_its_kind_aliases_tiers_and_where_to_read_more(client):
    goal = make_goal()
    compound = make_compound(aliases=["Synthetic alias B", "Synthetic alias A"])
    make_rating(compound, goal, tier_number=2)
    [entry] = client.get("/api/compounds/").json()["results"]
    assert entry["aliases"] == ["Synthetic alias A", "Synthetic alias B"]
    assert entry["ratings"] == [{"goal": goal.slug, "tier": 2, "tier_label": tier(2).label}]
    assert entry["url"] == f"/api/compounds/{compound.slug}/"
    assert client.get(entry["url"]).status_code == 200
    assert entry["page_url"] == compound.get_absolute_url()


def test_compounds_filter_by_goal_rated_or_studied_and_by_kind(client):
    goal, other = make_goal(), make_goal()
    rated = make_compound(kind=Compound.Kind.PEPTIDE)
    make_rating(rated, goal)
    studied = make_compound()
    make_finding(studied, goal)
    elsewhere = make_compound()
    make_rating(elsewhere, other)

    def slugs(query):
        return {e["slug"] for e in client.get(f"/api/compounds/?{query}").json()["results"]}

    assert slugs(f"goal={goal.slug}") == {rated.slug, studied.slug}
    assert slugs("kind=peptide") == {rated.slug}
    assert slugs(f"goal={goal.slug}&kind=supplement") == {studied.slug}


def test_goals_are_listed_by_slug_and_filter_by_category(client):
    sleep = make_goal(category="Synthetic sleep")
    make_goal(category="Synthetic strength")
    body = client.get("/api/goals/?category=Synthetic+sleep").json()
    assert [g["slug"] for g in body["results"]] == [sleep.slug]


def test_studies_carry_only_findings_of_published_compounds(client):
    goal = make_goal()
    shown, hidden = make_compound(), make_compound(published=False)
    study = make_study()
    make_finding(shown, goal, study=study, outcome="Synthetic shown outcome")
    make_finding(hidden, goal, study=study, outcome="Synthetic hidden outcome")
    only_hidden = make_study()
    make_finding(hidden, goal, study=only_hidden)
    [entry] = client.get("/api/studies/").json()["results"]
    assert entry["slug"] == study.slug
    assert [(f["compound"], f["outcome"]) for f in entry["findings"]] == [
        (shown.slug, "Synthetic shown outcome")
    ]
    assert entry["findings"][0]["goal"] == goal.slug
    assert entry["findings"][0]["significant"] is True


def test_studies_filter_by_design_source_goal_and_compound(client):
    goal, other_goal = make_goal(), make_goal()
    compound, other = make_compound(), make_compound()
    source = make_source()
    rct = make_study(design=Study.Design.RCT, source=source)
    cohort = make_study(design=Study.Design.COHORT)
    make_finding(compound, goal, study=rct)
    make_finding(other, other_goal, study=rct)
    make_finding(other, goal, study=cohort)

    def listed(query):
        results = client.get(f"/api/studies/?{query}").json()["results"]
        return {e["slug"]: {(f["compound"], f["goal"]) for f in e["findings"]} for e in results}

    assert listed("design=cohort") == {cohort.slug: {(other.slug, goal.slug)}}
    assert set(listed(f"source={source.slug}")) == {rct.slug}
    assert listed(f"goal={goal.slug}") == {
        rct.slug: {(compound.slug, goal.slug)},
        cohort.slug: {(other.slug, goal.slug)},
    }
    assert listed(f"compound={other.slug}&goal={other_goal.slug}") == {
        rct.slug: {(other.slug, other_goal.slug)}
    }
    assert listed(f"source={source.slug}")[rct.slug] == {
        (compound.slug, goal.slug),
        (other.slug, other_goal.slug),
    }
    assert client.get(f"/api/studies/?source={source.slug}").json()["results"][0]["source"][
        "licence"
    ] == (source.licence)


def test_sources_list_their_licence_and_attribution(client):
    source = make_source()
    [entry] = client.get("/api/sources/").json()["results"]
    assert entry["slug"] == source.slug
    assert (entry["licence"], entry["licence_url"], entry["attribution"]) == (
        source.licence,
        source.licence_url,
        source.attribution,
    )


def _age(model, days: int) -> None:
    """Date every history row of the model `days` ago (the log reads history_date)."""
    model.history.model.objects.update(history_date=datetime.now(UTC) - timedelta(days=days))


def test_changes_since_a_time_leave_out_older_ones_and_still_read_from_and_to(client):
    goal = make_goal("Synthetic goal S")
    compound = make_compound()
    rating = make_rating(compound, goal, tier_number=3)
    _age(Rating, 30)
    _age(Compound, 30)
    rating.tier = tier(2)
    rating.save()
    since = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    body = client.get(f"/api/changes/?since={since}").json()
    assert [c["text"] for c in body["results"]] == [
        "Tier for Synthetic goal S changed from Tier 3 (Probable efficacy) to Tier 2 "
        "(Likely efficacy)."
    ]
    [change] = body["results"]
    assert (change["compound"], change["tier_change"]) == (compound.slug, True)
    everything = client.get("/api/changes/").json()
    assert everything["count"] == 3  # published, rated, tier changed; newest first
    assert everything["results"][0]["key"] == change["key"]


def test_changes_of_one_compound_and_minor_ones_on_request(client):
    compound, other = make_compound(), make_compound()
    rating = make_rating(compound)
    rating.bottom_line = "Synthetic bottom line, typo fixed."
    rating._minor_edit = True
    rating.save()
    listed = client.get(f"/api/changes/?compound={compound.slug}").json()["results"]
    assert {c["compound"] for c in listed} == {compound.slug}
    assert not any(c["minor"] for c in listed)
    with_minor = client.get(f"/api/changes/?compound={compound.slug}&minor=true").json()
    assert any(c["minor"] for c in with_minor["results"])
    assert other.slug not in {c["compound"] for c in with_minor["results"]}


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("/api/compounds/?page=0", 422, "page"),
        ("/api/compounds/?page=abc", 422, "page"),
        (f"/api/compounds/?page_size={MAX_PAGE_SIZE + 1}", 422, "page_size"),
        ("/api/compounds/?page=2", 404, "No page 2"),
        ("/api/compounds/?kind=rock", 422, "kind"),
        ("/api/compounds/?goal=no-such-goal", 404, "Unknown goal: no-such-goal"),
        ("/api/compounds/?goal=a%00", 422, "goal"),
        ("/api/goals/?category=a%00", 422, "category"),
        ("/api/studies/?design=anecdote", 422, "design"),
        ("/api/studies/?source=no-such-source", 404, "Unknown source"),
        ("/api/studies/?compound=no-such-compound", 404, "Unknown compound"),
        ("/api/changes/?since=2026-13-01", 422, "since"),
        ("/api/changes/?since=yesterday", 422, "since"),
        ("/api/changes/?since=0001-01-01T00:00:00%2B14:00", 422, "since"),
        ("/api/changes/?minor=perhaps", 422, "minor"),
    ],
)
def test_bad_list_parameters_are_answered_with_a_message(client, url, status, words):
    response = client.get(url)
    assert response.status_code == status
    assert words in response.json()["detail"]


def test_an_unpublished_compound_is_unknown_to_the_filters(client):
    hidden = make_compound(published=False)
    assert client.get(f"/api/studies/?compound={hidden.slug}").status_code == 404
    assert client.get(f"/api/changes/?compound={hidden.slug}").status_code == 404


# No N+1: the query count does not grow with the page ------------------------------------------


def make_rich_entries(count: int) -> None:
    for _ in range(count):
        source = make_source()
        goal = make_goal()
        compound = make_compound(aliases=["Synthetic alias"])
        make_rating(compound, goal)
        study = make_study(source=source)
        make_finding(compound, goal, study=study)
        make_finding(compound, goal, study=study, measure=Finding.Measure.QUALITATIVE)


LIST_QUERIES = {
    # content version, count, page, then prefetches / lookups
    "/api/compounds/": 5,
    "/api/goals/": 3,
    "/api/studies/": 4,
    "/api/sources/": 3,
    "/api/changes/": 13,  # four counts, four history reads (certainty too), name lookups
}


@pytest.mark.parametrize("url", LIST_QUERIES)
@pytest.mark.parametrize("size", [2, 8])
def test_a_list_costs_the_same_queries_whatever_its_length(
    client, django_assert_num_queries, url, size
):
    make_rich_entries(size)
    with django_assert_num_queries(LIST_QUERIES[url]):
        body = client.get(url).json()
    assert len(body["results"]) >= size


def test_a_filtered_list_adds_one_query_per_slug_it_names(client, django_assert_num_queries):
    make_rich_entries(3)
    goal = Rating.objects.first().goal
    with django_assert_num_queries(LIST_QUERIES["/api/compounds/"] + 1):
        assert client.get(f"/api/compounds/?goal={goal.slug}").json()["count"] == 1


# Deep pages: read from the outline's anchors, never by walking the list before them ------


@pytest.fixture
def short_stretches(monkeypatch):
    """Anchors every 3 entries, so a few entries make a list of several stretches."""
    monkeypatch.setattr(paging, "ANCHOR_EVERY", 3)


PAGED_LISTS = ["/api/compounds/", "/api/goals/", "/api/studies/", "/api/sources/"]


@pytest.mark.parametrize("url", PAGED_LISTS)
def test_a_deep_page_costs_the_same_queries_as_the_first(
    client, django_assert_num_queries, short_stretches, url
):
    make_rich_entries(10)
    with django_assert_num_queries(LIST_QUERIES[url]):
        first = client.get(f"{url}?page_size=1").json()
    cache.clear()  # the deep page outlines the list again, as the first did
    with django_assert_num_queries(LIST_QUERIES[url]):
        deep = client.get(f"{url}?page_size=1&page={first['pages']}").json()
    assert deep["page"] == deep["pages"] == first["count"] >= 10
    assert deep["results"] != first["results"]


@pytest.mark.parametrize("page_size", [1, 2, 3, 4, 7])
def test_every_page_holds_the_entries_of_a_plain_slice_of_the_list(
    client, short_stretches, page_size
):
    make_rich_entries(11)
    hidden = make_compound(published=False)
    make_finding(hidden, Rating.objects.first().goal)  # a study the list leaves out
    lists = {
        "/api/compounds/": Compound.objects.published(),
        "/api/studies/": Study.objects.filter(findings__compound__published=True).distinct(),
    }
    for url, entries in lists.items():
        slugs = list(entries.order_by("slug").values_list("slug", flat=True))
        pages = -(-len(slugs) // page_size)
        for number in range(1, pages + 1):
            body = client.get(f"{url}?page_size={page_size}&page={number}").json()
            start = (number - 1) * page_size
            assert [e["slug"] for e in body["results"]] == slugs[start : start + page_size]


# Whatever the input, never a server error -------------------------------------------------


@pytest.fixture
def demo(db):
    call_command("load_demo", "--deep-dive-only", verbosity=0)


LISTS = ["/api/compounds/", "/api/goals/", "/api/studies/", "/api/sources/", "/api/changes/"]
LIST_PARAMETERS = [
    "page",
    "page_size",
    "goal",
    "kind",
    "category",
    "design",
    "source",
    "compound",
    "since",
    "minor",
]
values = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "0",
            "1",
            "200",
            "201",
            "1e309",
            "NaN",
            "true",
            "\x00",
            "liver-health",
            "thymosin-alpha-1",
            "rct",
            "peptide",
            "2026-01-01",
            "9999-12-31T23:59:59-14:00",
            "0001-01-01T00:00:00+14:00",
            "2026-02-30",
            "x" * 5000,
        ]
    ),
    st.datetimes().map(lambda d: d.isoformat()),
)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(LISTS),
    query=st.lists(st.tuples(st.sampled_from(LIST_PARAMETERS), values), max_size=6),
)
def test_no_page_page_size_or_filter_makes_a_list_fail(client, demo, path, query):
    response = client.get(f"{path}?{urlencode(query)}")
    assert response.status_code in {200, 404, 422}, query
    if response.status_code != 200:
        assert response.json()["detail"]


def test_a_lists_size_is_counted_once_for_all_its_pages(client, django_assert_num_queries):
    make_rich_entries(4)
    first = client.get("/api/studies/?page_size=1").json()
    assert first["count"] >= 4
    # The next page (not cached yet) reads the version and its page, not the count again.
    with django_assert_num_queries(LIST_QUERIES["/api/studies/"] - 1):
        second = client.get("/api/studies/?page_size=1&page=2").json()
    assert second["count"] == first["count"]
    make_rich_entries(1)  # an edit: counted again
    assert client.get("/api/studies/?page_size=1&page=2").json()["count"] == first["count"] + 1
