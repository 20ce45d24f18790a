"""/sitemap.xml: every public page, at the address it names as canonical, and nothing a
visitor cannot open."""

import re
from xml.etree import ElementTree

import pytest
from django.core.management import call_command

from tests.factories import (
    make_article,
    make_compound,
    make_finding,
    make_goal,
    make_rating,
    make_vendor,
)
from tests.factories.pages import full_page

pytestmark = pytest.mark.django_db

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
ORIGIN = "http://testserver"


def locations(client, **extra) -> list[str]:
    response = client.get("/sitemap.xml", **extra)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    tree = ElementTree.fromstring(response.content)
    return [loc.text for loc in tree.findall("s:url/s:loc", NS)]


def paths(client) -> set[str]:
    return {loc.removeprefix(ORIGIN) for loc in locations(client)}


def canonical(html: str) -> str:
    return re.search(r'<link rel="canonical" href="([^"]+)">', html)[1]


def test_the_demo_sitemap_names_every_kind_of_public_page(client):
    call_command("load_demo", "--deep-dive-only", verbosity=0)

    found = paths(client)

    expected = {
        "/",
        "/goals/",
        "/goals/liver-health/",
        "/compounds/",
        "/compounds/thymosin-alpha-1/",
        "/compounds/thymosin-alpha-1/evidence/liver-health/",
        "/research/",
        "/research/thymosin-alpha-1-for-liver-health/",
        "/vendors/",
        "/vendors/synthetic-example-vendor/",
        "/methodology/",
        "/how-we-make-money/",
        "/changes/",
    }
    assert expected <= found


def test_every_address_in_the_sitemap_answers_and_names_itself_canonical(client):
    call_command("load_demo", "--deep-dive-only", verbosity=0)
    for loc in locations(client):
        response = client.get(loc.removeprefix(ORIGIN))
        assert response.status_code == 200, loc
        assert canonical(full_page(response)) == loc


def test_what_visitors_cannot_open_is_left_out(client):
    goal = make_goal()
    shown, hidden = make_compound(), make_compound(published=False)
    for compound in (shown, hidden):
        make_rating(compound, goal)
        make_article(compound, goal, slug=f"synthetic-dive-{compound.slug}")
    make_article(shown, goal, slug="synthetic-draft-dive", published=False)
    make_vendor(slug="synthetic-closed-vendor", active=False)

    found = paths(client)

    assert f"/compounds/{shown.slug}/evidence/{goal.slug}/" in found
    assert f"/research/synthetic-dive-{shown.slug}/" in found
    for path in (
        f"/compounds/{hidden.slug}/",
        f"/compounds/{hidden.slug}/evidence/{goal.slug}/",
        f"/research/synthetic-dive-{hidden.slug}/",
        "/research/synthetic-draft-dive/",
        "/vendors/synthetic-closed-vendor/",
    ):
        assert path not in found, path


def test_an_evidence_page_with_findings_but_no_rating_is_listed_once(client):
    compound, goal = make_compound(), make_goal()
    make_finding(compound, goal)
    make_finding(compound, goal)
    found = locations(client)
    assert found.count(f"{ORIGIN}/compounds/{compound.slug}/evidence/{goal.slug}/") == 1


def test_a_sitemap_read_over_https_names_https_addresses(client):
    make_compound()
    assert all(loc.startswith("http://") for loc in locations(client))
    # Cached under its own scheme: the plain-HTTP copy is not served.
    assert all(loc.startswith("https://") for loc in locations(client, secure=True))


@pytest.mark.parametrize("page", ["2", "x"])
def test_a_page_past_the_end_is_404(client, page):
    assert client.get("/sitemap.xml", {"p": page}).status_code == 404


@pytest.mark.parametrize("size", [1, 10])
def test_the_sitemap_reads_a_constant_number_of_queries(
    client, django_assert_max_num_queries, size
):
    for _ in range(size):
        compound, goal = make_compound(), make_goal()
        make_rating(compound, goal)
        make_finding(compound, goal)
        make_article(compound, goal)
        make_vendor()
    # The content version; goals, compounds, articles and vendors once each; the evidence
    # pages from the ratings and the findings.
    with django_assert_max_num_queries(7):
        assert client.get("/sitemap.xml").status_code == 200
