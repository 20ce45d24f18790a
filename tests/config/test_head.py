"""HEAD is answered like GET on every public page: the same status and headers, no body."""

import pytest
from django.core.management import call_command

from evidence.models import Offer

PAGES = [
    "/goals/liver-health/why/thymosin-alpha-1/",
    "/",
    "/?goals=liver-health",
    "/goals/liver-health/",
    "/compounds/",
    "/compounds/?q=thymosin",
    "/compounds/thymosin-alpha-1/",
    "/compounds/thymosin-alpha-1/evidence/liver-health/",
    "/research/",
    "/research/?goal=liver-health",
    "/research/thymosin-alpha-1-for-liver-health/",
    "/goals/",
    "/sitemap.xml",
    "/robots.txt",
    "/vendors/",
    "/vendors/synthetic-example-vendor/",
    "/methodology/",
    "/changes/",
    "/changes/?compound=thymosin-alpha-1",
    "/changes/feed/",
    "/how-we-make-money/",
    "/compounds/thymosin-alpha-1/changes/feed/",
    "/healthz",
    "/api/goals/",
    "/api/goals/liver-health/ranking/",
    "/api/stack/?goals=liver-health",
    "/api/compounds/thymosin-alpha-1/",
    "/api/compounds/",
    "/api/studies/?goal=liver-health",
    "/api/sources/",
    "/api/changes/",
    "/data/",
]
# Headers that differ between any two requests, whatever their method (the second of two
# requests finds the first one's answer in the cache: X-Cache).
VOLATILE = {"Date", "Set-Cookie", "X-Cache"}


@pytest.fixture
def demo(db):
    call_command("load_demo", "--deep-dive-only", verbosity=0)


def comparable(response) -> dict:
    return {k: v for k, v in response.headers.items() if k not in VOLATILE}


@pytest.mark.parametrize("url", PAGES)
def test_head_is_answered_like_get_without_a_body(client, demo, url):
    head = client.head(url)
    get = client.get(url)

    assert get.status_code == 200
    assert head.status_code == get.status_code
    assert comparable(head) == comparable(get)
    assert head.content == b""


def test_head_on_the_outbound_link_redirects_like_get_and_counts_no_click(client, demo):
    offer = Offer.objects.visible().first()
    head = client.head(f"/go/{offer.pk}/")
    get = client.get(f"/go/{offer.pk}/")

    assert head.status_code == get.status_code == 302
    assert head["Location"] == get["Location"] == offer.url
    clicks = Offer.objects.with_click_total().get(pk=offer.pk).click_total
    assert clicks == 1  # a link preview's HEAD is no visit
