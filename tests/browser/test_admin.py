"""The admin in a real browser on a 1,280 px screen."""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from evidence.models import Study
from tests.browser.conftest import horizontal_overflow, screenshot
from tests.factories.personas import logged_in, superuser

pytestmark = pytest.mark.browser


@pytest.fixture
def editor_page(new_page, live_server):
    """A desktop page (1,280 x 900) logged in to the admin. A superuser, not an evidence
    editor: the live server's database is emptied between tests and the role groups'
    permissions do not reliably come back after the bench tests (tests/bench), while the
    editor's permissions are tested in tests/evidence/test_admin.py anyway."""
    client = logged_in(superuser())
    page = new_page()
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return page


def test_the_study_page_fits_a_1280_px_screen_with_help_text_shown(editor_page, demo):
    study = Study.objects.filter(findings__isnull=False).order_by("pk").first()
    page = editor_page
    page.goto(f"/admin/evidence/study/{study.pk}/change/")
    expect(page.get_by_role("heading", name="Change study")).to_be_visible()
    screenshot(page, "admin-study-desktop")

    assert horizontal_overflow(page) == 0
    finding = page.locator(".inline-related").first
    expect(finding.get_by_text("What was compared")).to_be_visible()
    expect(finding.get_by_text("No for outcomes where lower is better")).to_be_visible()
    values = [v.input_value() for v in finding.locator("input[type=number]").all()]
    decimals = [value for value in values if "." in value]
    assert decimals and not [value for value in decimals if value.endswith("0")], values
