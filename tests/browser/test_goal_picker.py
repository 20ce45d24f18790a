"""The builder's goal picker in a real browser: a search and a category fetch their goals in
place, a goal listed twice shows one state, and both work with JavaScript off."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LIVER, PHONE, TA1
from tests.factories import make_goal

pytestmark = pytest.mark.browser


def picker(page: Page):
    return page.get_by_role("group", name="Your goals")


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_typing_a_search_lists_the_matching_goals_to_tick(page, demo):
    make_goal("Synthetic liver detox claims", category="Synthetic claims")
    page.goto("/")
    picker(page).get_by_role("searchbox", name="Find a goal").fill("liver")

    matches = page.locator("#goal-matches")
    expect(matches.locator("label.goal-chip")).to_have_text(
        ["Liver health", "Synthetic liver detox claims"]
    )
    matches.get_by_text("Liver health", exact=True).click()

    expect(page.locator(".stack-pick__name").first).to_have_text(TA1)
    expect(page).to_have_url(re.compile(rf"/\?goals={LIVER}\b"))
    assert "goal_q" not in query(page)  # the search is not a filter of the results
    # Both copies of the goal (a match, and among the most researched) show it ticked.
    expect(page.locator(f"#goal-found-{LIVER}")).to_be_checked()
    expect(page.locator(f"#goal-top-{LIVER}")).to_be_checked()


def test_a_search_with_no_match_says_so(page, demo):
    page.goto("/")
    picker(page).get_by_role("searchbox", name="Find a goal").fill("zzzz")
    expect(page.locator("#goal-matches")).to_have_text(
        "No goal matches “zzzz”. Browse the categories below."
    )


def test_opening_a_category_fetches_its_goals_and_a_tick_there_counts_everywhere(page, demo):
    make_goal("Synthetic kidney health", category="Organ health")
    page.goto("/")
    picker(page).get_by_text("Liver health", exact=True).click()
    expect(page.locator("#stack-summary")).to_contain_text("1 goal ·")

    organs = page.locator("#goal-category-organ-health")
    organs.locator("summary").click()
    expect(organs.locator("label.goal-chip")).to_have_text(
        ["Liver health", "Synthetic kidney health"]
    )
    # The goal already ticked among the most researched is ticked in its category too ...
    expect(organs.get_by_role("checkbox", name="Liver health")).to_be_checked()

    # ... and unticking it there unticks it everywhere: no goal is left in the query.
    organs.get_by_text("Liver health", exact=True).click()
    expect(page.locator("#stack-summary")).to_have_text("No goal picked yet.")
    expect(page.locator(f"#goal-top-{LIVER}")).not_to_be_checked()
    assert "goals" not in query(page)


def test_without_javascript_a_category_button_opens_it_on_a_new_page(new_page, demo):
    page = new_page(java_script_enabled=False)
    page.goto("/")
    page.locator("#goal-category-organ-health summary").click()
    page.get_by_role("button", name="Show the 1 goal in Organ health").click()

    expect(page).to_have_url(
        re.compile(r"goal_category=Organ\+health.*#goal-category-organ-health$")
    )
    page.locator(f"label[for=goal-in-{LIVER}]").click()
    page.get_by_role("button", name="Show my stack").click()

    assert query(page)["goals"] == [LIVER]
    expect(page.locator(".stack-pick__name").first).to_have_text(TA1)
    expect(page.locator(f"#goal-{LIVER}")).to_be_checked()  # now among the chosen


def test_without_javascript_opening_a_category_keeps_the_choices_not_yet_sent(new_page, demo):
    page = new_page(java_script_enabled=False)
    page.goto("/")
    page.locator(f"label[for=goal-top-{LIVER}]").click()  # ticked, not yet sent
    page.get_by_label("Pregnant").check()
    page.locator("#goal-category-immunity summary").click()
    page.get_by_role("button", name="Show the 1 goal in Immunity").click()

    expect(page).to_have_url(re.compile(r"goal_category=Immunity.*#goal-category-immunity$"))
    assert query(page)["goals"] == [LIVER]
    assert query(page)["condition"] == ["pregnancy"]
    expect(page.locator("#goal-category-immunity label.goal-chip")).to_have_text(
        ["Immune function"]
    )
    expect(page.get_by_label("Pregnant")).to_be_checked()


def test_without_javascript_enter_in_a_filter_shows_the_stack_and_opens_no_category(new_page, demo):
    page = new_page(java_script_enabled=False)
    page.goto("/")
    page.locator(f"label[for=goal-top-{LIVER}]").click()
    page.get_by_text("More filters").click()
    page.get_by_label("Monthly budget").fill("500")
    page.get_by_label("Monthly budget").press("Enter")

    expect(page).to_have_url(re.compile(r"budget=500"))
    assert query(page)["goals"] == [LIVER]
    assert "goal_category" not in query(page)
    expect(page.locator(".stack-pick__name").first).to_have_text(TA1)


def test_a_category_whose_first_fetch_failed_opens_by_its_button_in_place(new_page, demo):
    page = new_page(expected_status=500)
    failures = []

    def fail_first(route):
        if not failures:
            failures.append(route.request.url)
            route.fulfill(status=500, body="synthetic failure")
        else:
            route.continue_()

    page.route("**/stack/goal-options/**", fail_first)
    page.goto("/")
    organs = page.locator("#goal-category-organ-health")
    with page.expect_response(lambda response: response.status == 500):
        organs.locator("summary").click()
    assert failures
    button = organs.get_by_role("button", name="Show the 1 goal in Organ health")
    expect(button).to_be_visible()  # the failed fetch left it

    button.click()

    expect(organs.locator("label.goal-chip")).to_have_text(["Liver health"])
    assert "goal_category" not in page.url and "#" not in page.url


def test_without_javascript_enter_in_the_search_box_lists_the_matches(new_page, demo):
    page = new_page(java_script_enabled=False)
    page.goto("/")
    search = page.get_by_role("searchbox", name="Find a goal")
    search.fill("immune")
    search.press("Enter")

    expect(page.locator("#goal-matches label.goal-chip")).to_have_text(["Immune function"])
    expect(page.get_by_role("searchbox", name="Find a goal")).to_have_value("immune")


def test_on_a_phone_the_categories_are_easy_to_tap(new_page, demo):
    page = new_page(**PHONE)
    page.goto("/")
    summaries = page.locator(".goal-category summary")
    expect(summaries).to_have_count(2)
    for summary in summaries.all():
        box = summary.bounding_box()
        assert box and box["height"] >= 24, "the category is too small a touch target"
        assert box["x"] + box["width"] <= PHONE["viewport"]["width"]
    summaries.first.tap()
    expect(page.locator("#goal-category-immunity label.goal-chip")).to_have_text(
        ["Immune function"]
    )
