"""Browser tests: Playwright's sync API driving Debian's Chromium against pytest-django's
live_server. One browser for the session; a fresh context (cookies, storage, history) and page
for every test, and fresh data for every test (live_server needs a transactional database).

Every page a test opens is watched: a console error, an uncaught exception, a failed request or
a same-origin response with status >= 400 fails the test with the list.
"""

import io
import os
import warnings
from collections.abc import Callable, Iterator
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import get_resolver
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from evidence.models import Compound, Condition, Goal
from tests.factories import (
    make_compound,
    make_contraindication,
    make_finding,
    make_goal,
    make_rating,
)

CHROMIUM = Path("/usr/bin/chromium")
# How long a step may wait (ms). 5 s is ample on an idle machine; a busy shared one (many test
# runs at once on two cores) may need BROWSER_TIMEOUT_MS=30000.
TIMEOUT_MS = int(os.environ.get("BROWSER_TIMEOUT_MS", "5000"))
CHROMIUM_MISSING = f"Debian chromium not found at {CHROMIUM}; apt-get install chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
}
SCREENSHOTS = Path(settings.BASE_DIR) / "screenshots"
DEMO_FILE = Path(settings.BASE_DIR) / "demo" / "thymosin-alpha-1.json"

TA1 = "Thymosin alpha-1"
TA1_SLUG = "thymosin-alpha-1"
LIVER = "liver-health"
OTHER = "Synthetic liver support"  # rated for liver health, no contraindication


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(CHROMIUM_MISSING)
    # The live server runs in this process: import every view (and statsmodels behind the
    # evidence page, seconds on a busy machine) now, not inside the first test's page load.
    get_resolver().url_patterns  # noqa: B018
    # Playwright's sync API runs an asyncio event loop in this thread (inside a greenlet), so
    # Django sees a running loop and refuses ORM calls made by the tests themselves (factories,
    # call_command) with SynchronousOnlyOperation. No async code shares that loop: the ORM calls
    # are ordinary blocking calls made between browser steps, so allowing them is safe. The
    # permission lasts only while Playwright runs, so the rest of the suite keeps the check.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        # A non-persistent launch gets a fresh temporary user data dir from Playwright.
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server) -> Iterator[Callable[..., Page]]:
    """Open a page in a new context (Playwright options such as java_script_enabled or a
    viewport), watched for console errors and failed requests; checked when the test ends.
    `expected_status` (say 404, for the not-found page) is an error status the test asks for:
    responses with it, and the console line Chromium writes for them, are not problems."""
    contexts: list[BrowserContext] = []
    problems: list[str] = []

    def watch(page: Page, expected_status: int | None) -> None:
        def on_console(message):
            # Chromium's line for the response, and htmx's for a fragment it did not swap in.
            said = (f"status of {expected_status} ", f"Error Code {expected_status} ")
            if expected_status and any(words in message.text for words in said):
                return
            if message.type == "error":
                problems.append(f"console error on {page.url}: {message.text}")

        def on_request_failed(request):
            problems.append(f"request failed: {request.method} {request.url}: {request.failure}")

        def on_response(response):
            if response.status == expected_status:
                return
            if response.url.startswith(live_server.url) and response.status >= 400:
                problems.append(f"HTTP {response.status}: {response.request.method} {response.url}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: problems.append(f"uncaught on {page.url}: {error}"))
        page.on("requestfailed", on_request_failed)
        page.on("response", on_response)

    def open_page(expected_status: int | None = None, **options) -> Page:
        context = browser.new_context(base_url=live_server.url, **{**DESKTOP, **options})
        context.set_default_timeout(TIMEOUT_MS)
        # A page load renders uncached pages (ranking, pooling) on a machine that may be busy;
        # the tests pin what a page shows, not how fast it arrives (that is `make bench`'s job).
        context.set_default_navigation_timeout(max(TIMEOUT_MS, 20_000))
        contexts.append(context)
        page = context.new_page()
        watch(page, expected_status)
        return page

    yield open_page
    for context in contexts:
        context.close()
    if problems:
        pytest.fail("The browser saw problems:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def page(new_page) -> Page:
    """A desktop page with JavaScript."""
    return new_page()


@pytest.fixture
def demo(live_server, transactional_db, django_db_serialized_rollback) -> Compound:
    """The demo research (Thymosin alpha-1 for liver health and immune function) plus one more
    compound rated for liver health without contraindications.

    live_server runs each test on a transactional database, which is emptied afterwards;
    the serialized rollback puts back what the migrations created (the tier ladder, groups).
    """
    try:
        call_command("import_evidence", str(DEMO_FILE), stdout=io.StringIO())
    except CommandError as exc:
        warnings.warn(f"demo import failed, using factory data instead: {exc}", stacklevel=1)
        _make_demo_like_data()
    liver = Goal.objects.get(slug=LIVER)
    other = make_compound(OTHER)
    make_rating(other, liver, tier_number=4, bottom_line="Synthetic: a small benefit.")
    make_finding(other, liver)
    return Compound.objects.get(slug=TA1_SLUG)


def _make_demo_like_data() -> None:
    """What the demo file provides, from factories, for when the importer is unavailable."""
    liver = make_goal("Liver health", slug=LIVER, category="Organ health")
    make_goal("Immune function", slug="immune-function", category="Immunity")
    ta1 = make_compound(TA1, slug=TA1_SLUG, aliases=["Thymalfasin", "Zadaxin", "Tα1"])
    make_rating(ta1, liver, tier_number=3, bottom_line="Tier 3 (probable efficacy).")
    for condition in (
        Condition.PREGNANCY,
        Condition.BREASTFEEDING,
        Condition.AUTOIMMUNE_DISEASE,
        Condition.IMMUNOSUPPRESSIVE_THERAPY,
    ):
        make_contraindication(ta1, condition)
    # Fewer deaths: a significant benefit, and one finding that is not significant.
    make_finding(
        ta1,
        liver,
        outcome="Synthetic mortality",
        measure="hazard_ratio",
        higher_is_better=False,
        value=D("0.31"),
        ci_low=D("0.18"),
        ci_high=D("0.54"),
    )
    make_finding(
        ta1, liver, measure="odds_ratio", value=D("1.2"), ci_low=D("0.9"), ci_high=D("1.6")
    )


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the document is wider than the layout viewport (0 when it fits).

    Compared with clientWidth, not innerWidth: on a mobile viewport Chromium widens innerWidth
    to fit content that overflows, so `scrollWidth <= innerWidth` would pass a page that
    scrolls sideways on a phone.
    """
    return page.evaluate(
        "Math.max(0, document.documentElement.scrollWidth"
        " - document.documentElement.clientWidth - 1)"
    )
