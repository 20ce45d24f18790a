"""The compound index's live search, with and without JavaScript, and the evidence page's forest
plot, in a real browser."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from evidence.models import Compound
from tests.browser.conftest import LIVER, TA1, TA1_SLUG

pytestmark = pytest.mark.browser


def search_box(page: Page):
    return page.get_by_role("searchbox", name="Search compounds")


def result_names(page: Page):
    return page.locator("#results .compound-card h3")


def searched_for(page: Page) -> list[str]:
    return parse_qs(urlsplit(page.url).query).get("q", [])


def test_live_search_finds_a_compound_by_brand_and_by_generic_name(page, demo):
    page.goto("/compounds/")
    expect(result_names(page)).to_have_count(Compound.objects.published().count())
    expect(search_box(page)).to_have_accessible_description("Results update as you type.")
    page.evaluate("window.__marker = 1")

    search_box(page).press_sequentially("Zadaxin", delay=20)

    expect(page.locator(".result-count")).to_have_text("1 compound matching “Zadaxin”.")
    expect(result_names(page)).to_have_text([TA1])
    expect(page).to_have_url(re.compile(r"/compounds/\?q=Zadaxin$"))

    search_box(page).fill("thymalfasin")

    expect(page.locator(".result-count")).to_have_text("1 compound matching “thymalfasin”.")
    expect(result_names(page)).to_have_text([TA1])
    expect(page).to_have_url(re.compile(r"\?q=thymalfasin$"))
    expect(search_box(page)).to_be_focused()
    assert page.evaluate("window.__marker") == 1, "the page was reloaded"


def test_search_works_without_javascript(new_page, demo):
    page = new_page(java_script_enabled=False)
    page.goto("/compounds/")
    # Without JavaScript nothing updates as you type, and nothing says it does.
    expect(search_box(page)).to_have_accessible_description("")
    expect(page.get_by_text("update as you type")).to_have_count(0)

    search_box(page).fill("Zadaxin")
    page.get_by_role("button", name="Search").click()

    expect(page).to_have_url(re.compile(r"/compounds/\?q=Zadaxin$"))
    expect(page).to_have_title(re.compile("^“Zadaxin”"))
    expect(result_names(page)).to_have_text([TA1])

    search_box(page).fill("thymalfasin")
    search_box(page).press("Enter")

    expect(page).to_have_url(re.compile(r"\?q=thymalfasin$"))
    assert searched_for(page) == ["thymalfasin"]
    expect(result_names(page)).to_have_text([TA1])


def test_evidence_page_draws_an_accessible_forest_plot(page, demo):
    # The first request imports statsmodels (pooling): slow on a busy machine.
    page.goto(f"/compounds/{TA1_SLUG}/evidence/{LIVER}/", timeout=30_000)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{TA1} for liver health")

    plot = page.get_by_role("figure", name="Forest plot")
    expect(plot).to_be_visible()
    # Described by its caption, which points to the table of the same numbers.
    caption = page.locator("#" + plot.get_attribute("aria-describedby"))
    expect(caption.get_by_role("link", name="table of studies and findings")).to_have_attribute(
        "href", "#studies"
    )
    rows = plot.locator("li.forest-row")
    expect(rows.first).to_be_visible()
    box = rows.first.locator("line.ci-bar").bounding_box()
    assert box and box["width"] > 5, "the confidence interval bar has no length"

    significant = plot.locator("li.forest-row--significant")
    not_significant = plot.locator("li.forest-row:not(.forest-row--significant)")
    assert significant.count() >= 1 and not_significant.count() >= 1
    for row in significant.all():
        expect(row.locator("rect.point")).to_have_class(re.compile("point--significant"))
        expect(row.locator(".forest-effect")).to_have_text(re.compile(r" \*, significant$"))
    for row in not_significant.all():
        expect(row.locator("rect.point")).not_to_have_class(re.compile("point--significant"))
        expect(row.locator(".forest-effect")).not_to_have_text(re.compile(r"\*"))
    # Each outcome is a group named by its heading, with both "favours" sides in words.
    group = plot.get_by_role("region", name=re.compile("^Overall survival"))
    expect(group.locator(".forest-favours")).to_contain_text(f"Favours {TA1}")
    # The marks are drawings only: a screen reader reads the words beside them.
    for svg in plot.locator("svg.forest-track, svg.forest-axis").all():
        expect(svg).to_have_attribute("aria-hidden", "true")


def test_compound_page_links_to_the_evidence(page, demo):
    page.goto("/compounds/")
    page.get_by_role("link", name=TA1, exact=True).click()

    expect(page).to_have_url(re.compile(rf"/compounds/{TA1_SLUG}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(TA1)
    expect(page.locator(".page-header")).to_contain_text("Zadaxin")

    page.get_by_role("link", name="Liver health", exact=True).click()

    expect(page).to_have_url(re.compile(rf"/evidence/{LIVER}/$"))
    expect(page.get_by_role("heading", name="Forest plot")).to_be_visible()


def test_what_changed_fills_in_when_it_comes_into_view(page, demo):
    page.goto(f"/compounds/{TA1_SLUG}/")
    changes = page.locator("section[aria-labelledby='what-changed']")
    changes.scroll_into_view_if_needed()
    expect(changes.locator(".recent-changes")).to_be_visible()
    expect(changes.locator(".changes__load")).to_have_count(0)
    expect(changes.locator(".change-list li").first).to_be_visible()
