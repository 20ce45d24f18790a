"""The goal page (/goals/<slug>/) in a real browser: live filters and the back button."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LIVER, OTHER, TA1

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
