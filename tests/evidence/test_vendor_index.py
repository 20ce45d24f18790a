"""The vendor index (/vendors/): active vendors, their testing and offer counts."""

import pytest
from django.urls import reverse

from tests.factories import make_compound, make_offer, make_vendor
from tests.factories.pages import build_catalogue, full_page

pytestmark = pytest.mark.django_db


def test_vendor_index_lists_active_vendors_with_testing_and_offer_counts(client):
    good = make_vendor(
        "Good Labs", country="Germany", third_party_tested=True, description="Tests every batch."
    )
    make_vendor("Closed Shop", active=False)
    make_offer(make_compound(), good)
    make_offer(make_compound(), good)
    make_offer(make_compound(published=False), good)
    response = client.get(reverse("vendor_index"))
    assert response.status_code == 200
    html = full_page(response)
    assert "Good Labs" in html and "Germany" in html and "Tests every batch." in html
    assert "2 offers" in html
    assert "Third-party tested" in html and "No certificate of analysis" in html
    assert "Closed Shop" not in html


# The page also reads the content version once, for its cache key (evidence.cache); this
# count is for a cold cache.
@pytest.mark.parametrize("size", [1, 10])
def test_vendor_index_query_count_is_constant(client, django_assert_max_num_queries, size):
    build_catalogue(size)
    with django_assert_max_num_queries(2):
        assert client.get(reverse("vendor_index")).status_code == 200
