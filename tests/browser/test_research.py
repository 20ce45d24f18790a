"""The research deep dive on a phone (390x844): it fits the screen, and its links lead on."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LIVER, PHONE, TA1, TA1_SLUG, horizontal_overflow, screenshot

pytestmark = pytest.mark.browser

ARTICLE = "/research/thymosin-alpha-1-for-liver-health/"
TITLE = "Thymosin Alpha-1 for Liver Health: What the Research Says"
# The first page a browser session opens took 6 to 8 s on a loaded 2-core machine (the
# suite's default is 5 s); the checks below are about layout and links, not speed.
LOAD_MS = 30_000


def test_the_deep_dive_fits_a_phone_screen_without_sideways_scrolling(new_page, demo):
    page = new_page(**PHONE)
    page.goto(ARTICLE, timeout=LOAD_MS)
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    screenshot(page, "research-article-phone")
    assert horizontal_overflow(page) == 0
    # The tier and the way on to the evidence come before the long read on a phone.
    callout = page.get_by_role("heading", name="Evidence tier for liver health")
    overview = page.get_by_role("heading", name="Overview", exact=True)
    assert callout.bounding_box()["y"] < overview.bounding_box()["y"]


def test_the_deep_dives_builder_link_opens_the_builder_with_its_goal_picked(new_page, demo):
    page = new_page(**PHONE)
    page.goto(ARTICLE, timeout=LOAD_MS)
    page.get_by_role("link", name="Build a stack for liver health").click()
    expect(page).to_have_url(re.compile(rf"/\?goals={LIVER}$"))
    expect(page.locator(f"#goal-{LIVER}")).to_be_checked()


def test_the_deep_dives_vendor_link_lands_on_where_to_buy(new_page, demo):
    page = new_page(**PHONE)
    page.goto(ARTICLE, timeout=LOAD_MS)
    page.get_by_role("link", name="find a vendor").click()
    expect(page).to_have_url(re.compile(rf"/compounds/{TA1_SLUG}/#where-to-buy$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(TA1)
    expect(page.get_by_role("heading", name="Where to buy")).to_be_in_viewport()


@pytest.mark.parametrize("path", ["/research/", "/goals/"])
def test_the_research_index_and_goals_index_fit_a_phone_screen(new_page, demo, path):
    page = new_page(**PHONE)
    page.goto(path, timeout=LOAD_MS)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert horizontal_overflow(page) == 0
