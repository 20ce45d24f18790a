"""The stack builder (/) in a real browser: live updates without a page load, the address bar,
the back button, the "Why this rank" disclosure, and the same flows with JavaScript off."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LIVER, OTHER, PHONE, TA1

pytestmark = pytest.mark.browser


def pick_liver_health(page: Page) -> None:
    """Tap the goal chip, as a visitor does (the checkbox itself is visually hidden)."""
    page.get_by_role("group", name="Your goals").get_by_text("Liver health", exact=True).click()


def ranked(page: Page):
    return page.locator(f"#ranking-{LIVER} ~ .ranked-list .ranked__name")


def excluded(page: Page):
    return page.locator(".excluded-list .excluded")


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def empty_fields(page: Page) -> list[str]:
    """Fields the address bar carries without a value (`min_tier=&budget=`)."""
    fields = parse_qs(urlsplit(page.url).query, keep_blank_values=True)
    return [name for name, values in fields.items() if "" in values]


def set_marker(page: Page) -> None:
    """A value that survives an htmx swap but not a page load."""
    page.evaluate("window.__marker = 1")


def assert_same_document(page: Page) -> None:
    assert page.evaluate("window.__marker") == 1, "the page was reloaded"


def test_picking_a_goal_shows_the_stack_without_a_page_load(page, demo):
    page.goto("/")
    expect(page.get_by_role("heading", name="Start with a goal")).to_be_visible()
    set_marker(page)

    pick_liver_health(page)

    expect(page.get_by_role("heading", name="Your recommended stack")).to_be_visible()
    expect(page.locator(".stack-pick__name").first).to_have_text(TA1)
    expect(ranked(page)).to_have_text([TA1, OTHER])
    expect(page).to_have_url(re.compile(rf"/\?goals={LIVER}\b"))
    assert query(page)["goals"] == [LIVER]
    expect(page.locator("#stack-summary")).to_contain_text("1 goal ·")
    assert empty_fields(page) == []
    assert_same_document(page)


def test_declaring_pregnancy_moves_the_compound_to_the_excluded_list(page, demo):
    page.goto(f"/?goals={LIVER}")
    expect(ranked(page)).to_have_text([TA1, OTHER])
    set_marker(page)

    page.get_by_label("Pregnant").check()

    expect(excluded(page)).to_have_count(1)
    expect(excluded(page)).to_contain_text(TA1)
    expect(excluded(page).locator(".reason")).to_contain_text(
        re.compile(r"^Contraindicated: Pregnancy\b")
    )
    expect(page.get_by_role("heading", name="Excluded by your filters")).to_be_visible()
    expect(ranked(page)).to_have_text([OTHER])
    expect(page).to_have_url(re.compile(r"[?&]condition=pregnancy\b"))
    assert query(page)["goals"] == [LIVER]
    assert empty_fields(page) == []
    assert_same_document(page)


def test_a_negative_budget_shows_an_error_and_no_stale_results(new_page, demo):
    page = new_page(expected_status=400)  # the form's errors come back with 400
    page.goto(f"/?goals={LIVER}")
    expect(ranked(page)).to_have_text([TA1, OTHER])
    set_marker(page)

    page.get_by_text("More filters").click()
    page.get_by_label("Monthly budget").fill("-5")
    page.get_by_label("Monthly budget").press("Tab")

    error = "Monthly budget: A budget cannot be negative."
    expect(page.get_by_role("alert")).to_contain_text(error)
    expect(ranked(page)).to_have_count(0)
    expect(page.get_by_role("heading", name="Your recommended stack")).to_have_count(0)
    expect(page.locator("#stack-summary")).to_have_text("No stack: a choice needs correcting.")
    assert_same_document(page)


def test_back_button_returns_to_the_previous_results(page, demo):
    page.goto("/")
    pick_liver_health(page)
    expect(ranked(page)).to_have_text([TA1, OTHER])
    page.get_by_label("Pregnant").check()
    expect(excluded(page)).to_contain_text(TA1)
    set_marker(page)

    page.go_back()

    expect(page).not_to_have_url(re.compile("condition="))
    assert query(page)["goals"] == [LIVER]
    expect(ranked(page)).to_have_text([TA1, OTHER])
    expect(excluded(page)).to_have_count(0)
    expect(page.get_by_label("Pregnant")).not_to_be_checked()
    expect(page.get_by_role("checkbox", name="Liver health")).to_be_checked()
    assert_same_document(page)


def test_why_this_rank_shows_the_score_components(page, demo):
    page.goto(f"/?goals={LIVER}")
    card = page.locator(".ranked").filter(has=page.get_by_role("link", name=TA1, exact=True))
    components = card.locator("table.components")
    expect(components).to_be_hidden()

    card.get_by_text("Why this rank").click()

    expect(components).to_be_visible()
    expect(components.locator("tr.component--tier")).to_contain_text(
        "Editorial rating: Tier 3 (Probable efficacy)"
    )
    expect(components.locator("tr.component--study").first).to_be_visible()
    score = card.locator(".score").inner_text().removeprefix("Score ")
    expect(components.locator("tfoot td")).to_have_text(score)


def test_without_javascript_why_this_rank_links_to_its_page(new_page, demo):
    page = new_page(java_script_enabled=False)
    page.goto(f"/?goals={LIVER}")
    card = page.locator(".ranked").filter(has=page.get_by_role("link", name=TA1, exact=True))
    card.get_by_text("Why this rank").click()
    card.get_by_role("link", name="See the score's components and the certainty's steps").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Why {TA1} ranks where it does")
    expect(page.locator("table.components tr.component--tier")).to_contain_text(
        "Editorial rating: Tier 3 (Probable efficacy)"
    )


def test_builder_works_without_javascript(new_page, demo):
    page = new_page(java_script_enabled=False)
    page.goto("/")

    pick_liver_health(page)
    page.get_by_role("button", name="Show my stack").click()

    expect(page).to_have_url(re.compile(rf"/\?(.+&)?goals={LIVER}\b"))
    expect(page.get_by_role("heading", name="Your recommended stack")).to_be_visible()
    expect(ranked(page)).to_have_text([TA1, OTHER])

    page.get_by_label("Pregnant").check()
    page.get_by_role("button", name="Show my stack").click()

    expect(page).to_have_url(re.compile(r"[?&]condition=pregnancy\b"))
    assert query(page)["goals"] == [LIVER]
    expect(page.get_by_role("checkbox", name="Liver health")).to_be_checked()
    expect(ranked(page)).to_have_text([OTHER])
    expect(excluded(page)).to_contain_text(f"{TA1}: Contraindicated: Pregnancy")


def in_viewport(page: Page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    viewport = page.viewport_size
    return bool(box) and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]


def test_on_a_phone_a_tapped_goal_shows_the_updated_summary_without_scrolling(new_page, demo):
    page = new_page(**PHONE)
    page.goto("/")
    expect(page.locator("#stack-summary")).to_have_text("No goal picked yet.")

    page.get_by_role("group", name="Your goals").get_by_text("Liver health", exact=True).tap()

    expect(page.locator("#stack-summary")).to_contain_text("1 goal · 2 compounds in your stack")
    assert page.evaluate("window.scrollY") == 0, "the page moved under the visitor's finger"
    assert in_viewport(page, "#stack-summary")
    assert in_viewport(page, ".jump-to-results a")
    # The summary sits in a live region, so a screen reader announces the change.
    expect(page.locator(".results-bar")).to_have_attribute("aria-live", "polite")

    page.get_by_role("link", name="See your results").tap()
    expect(page.get_by_role("heading", name="Your recommended stack")).to_be_in_viewport()


def test_on_a_phone_a_shared_link_opens_at_the_results(new_page, demo):
    page = new_page(**PHONE)
    page.goto(f"/?goals={LIVER}")
    expect(page.get_by_role("heading", name="Your recommended stack")).to_be_in_viewport()
    expect(page.locator(".stack-pick__name").first).to_be_in_viewport()


def test_on_a_desktop_the_builder_keeps_its_two_columns_and_does_not_scroll(page, demo):
    page.goto(f"/?goals={LIVER}")
    expect(page.get_by_role("heading", name="Your recommended stack")).to_be_visible()
    assert page.evaluate("window.scrollY") == 0
    form = page.locator(".builder-form").bounding_box()
    results = page.locator("#results").bounding_box()
    assert form and results and form["x"] + form["width"] <= results["x"], "side by side"
    expect(page.locator(".jump-to-results")).to_be_hidden()
    # The summary is not a bar on a wide screen: it stays inside the form's flow.
    assert page.locator(".results-bar").evaluate("el => getComputedStyle(el).position") == "static"
