"""A vendor's page (/vendors/<slug>/): its offers of published compounds."""

import pytest
from django.urls import reverse

from tests.factories import make_compound, make_offer, make_vendor
from tests.factories.pages import build_catalogue, full_page

pytestmark = pytest.mark.django_db


def test_vendor_detail_lists_offers_with_compound_links(client):
    vendor = make_vendor("Good Labs")
    compound = make_compound("Zinc", slug="zinc")
    offer = make_offer(compound, vendor, product_name="Zinc 50 mg caps")
    make_offer(make_compound("Draft", published=False), vendor, product_name="Draft product")
    response = client.get(reverse("vendor_detail", args=[vendor.slug]))
    assert response.status_code == 200
    html = full_page(response)
    assert "Zinc 50 mg caps" in html and reverse("compound_detail", args=["zinc"]) in html
    assert f'href="/go/{offer.pk}/" rel="nofollow sponsored noopener"' in html
    assert "Draft product" not in html


def test_inactive_or_unknown_vendor_is_404(client):
    closed = make_vendor(active=False)
    assert client.get(reverse("vendor_detail", args=[closed.slug])).status_code == 404
    assert client.get(reverse("vendor_detail", args=["no-such"])).status_code == 404


# The page also reads the content version once, for its cache key (evidence.cache); this
# count is for a cold cache.
@pytest.mark.parametrize("size", [1, 10])
def test_vendor_detail_query_count_is_constant(client, django_assert_max_num_queries, size):
    vendor = build_catalogue(size)
    with django_assert_max_num_queries(3):
        assert client.get(reverse("vendor_detail", args=[vendor.slug])).status_code == 200
