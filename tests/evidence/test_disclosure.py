"""The disclosure page, "How we make money": linked from every list of offer links and from
the footer of every page."""

import re

import pytest
from django.urls import reverse

from tests.factories import make_compound, make_offer, make_vendor
from tests.factories.pages import DISCLAIMER
from tests.factories.personas import anonymous_visitor

pytestmark = pytest.mark.django_db

DISCLOSURE = reverse("disclosure")


def test_the_disclosure_says_links_earn_nothing_and_rankings_never_depend_on_vendors():
    page = anonymous_visitor().get(DISCLOSURE)
    assert page.status_code == 200
    assert "We have no affiliate, referral or sponsorship arrangement with any vendor" in page.text
    assert "Rankings never depend on vendors" in page.text
    assert DISCLAIMER in page.text


def offer_link_areas(html: str) -> int:
    return len(re.findall(r'href="/go/\d+/"', html))


def test_the_compound_page_links_the_disclosure_beside_its_offer_links():
    compound = make_compound()
    make_offer(compound)
    html = anonymous_visitor().get(compound.get_absolute_url()).text
    where_to_buy = html[html.index('id="where-to-buy"') :]
    assert offer_link_areas(where_to_buy) == 1
    assert f'href="{DISCLOSURE}"' in where_to_buy[: where_to_buy.index('href="/go/')]


def test_the_vendor_page_links_the_disclosure_before_its_offer_links():
    vendor = make_vendor()
    make_offer(make_compound(), vendor=vendor)
    html = anonymous_visitor().get(vendor.get_absolute_url()).text
    assert offer_link_areas(html) == 1
    main = html[html.index('id="main"') :]
    assert f'href="{DISCLOSURE}"' in main[: main.index('href="/go/')]


@pytest.mark.parametrize("url", ["/", "/compounds/", "/vendors/", "/methodology/", "/changes/"])
def test_every_page_links_the_disclosure_and_the_change_log_in_its_footer(url):
    html = anonymous_visitor().get(url).text
    footer = html[html.index('class="site-footer"') :]
    assert f'href="{DISCLOSURE}"' in footer
    assert 'href="/changes/"' in footer
