"""The goal page (/goals/<slug>/) in a real browser: live filters and the back button."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LIVER, OTHER, PHONE, TA1

pytestmark = pytest.mark.browser


def test_filters_update_the_ranking_and_the_back_button_restores_them(page, demo):
    page.goto(f"/goals/{LIVER}/")
    ranked = page.locator(".ranked-list .ranked__name")
    expect(ranked).to_have_text([TA1, OTHER])
    evidence_map = page.get_by_role("group", name=re.compile("^Evidence map for Liver health"))
    expect(evidence_map).to_be_visible()
    expect(evidence_map.get_by_role("link")).to_have_count(2)  # every mark is a link
    page.evaluate("window.__marker = 1")

    page.get_by_label("Pregnant").check()
    expect(ranked).to_have_text([OTHER])
    page.get_by_label("Breastfeeding").check()
    expect(page).to_have_url(re.compile(r"condition=pregnancy&condition=breastfeeding"))
    expect(page.locator(".excluded .reason")).to_have_count(2)

    page.go_back()

    expect(page).to_have_url(re.compile(r"condition=pregnancy(?!&condition=breastfeeding)"))
    expect(page.locator(".excluded .reason")).to_have_count(1)
    expect(page.get_by_label("Breastfeeding")).not_to_be_checked()
    expect(page.get_by_label("Pregnant")).to_be_checked()
    assert page.evaluate("window.__marker") == 1, "the page was reloaded"


def test_on_a_phone_the_ranking_is_on_the_first_screen_with_the_filters_collapsed(new_page, demo):
    page = new_page(**PHONE)
    page.goto(f"/goals/{LIVER}/")
    filters = page.locator("details.filters-disclosure")
    expect(filters).not_to_have_attribute("open", "")
    expect(page.get_by_label("Pregnant")).to_be_hidden()
    expect(page.locator(".ranked-list .ranked__name").first).to_be_in_viewport()
    expect(page.locator("#results .disclaimer")).not_to_be_in_viewport()
    expect(page.locator("#results .disclaimer")).to_have_count(1)

    page.get_by_text("Filters", exact=True).tap()
    page.get_by_label("Pregnant").check()

    expect(page.locator("#ranking-status")).to_have_text(
        "1 compound ranked · 1 excluded by your filters"
    )
    expect(page.locator("#filter-count")).to_have_text("(1 in use)")
    expect(page.locator(".ranked-list .ranked__name")).to_have_text([OTHER])


def test_on_a_desktop_the_filters_are_open_beside_the_ranking(page, demo):
    page.goto(f"/goals/{LIVER}/")
    expect(page.locator("details.filters-disclosure")).to_have_attribute("open", "")
    expect(page.get_by_label("Pregnant")).to_be_visible()


def test_without_javascript_the_filters_open_and_apply(new_page, demo):
    page = new_page(java_script_enabled=False)
    page.goto(f"/goals/{LIVER}/")
    page.get_by_text("Filters", exact=True).click()
    page.get_by_label("Pregnant").check()
    page.get_by_role("button", name="Apply filters").click()

    expect(page).to_have_url(re.compile(r"condition=pregnancy"))
    expect(page.locator(".ranked-list .ranked__name")).to_have_text([OTHER])
    expect(page.locator("#filter-count")).to_have_text("(1 in use)")
