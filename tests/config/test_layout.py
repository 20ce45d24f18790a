"""The layout every page shares: navigation, disclaimer, error pages, templates safe under CSP."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import get_template
from django.urls import reverse

from tests.factories import make_offer, make_vendor
from tests.factories.pages import DISCLAIMER, full_page, make_thymosin

FOOTER = "Consult a qualified healthcare provider before using any compound."

pytestmark = pytest.mark.django_db


def test_layout_has_nav_footer_disclaimer_and_local_htmx(client):
    html = full_page(client.get(reverse("compound_index")))
    for name in ("builder", "compound_index", "vendor_index", "methodology"):
        assert f'href="{reverse(name)}"' in html
    assert DISCLAIMER in html and FOOTER in html
    assert re.search(r'<script src="/static/django_htmx/htmx-2[^"]*\.js"', html)
    # Every script and stylesheet is served from our own /static/, never from another host
    # (the canonical link names the page itself, an address and no asset).
    assets = re.findall(
        r'<(?:script|link)\b(?![^>]*rel="canonical")[^>]*\b(?:src|href)="([^"]+)"', html
    )
    assert assets
    assert [a for a in assets if not a.startswith("/")] == []
    assert "csrf" not in html  # htmx reads the token from the cookie (static/js/site.js)


def test_the_disclaimer_is_on_every_page(client):
    ta1, liver, _, _ = make_thymosin()
    vendor = make_vendor(slug="acme")
    make_offer(ta1, vendor)
    urls = [
        reverse("compound_index"),
        reverse("compound_detail", args=[ta1.slug]),
        reverse("evidence_detail", args=[ta1.slug, liver.slug]),
        reverse("vendor_index"),
        reverse("vendor_detail", args=[vendor.slug]),
        reverse("methodology"),
        "/no-such-page/",
    ]
    for url in urls:
        assert DISCLAIMER in full_page(client.get(url)), url


def test_the_404_page_is_friendly_and_extends_the_layout(client):
    response = client.get("/compounds/no-such-compound/")
    assert response.status_code == 404
    html = full_page(response)
    assert "We could not find that page" in html
    assert 'href="/compounds/"' in html


def test_the_500_page_renders_without_context_and_carries_the_disclaimer():
    html = get_template("500.html").render()
    assert "Something went wrong" in html
    assert DISCLAIMER in html
    assert "{%" not in html and "{{" not in html


TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates"
# A data block (type="application/json") is never run, so CSP has nothing to block there.
SCRIPT_WITH_BODY = re.compile(
    r"<script\b(?![^>]*type=\"application/json\")[^>]*>\s*[^<\s]", re.IGNORECASE
)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE)
HX_ON = re.compile(r"\shx-on[:-]", re.IGNORECASE)  # htmx evaluates these as script
JAVASCRIPT_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


def test_no_template_has_inline_scripts_event_handlers_or_styles():
    # A Content-Security-Policy without 'unsafe-inline' would block all of these.
    offenders = []
    for path in sorted(TEMPLATES_DIR.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for name, pattern in [
            ("inline <script>", SCRIPT_WITH_BODY),
            ("on...= handler", EVENT_HANDLER),
            ("style=", INLINE_STYLE),
            ("hx-on", HX_ON),
            ("javascript: URL", JAVASCRIPT_URL),
        ]:
            if pattern.search(text):
                offenders.append(f"{path.relative_to(TEMPLATES_DIR)}: {name}")
    assert offenders == []


def test_the_template_scan_catches_what_it_should():
    assert SCRIPT_WITH_BODY.search("<script>alert(1)</script>")
    assert not SCRIPT_WITH_BODY.search('<script src="/static/x.js" defer></script>')
    assert not SCRIPT_WITH_BODY.search('<script type="application/json" id="s">{"a": 1}</script>')
    assert EVENT_HANDLER.search('<img src="x" onerror="alert(1)">')
    assert EVENT_HANDLER.search('<button type="button" onclick="go()">')
    assert not EVENT_HANDLER.search('<input hx-trigger="input changed">')
    assert INLINE_STYLE.search('<p style="color: red">')
    assert HX_ON.search('<button hx-on:click="alert(1)">')
    assert JAVASCRIPT_URL.search('<a href="javascript:alert(1)">')


def test_favicon_ico_points_at_the_site_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("favicon.svg")
