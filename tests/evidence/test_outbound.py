"""The outbound redirect (/go/<offer>/): counts a click, sends to the stored address only."""

import pytest
from django.urls import reverse

from evidence.models import Offer
from tests.factories import make_compound, make_offer, make_vendor

pytestmark = pytest.mark.django_db


def test_outbound_counts_a_click_and_redirects_to_the_stored_url(client):
    offer = make_offer(make_compound(), url="https://shop.example.com/product/1")
    response = client.get(
        reverse("outbound", args=[offer.pk]), {"next": "https://evil.example.com/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "https://shop.example.com/product/1"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    offer.refresh_from_db()
    assert offer.click_count == 1
    client.get(reverse("outbound", args=[offer.pk]))
    offer.refresh_from_db()
    assert offer.click_count == 2


def test_outbound_is_404_for_unknown_offer(client):
    assert client.get(reverse("outbound", args=[999999])).status_code == 404


def test_outbound_is_404_for_inactive_vendor_or_unpublished_compound(client):
    hidden_vendor = make_offer(make_compound(), make_vendor(active=False))
    hidden_compound = make_offer(make_compound(published=False))
    for offer in (hidden_vendor, hidden_compound):
        assert client.get(reverse("outbound", args=[offer.pk])).status_code == 404
        offer.refresh_from_db()
        assert offer.click_count == 0


def test_outbound_accepts_only_get(client):
    offer = make_offer(make_compound())
    assert client.post(reverse("outbound", args=[offer.pk])).status_code == 405
    assert Offer.objects.get(pk=offer.pk).click_count == 0
