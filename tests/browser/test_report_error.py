"""Report an error in a real browser: the form is fetched when the disclosure opens and posts
in place (htmx, the CSRF token from Django's cookie); without JavaScript a link leads to it."""

import pytest
from playwright.sync_api import expect

from evidence.models import ErrorReport
from tests.browser.conftest import TA1_SLUG

pytestmark = pytest.mark.browser

PAGE = f"/compounds/{TA1_SLUG}/"


def test_opening_the_disclosure_fetches_the_form_and_it_posts_in_place(page, demo):
    page.goto(PAGE)
    page.evaluate("window.__marker = 1")
    page.get_by_text("Report an error on this page", exact=True).click()
    message = page.get_by_label("What is wrong?")
    message.fill("Synthetic: a test report from the browser.")
    page.get_by_role("button", name="Send the report").click()

    expect(
        page.get_by_role("status").filter(has_text="your report is with our editors")
    ).to_be_visible()
    assert page.evaluate("window.__marker") == 1, "the page was reloaded"
    report = ErrorReport.objects.get()
    assert (report.page, report.message) == (PAGE, "Synthetic: a test report from the browser.")


def test_without_javascript_the_link_leads_to_the_form(new_page, demo):
    page = new_page(java_script_enabled=False)
    page.goto(PAGE)
    page.get_by_text("Report an error on this page", exact=True).click()
    page.get_by_role("link", name="Open the form to report an error on this page").click()
    page.get_by_label("What is wrong?").fill("Synthetic: sent without JavaScript.")
    page.get_by_role("button", name="Send the report").click()

    expect(page.get_by_text("your report is with our editors")).to_be_visible()
    assert ErrorReport.objects.get().message == "Synthetic: sent without JavaScript."
