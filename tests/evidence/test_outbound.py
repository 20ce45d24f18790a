"""The outbound redirect (/go/<offer>/): counts a click, sends to the stored address only."""

import time
from datetime import date

import pytest
from django.core.cache import caches
from django.urls import reverse

from evidence.admin import OfferAdmin, VendorAdmin
from evidence.models import Offer, Vendor
from tests.factories import make_clicks, make_compound, make_offer, make_vendor
from tests.factories.admin import admin_url, assert_saved, form_data
from tests.factories.personas import logged_in, vendor_account, vendor_manager

pytestmark = pytest.mark.django_db


def clicks_on(offer: Offer) -> int:
    return Offer.objects.with_click_total().get(pk=offer.pk).click_total


def test_outbound_counts_a_click_and_redirects_to_the_stored_url(client):
    offer = make_offer(make_compound(), url="https://shop.example.com/product/1")
    response = client.get(
        reverse("outbound", args=[offer.pk]), {"next": "https://evil.example.com/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "https://shop.example.com/product/1"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert clicks_on(offer) == 1
    client.get(reverse("outbound", args=[offer.pk]), REMOTE_ADDR="198.51.100.2")  # another visitor
    assert clicks_on(offer) == 2


def test_outbound_is_404_for_unknown_offer(client):
    assert client.get(reverse("outbound", args=[999999])).status_code == 404


def test_outbound_is_404_for_inactive_vendor_or_unpublished_compound(client):
    hidden_vendor = make_offer(make_compound(), make_vendor(active=False))
    hidden_compound = make_offer(make_compound(published=False))
    for offer in (hidden_vendor, hidden_compound):
        assert client.get(reverse("outbound", args=[offer.pk])).status_code == 404
        assert clicks_on(offer) == 0


def test_outbound_accepts_only_get(client):
    offer = make_offer(make_compound())
    assert client.post(reverse("outbound", args=[offer.pk])).status_code == 405
    assert clicks_on(offer) == 0


# No save loses a click


@pytest.mark.parametrize(
    ("admin_class", "page_of", "price_field"),
    [
        (OfferAdmin, lambda offer: admin_url(Offer, "change", offer.pk), "price"),
        (VendorAdmin, lambda offer: admin_url(Vendor, "change", offer.vendor_id), "offers-0-price"),
    ],
    ids=["offer page", "vendor page with its offers inline"],
)
def test_clicks_during_an_admin_save_are_all_counted(
    client, monkeypatch, admin_class, page_of, price_field
):
    offer = make_offer(make_compound(), price="40.00")
    client.get(reverse("outbound", args=[offer.pk]))
    manager = logged_in(vendor_manager())
    page = manager.get(page_of(offer))
    save_model = admin_class.save_model

    def clicks_then_save(self, request, obj, form, change):
        # The admin read the offer when this request began; three visitors click meanwhile.
        for visitor in range(3):
            address = f"198.51.100.{visitor + 10}"
            click = client.get(reverse("outbound", args=[offer.pk]), REMOTE_ADDR=address)
            assert click.status_code == 302
        save_model(self, request, obj, form, change)

    monkeypatch.setattr(admin_class, "save_model", clicks_then_save)
    assert_saved(manager.post(page_of(offer), form_data(page, **{price_field: "35.50"})))

    assert str(Offer.objects.get(pk=offer.pk).price) == "35.50"
    assert clicks_on(offer) == 4


def test_the_admin_shows_each_offer_its_clicks_over_all_days():
    offer = make_offer(make_compound())
    make_clicks(offer, 40, day=date(2026, 1, 1))
    make_clicks(offer, 2)
    make_offer(make_compound(), vendor=offer.vendor)  # no clicks yet
    for user in (vendor_manager(), vendor_account(offer.vendor)):
        browser = logged_in(user)
        changelist = browser.get(admin_url(Offer, "changelist"))
        assert [row.click_total for row in changelist.context["cl"].result_list] in (
            [42, 0],
            [0, 42],
        )
        assert b'<td class="field-clicks">42</td>' in changelist.content
        change_page = browser.get(admin_url(Offer, "change", offer.pk))
        assert b'<div class="readonly">42</div>' in change_page.content


# Clicks from bots and repeats do not count; the visitor is always redirected

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
BOTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot/1.0",
    "curl/8.5.0",
    "python-requests/2.32.3",
]


def click(client, offer, address="192.0.2.1", agent=FIREFOX):
    response = client.get(
        reverse("outbound", args=[offer.pk]), REMOTE_ADDR=address, HTTP_USER_AGENT=agent
    )
    assert response.status_code == 302
    assert response["Location"] == offer.url
    return response


@pytest.mark.parametrize("agent", BOTS)
def test_a_known_bots_click_is_redirected_but_not_counted(client, agent):
    offer = make_offer(make_compound())
    click(client, offer, agent=agent)
    assert clicks_on(offer) == 0


def test_repeat_clicks_of_one_visitor_on_one_offer_count_once(client):
    offer = make_offer(make_compound())
    for _ in range(5):
        click(client, offer)
    assert clicks_on(offer) == 1


def test_other_visitors_and_other_offers_count_on_their_own(client):
    offer, other_offer = make_offer(make_compound()), make_offer(make_compound())
    click(client, offer)
    click(client, offer, address="192.0.2.2")  # another address
    click(client, offer, agent=FIREFOX.replace("128", "129"))  # another browser
    click(client, other_offer)
    assert (clicks_on(offer), clicks_on(other_offer)) == (3, 1)


def test_a_repeat_click_after_the_window_counts_again(client, monkeypatch, settings):
    from evidence.clicks import REPEAT_WINDOW

    # Local memory, whose clock the test can move (a Redis server keeps its own).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    offer = make_offer(make_compound())
    click(client, offer)
    click(client, offer)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + REPEAT_WINDOW + 1)
    click(client, offer)
    assert clicks_on(offer) == 2


def test_the_visitor_key_is_a_salted_hash_that_changes_every_day(client, settings):
    from evidence.clicks import visitor_key

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    offer = make_offer(make_compound())
    click(client, offer, address="203.0.113.77")
    assert not any("203.0.113.77" in key for key in caches["default"]._cache)

    monday = visitor_key("203.0.113.77", FIREFOX, date(2026, 11, 30))
    assert monday == visitor_key("203.0.113.77", FIREFOX, date(2026, 11, 30))
    assert monday != visitor_key("203.0.113.77", FIREFOX, date(2026, 12, 1))
    assert monday != visitor_key("203.0.113.78", FIREFOX, date(2026, 11, 30))
    assert "203.0.113.77" not in monday


def test_with_the_cache_down_every_click_counts(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/1",
        }
    }
    offer = make_offer(make_compound())
    for _ in range(3):
        click(client, offer)
    assert clicks_on(offer) == 3
