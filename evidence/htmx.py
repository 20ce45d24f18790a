"""The one rule for "the fragment or the whole page", read by every htmx view and by the
page cache's key (evidence.cache), so the two can never disagree."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.middleware import HtmxDetails

# Every request header the rule reads; the cache keys on the rule and sends them in Vary.
FRAGMENT_HEADERS = ("HX-Request", "HX-History-Restore-Request")


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def wants_fragment(request: HttpRequest) -> bool:
    """An htmx request that swaps part of the page. A history restore (htmx asking again for
    a page missing from its history cache) is an htmx request too, but needs the whole page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def render_page(
    request: HttpRequest, template: str, context: dict, status: int = 200
) -> HttpResponse:
    """The full page, or only its `results` partial when the request wants the fragment.

    The template learns which through `fragment` (e.g. to add out-of-band swaps)."""
    fragment = wants_fragment(request)
    if fragment:
        template += "#results"
    return render(request, template, {**context, "fragment": fragment}, status=status)
