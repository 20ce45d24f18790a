"""The goals index (/goals/) in a real browser with more goals than it lists open: opening a
category fetches its goals in place, a search lists its matches as you type, and both work
with JavaScript off."""

import re

import pytest
from playwright.sync_api import Page, expect

from stacks.views import GOAL_INDEX_ALL_OPEN
from tests.browser.conftest import LIVER, PHONE, horizontal_overflow
from tests.browser.test_accessibility import AXE, axe_violations
from tests.factories import make_goal

pytestmark = pytest.mark.browser


@pytest.fixture
def many_goals(demo):
    """The demo goals (Liver health under Organ health) and enough synthetic ones, in their
    own categories, for the index to list the categories closed."""
    for i in range(GOAL_INDEX_ALL_OPEN):
        make_goal(
            f"Synthetic goal {i:02}",
            slug=f"synthetic-goal-{i:02}",
            category=f"Synthetic category {i % 10}",
            description="Synthetic description.",
        )


def organ_health(page: Page):
    return page.locator("#goal-category-organ-health")


def test_opening_a_category_fetches_its_goals_as_links_to_their_pages(page, many_goals):
    page.goto("/goals/")
    expect(page.locator("details.goal-category")).to_have_count(12)
    expect(organ_health(page)).not_to_have_attribute("open", "")

    organ_health(page).locator("summary").click()

    goals = organ_health(page).get_by_role("heading", level=3)
    expect(goals).to_have_text(["Liver health"])
    expect(page).to_have_url(re.compile(r"/goals/$"))  # opening is not a new address
    goals.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/goals/{LIVER}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Liver health")


def test_typing_a_search_lists_the_matching_goals_as_links(page, many_goals):
    page.goto("/goals/")
    page.get_by_role("searchbox", name="Find a goal").fill("liver")

    matches = page.locator("#goal-matches")
    expect(matches.get_by_role("link")).to_have_text(["Liver health"])
    expect(page).to_have_url(re.compile(r"/goals/\?q=liver$"))
    matches.get_by_role("link", name="Liver health").click()
    expect(page).to_have_url(re.compile(rf"/goals/{LIVER}/$"))


def test_without_javascript_a_category_link_opens_it_on_a_new_page(new_page, many_goals):
    page = new_page(java_script_enabled=False)
    page.goto("/goals/")
    organ_health(page).locator("summary").click()
    organ_health(page).get_by_role("link", name="Show the 1 goal in Organ health").click()

    expect(page).to_have_url(
        re.compile(r"/goals/\?category=Organ\+health#goal-category-organ-health$")
    )
    expect(organ_health(page)).to_have_attribute("open", "")
    expect(organ_health(page).get_by_role("link", name="Liver health")).to_be_visible()


def test_without_javascript_a_search_lists_the_matches(new_page, many_goals):
    page = new_page(java_script_enabled=False)
    page.goto("/goals/")
    search = page.get_by_role("searchbox", name="Find a goal")
    search.fill("immune")
    search.press("Enter")

    expect(page.locator("#goal-matches").get_by_role("link")).to_have_text(["Immune function"])
    expect(page.get_by_role("searchbox", name="Find a goal")).to_have_value("immune")


def test_on_a_phone_the_page_with_a_category_open_fits_the_screen(new_page, many_goals):
    page = new_page(**PHONE)
    page.goto("/goals/?q=synthetic")
    organ_health(page).locator("summary").tap()
    expect(organ_health(page).get_by_role("link", name="Liver health")).to_be_visible()
    assert horizontal_overflow(page) == 0


@pytest.mark.parametrize("device", [{}, PHONE], ids=["desktop", "phone"])
def test_axe_finds_no_violations_with_a_category_open_and_a_search(new_page, many_goals, device):
    if not AXE.exists():
        pytest.skip(f"axe-core not installed at {AXE}; run `npm ci`")
    page = new_page(**device, bypass_csp=True)
    page.goto("/goals/?q=synthetic+goal+0")
    organ_health(page).locator("summary").click()
    expect(organ_health(page).get_by_role("link", name="Liver health")).to_be_visible()
    assert axe_violations(page, []) == []
