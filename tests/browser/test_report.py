"""The clinician's report in a real browser: reached from the builder with JavaScript off,
readable on a 390 px phone, and printed by Chromium with no table wider than its box."""

import io

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.browser.conftest import LIVER, OTHER, PHONE, TA1, horizontal_overflow, screenshot

pytestmark = pytest.mark.browser

IMMUNE = "immune-function"
# Thymosin alpha-1 in the stack, with the demo's long titles, DOIs and provenance.
REPORT = f"/stack/report/?goals={LIVER}&goals={IMMUNE}"

# Every table of the page whose content is wider than its box, as "caption: scroll > client".
OVERFLOWING_TABLES = """
() => [...document.querySelectorAll('table')]
  .filter(t => t.scrollWidth > t.clientWidth)
  .map(t => `${t.caption ? t.caption.textContent : 'table'}: ${t.scrollWidth} > ${t.clientWidth}`)
"""


def table_count(page: Page) -> int:
    return page.evaluate("document.querySelectorAll('table').length")


def patient(page: Page) -> Page:
    """Longer waits than the suite's 5 s: rendering a report on a busy 2-core machine."""
    page.set_default_timeout(20_000)
    page.set_default_navigation_timeout(30_000)
    return page


@pytest.mark.parametrize("device", [{}, PHONE], ids=["desktop", "phone"])
def test_the_printed_report_keeps_every_table_inside_the_page(new_page, demo, device):
    page = patient(new_page(**device))
    page.goto(REPORT)
    expect(page.get_by_role("heading", name="Excluded compounds and why")).to_be_visible()

    page.emulate_media(media="print")

    assert table_count(page) >= 2
    assert page.evaluate(OVERFLOWING_TABLES) == []
    expect(page.locator(".site-header")).to_be_hidden()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF-")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    # (Chromium sets "fi" as a ligature: the words checked have none.)
    for name in (TA1, "Certainty of the evidence", "Doses as studied", "not medical advice"):
        assert name in " ".join(text.split()), name


def test_the_report_is_reached_from_the_builder_without_javascript(new_page, demo):
    page = patient(new_page(java_script_enabled=False))
    page.goto(f"/?goals={LIVER}&goals={IMMUNE}&condition=pregnancy")

    page.get_by_role("link", name="Report for your clinician").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Evidence report")
    expect(page.locator(".report-facts")).to_contain_text("Pregnancy")
    expect(page.locator(".report-compound h2").first).to_contain_text(OTHER)
    expect(page.locator(".report-excluded").first).to_contain_text(TA1)
    pdf_link = page.get_by_role("link", name="Download this report as a PDF")
    response = page.request.get(pdf_link.get_attribute("href"), timeout=60_000)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"


def test_a_phone_reads_the_report_without_scrolling_sideways(new_page, demo):
    page = patient(new_page(**PHONE))
    page.goto(REPORT)
    expect(page.get_by_role("heading", name="Excluded compounds and why")).to_be_visible()

    assert horizontal_overflow(page) == 0
    assert page.evaluate(OVERFLOWING_TABLES) == []
    # Each finding is a card with its labels, not a table too wide for the screen.
    expect(page.locator(".report-findings td[data-label='Citation']").first).to_be_visible()
    screenshot(page, "report-phone")
