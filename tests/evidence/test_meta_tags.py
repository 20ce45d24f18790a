"""Every public page names its canonical address, a description and Open Graph tags (the
block in templates/base.html's <head>, filled per page)."""

import html as html_lib
import re

import pytest
from django.core.management import call_command

from tests.factories import make_compound
from tests.factories.pages import full_page

pytestmark = pytest.mark.django_db

ORIGIN = "http://testserver"
DEFAULT_DESCRIPTION = (
    "Compounds ranked by the strength of the scientific evidence for your health goals."
)
ARTICLE = "/research/thymosin-alpha-1-for-liver-health/"
# Each page, and the address it should name as canonical: the path and only the parameters
# the page reads, normalised.
PAGES = {
    "/": "/",
    "/?goals=liver-health": "/?goals=liver-health",
    "/?utm_source=synthetic&goals=liver-health&goals=liver-health": "/?goals=liver-health",
    "/goals/": "/goals/",
    "/goals/liver-health/": "/goals/liver-health/",
    "/compounds/": "/compounds/",
    "/compounds/?q=thymosin&fbclid=synthetic": "/compounds/?q=thymosin",
    "/compounds/thymosin-alpha-1/": "/compounds/thymosin-alpha-1/",
    "/compounds/thymosin-alpha-1/evidence/liver-health/": (
        "/compounds/thymosin-alpha-1/evidence/liver-health/"
    ),
    "/research/": "/research/",
    "/research/?goal=liver-health": "/research/?goal=liver-health",
    ARTICLE: ARTICLE,
    "/vendors/": "/vendors/",
    "/vendors/synthetic-example-vendor/": "/vendors/synthetic-example-vendor/",
    "/methodology/": "/methodology/",
    "/changes/": "/changes/",
    "/how-we-make-money/": "/how-we-make-money/",
}


@pytest.fixture
def demo():
    call_command("load_demo", "--deep-dive-only", verbosity=0)


def head_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    page = full_page(response)
    return page[: page.index("</head>")]


def one(pattern: str, head: str) -> str:
    found = re.findall(pattern, head)
    assert len(found) == 1, (pattern, found)
    return html_lib.unescape(found[0])


def meta(head: str, key: str, name: str) -> str:
    return one(rf'<meta {key}="{re.escape(name)}" content="([^"]*)">', head)


@pytest.mark.parametrize("url", PAGES)
def test_every_public_page_names_its_canonical_address_description_and_open_graph_tags(
    client, demo, url
):
    head = head_of(client, url)

    canonical = one(r'<link rel="canonical" href="([^"]+)">', head)
    assert canonical == ORIGIN + PAGES[url]
    description = meta(head, "name", "description")
    assert len(description) > 40
    if PAGES[url] != "/":
        assert description != DEFAULT_DESCRIPTION  # each page says what it is
    title = one(r"<title>(.+?) · Evidence Stack Builder</title>", head)
    assert meta(head, "property", "og:title") == title
    assert meta(head, "property", "og:description") == " ".join(description.split())
    assert meta(head, "property", "og:url") == canonical
    assert meta(head, "property", "og:site_name") == "Evidence Stack Builder"
    expected_type = "article" if url == ARTICLE else "website"
    assert meta(head, "property", "og:type") == expected_type


def test_a_page_names_the_host_it_was_asked_for_even_when_cached_under_another(client):
    compound = make_compound()
    url = compound.get_absolute_url()
    first = head_of(client, url)
    second = client.get(url, HTTP_HOST="localhost").content.decode()
    assert f'<link rel="canonical" href="http://testserver{url}">' in first
    assert f'<link rel="canonical" href="http://localhost{url}">' in second


def test_a_name_in_the_meta_tags_is_escaped(client):
    compound = make_compound('Synthetic "quoted" <b>name</b>')
    head = head_of(client, compound.get_absolute_url())
    assert "<b>" not in head
    assert meta(head, "property", "og:title") == 'Synthetic "quoted" <b>name</b>'


def test_a_page_not_found_names_no_canonical_address(client):
    response = client.get("/compounds/synthetic-no-such-compound/")
    assert response.status_code == 404
    html = response.content.decode()
    assert 'rel="canonical"' not in html and "og:url" not in html
