"""Cache public pages and API answers until the content changes.

Every cached entry is keyed by the current ContentVersion, read once per request (one
indexed single-row query); any save or delete of content bumps it (evidence.signals), which
retires all cached copies on every app server at once. The cache itself is Django's (Redis
when REDIS_URL is set, else local memory). Pages are stored with a placeholder where the
visitor's CSRF token goes, so no visitor ever receives another visitor's token.
"""

import hashlib
import secrets
from collections.abc import Callable
from functools import wraps

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token

from evidence.models import ContentVersion

TIMEOUT = 60 * 60
CSRF_PLACEHOLDER = "__csrf_token_placeholder__"


def content_version() -> int:
    # A plain cursor: this runs on every request, and the ORM would double its cost.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT version FROM {ContentVersion._meta.db_table} WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else 0


def new_version() -> int:
    """A random version, not a counter: a restored or second database starting again from
    the same number must never meet the old site's pages in a shared cache."""
    return secrets.randbits(62)


def bump_content_version(_changed=None) -> None:
    """Published content may have changed: retire every cached page and answer.

    Takes (and ignores) the changed items, so a bulk edit can defer it (evidence.batch)."""
    if not ContentVersion.objects.filter(pk=1).update(version=new_version()):
        ContentVersion.objects.get_or_create(pk=1, defaults={"version": new_version()})


def csrf_token_for_page(request: HttpRequest) -> str:
    """The CSRF token a page should carry: the visitor's own, or a placeholder while the page
    is rendered to be stored (each response then gets its visitor's token in its place)."""
    return getattr(request, "csrf_placeholder", None) or get_token(request)


def _key(kind: str, request: HttpRequest, version: int) -> str:
    path = hashlib.blake2b(request.get_full_path().encode(), digest_size=16).hexdigest()
    fragment = "f" if request.headers.get("HX-Request") == "true" else "p"
    return f"{kind}:{version}:{fragment}:{path}"


def cache_page_until_content_changes(view: Callable) -> Callable:
    """Serve a GET (or HEAD) page from the cache while the content version is unchanged.

    Only 200 responses are stored. The stored HTML carries a placeholder instead of the CSRF
    token; each response gets the requesting visitor's own token.
    """

    @wraps(view)
    def cached_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        key = _key("page", request, content_version())
        stored = cache.get(key)
        if stored is None:
            request.csrf_placeholder = CSRF_PLACEHOLDER
            try:
                response = view(request, *args, **kwargs)
            finally:
                del request.csrf_placeholder  # a 404 page rendered later gets a real token
            if response.status_code != 200 or response.streaming:
                return _with_token(request, response)
            stored = (response.content, response["Content-Type"])
            cache.set(key, stored, TIMEOUT)
        content, content_type = stored
        return _with_token(request, HttpResponse(content, content_type=content_type))

    return cached_view


def _with_token(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    if not response.streaming and CSRF_PLACEHOLDER.encode() in response.content:
        response.content = response.content.replace(
            CSRF_PLACEHOLDER.encode(), get_token(request).encode()
        )
    return response


def cached_json(request: HttpRequest, build: Callable[[], bytes]) -> HttpResponse:
    """An API answer from the cache, or built (already serialised JSON) and stored."""
    key = _key("json", request, content_version())
    content = cache.get(key)
    if content is None:
        content = build()
        cache.set(key, content, TIMEOUT)
    return HttpResponse(content, content_type="application/json")
