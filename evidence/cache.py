"""Cache public pages and API answers until the content changes.

Every cached entry is keyed by the current ContentVersion, read once per request (one
indexed single-row query); any save or delete of content bumps it (evidence.signals), which
retires all cached copies on every app server at once. The cache itself is Django's (Redis
when REDIS_URL is set, else local memory). A cached page carries nothing of one visitor (no
CSRF token: the one form that posts, "Report an error", is fetched when opened, and htmx
sends the token from Django's cookie, static/js/site.js), so every visitor, and any HTTP
cache between them and us, may share it: cached pages and answers also carry an ETag,
Last-Modified and `Cache-Control: public` (`conditional_get`), and a request that names
them is answered 304.

What a key holds, so that no visitor can make the cache grow or serve the wrong answer:

* the path and only the query parameters the view declares (`Param`), normalised: the last
  value of a single parameter (the one forms and django-ninja read), left out when it means
  the same as leaving it out; repeated parameters sorted (unless their order matters) and
  without duplicates. Anything else (`utm_source`, `fbclid`, junk) is not in the key. A
  cached page's view also sees only those normalised parameters, so what is stored under a
  key depends on nothing but the key, and a visitor arriving with campaign parameters gets
  the same page (no redirect: a visitor's first page costs no extra round trip, and the
  builder's own GET form, which always sends its defaults, is never redirected).
* the scheme and host (one of ALLOWED_HOSTS, checked before any view runs): pages name
  their own absolute address (the canonical link, Open Graph, the sitemap), so a page served
  under one host is never served under another.
* the release (`release_id`): a deploy retires every page cached before it, so no page
  outlives the hashed static file names it links to.
* for pages, the htmx rule (evidence.htmx.wants_fragment) over every header it reads, which
  are also sent in Vary.

How often the cache is retired: every save retires it at once, except that one vendor
account's saves (the admin marks them, evidence.login.StaffAdminSite) retire it at most once
per RETIRE_INTERVAL: its first save at once, a later one within the interval at the
interval's end (ContentVersion.retire_after, checked by the one query every request makes
anyway). A vendor account re-saving its offer in a loop thus retires the cache about twice a
minute instead of on every save, and its edits show within a minute. Staff edits (editors,
vendor managers) and the importer retire it at once: editors read their edit back. Retiring
only what an edit can change would need every page to know which rows it read; not simple.

Entries above MAX_ENTRY_BYTES are served but not stored: a few huge answers (the builder
with ten goals and 200 entries a list) cannot crowd out the rest.

A cache outage never takes a page down: every call goes through `cache_get`, `cache_set`
and `cache_add`, which treat a failing cache as empty (pages are rendered for each request,
slower but served), log the outage once when it starts and once when it ends (not once per
request), and /healthz reports the cache as degraded meanwhile. Our own few lines rather than
django-redis' IGNORE_EXCEPTIONS: Django's own Redis backend stays, the rule holds for any
backend, and knowing when an outage starts and ends is what lets us log it once.
"""

import hashlib
import logging
import secrets
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from pathlib import Path
from typing import NamedTuple

from django import forms
from django.conf import settings
from django.core.cache import caches
from django.db import connections, router
from django.db.models import Case, F, PositiveBigIntegerField, Value, When
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date
from redis.exceptions import RedisError

from evidence.htmx import FRAGMENT_HEADERS, wants_fragment
from evidence.models import ContentVersion

logger = logging.getLogger(__name__)

TIMEOUT = 60 * 60
# The largest body stored (bytes); a larger page or answer is rendered for each request.
MAX_ENTRY_BYTES = 1024 * 1024
# Whether a cached view's body came from the cache ("hit") or was rendered now ("miss"); the
# benchmark counts them (bench/wrk_urls.lua). Views that are not cached send no such header.
CACHE_HEADER = "X-Cache"


@dataclass(frozen=True)
class Param:
    """A query parameter a view reads, and which spellings of it mean the same."""

    name: str
    # A list (?goals=a&goals=b): duplicates dropped, and sorted unless `ordered`.
    repeated: bool = False
    ordered: bool = False
    # Values of a single parameter that mean the same as leaving it out.
    defaults: tuple[str, ...] = ()


def form_params(form_class: type[forms.Form], **defaults) -> tuple[Param, ...]:
    """The parameters a GET form reads: multiple-choice fields repeat in any order; any
    other field is one value, left out when empty, its initial value or `defaults[name]`."""
    params = []
    for name, field in form_class.base_fields.items():
        if isinstance(field, forms.MultipleChoiceField):
            params.append(Param(name, repeated=True))
        else:
            same_as_absent = {"", *(str(v) for v in (field.initial, defaults.get(name)) if v)}
            params.append(Param(name, defaults=tuple(sorted(same_as_absent))))
    return tuple(params)


def canonical_query(request: HttpRequest, params: tuple[Param, ...]) -> QueryDict:
    """The request's known parameters in one normal form (see the module's docstring)."""
    query = QueryDict(mutable=True)
    for param in params:
        values = request.GET.getlist(param.name)
        if param.repeated:
            values = list(dict.fromkeys(values))
            if values:
                query.setlist(param.name, values if param.ordered else sorted(values))
        elif values and values[-1] not in param.defaults:
            query[param.name] = values[-1]
    query._mutable = False
    return query


# What a failing cache raises: redis-py's errors (connection refused, timeouts) and the
# socket's own.
CACHE_ERRORS = (RedisError, OSError)


def _cache_call(method: str, *args, default=None):
    """`caches["default"].<method>(*args)`, or `default` while the cache fails.

    The outage is logged when it starts and when it ends, once per cache connection (each
    app server process), whatever the number of requests in between."""
    backend = caches["default"]
    try:
        result = getattr(backend, method)(*args)
    except CACHE_ERRORS as error:
        if not getattr(backend, "evidence_cache_down", False):
            backend.evidence_cache_down = True
            logger.warning("cache unavailable, rendering every request meanwhile: %r", error)
        return default
    if getattr(backend, "evidence_cache_down", False):
        backend.evidence_cache_down = False
        logger.warning("cache available again")
    return result


def cache_get(key: str):
    """The stored value, or None when there is none or the cache fails."""
    return _cache_call("get", key)


def cache_set(key: str, value, timeout: int = TIMEOUT) -> None:
    _cache_call("set", key, value, timeout)


def cache_add(key: str, value, timeout: int) -> bool:
    """Store `value` unless the key exists: True when stored now, and True when the cache
    fails (the caller then acts as if it had never seen the key)."""
    return _cache_call("add", key, value, timeout, default=True)


def cache_status() -> str:
    """ "ok" when the cache stores and returns a value, else "degraded" (for /healthz)."""
    key = f"healthz:{secrets.token_hex(8)}"  # concurrent checks never read each other's
    cache_set(key, 1, timeout=5)
    return "ok" if cache_get(key) == 1 else "degraded"


def release_id() -> str:
    """What a deploy changes: RELEASE_ID from the environment, else a hash of the static
    files' manifest (collectstatic writes a new one whenever a static file changes, the
    names it maps to being the ones pages link to), else "dev" (no collectstatic yet)."""
    return settings.RELEASE_ID or _manifest_hash(str(settings.STATIC_ROOT))


# By STATIC_ROOT as a string: a page asks for the release id a dozen times, and building and
# hashing a Path each time cost more than the rest of the lookup.
_manifest_hashes: dict[str, str] = {}


def _manifest_hash(static_root: str) -> str:
    # Read once per process, like the manifest storage itself: a deploy restarts the servers.
    if static_root not in _manifest_hashes:
        try:
            content = (Path(static_root) / "staticfiles.json").read_bytes()
        except FileNotFoundError:
            return "dev"
        _manifest_hashes[static_root] = hashlib.blake2b(content, digest_size=8).hexdigest()
    return _manifest_hashes[static_root]


class ContentState(NamedTuple):
    """The content version, and when it last moved (Unix seconds; None if not known)."""

    version: int
    changed_at: int | None


def content_state(request: HttpRequest | None = None) -> ContentState:
    """The current version and its time; moves it first when a deferred retirement is due.

    With a request, read once per request: the cache key and the ETag of one response then
    always name the same version, and a request costs one query however many read it.
    Without one, inside a cached view: the version that view's key names."""
    if request is not None:
        state = getattr(request, "_content_state", None)
        if state is None:
            state = request._content_state = content_state()
        return state
    if (state := _view_state.get()) is not None:
        return state
    # A plain cursor: this runs on every request, and the ORM would double its cost. On the
    # database the request's ORM reads use (config.routers: a public read's is the replica),
    # so a lagging replica never has its older page stored under the primary's newer version;
    # after the deferred retirement's write below, the router sends the re-read (and the rest
    # of the request) to the primary.
    with connections[router.db_for_read(ContentVersion)].cursor() as cursor:
        cursor.execute(
            "SELECT version, retire_after, changed_at "
            f"FROM {ContentVersion._meta.db_table} WHERE id = 1"
        )
        row = cursor.fetchone()
    if row is None:
        return ContentState(0, None)
    version, retire_after, changed_at = row
    if retire_after is not None and retire_after <= timezone.now().timestamp():
        due = ContentVersion.objects.filter(pk=1, retire_after__lte=retire_after)
        due.update(version=new_version(), retire_after=None, changed_at=_next_change_time())
        return content_state()  # retired now, by this request or another one first
    return ContentState(version, changed_at)


# The content state of the cached view or answer being built now (cache_page_until_content_changes,
# cached_json).
_view_state: ContextVar[ContentState | None] = ContextVar("view_state", default=None)


@contextmanager
def _building(request: HttpRequest):
    """While a page or answer is built to be cached, derived values read the content version
    its key holds (no second query, and never a newer version than the key's)."""
    token = _view_state.set(content_state(request))
    try:
        yield
    finally:
        _view_state.reset(token)


def _derived_key(name: str, version: int) -> str:
    """Where a value derived from the content is stored: retired by a new version or release."""
    return f"derived:{name}:{release_id()}:{version}"


def until_content_changes[T](name: str, compute: Callable[[], T]) -> T:
    """A value derived from the content that many pages draw (the currencies offers are
    priced in, the most researched goals): computed once per content version and release,
    and shared through the cache, instead of read again by every page rendered."""
    key = _derived_key(name, content_state().version)
    value = cache_get(key)
    if value is None:
        value = compute()
        cache_set(key, value)
    return value


def shared_parts[T](
    kind: str, names: Sequence[str], compute: Callable[[list[str]], dict[str, T]]
) -> dict[str, T]:
    """Parts of pages that many different pages draw (one goal's ranking under some
    constraints), by name: read from the cache together, the missing ones computed together
    (`compute(missing)` returns them by name) and stored, all keyed by the content version the
    page being built names (`_building`), so a part is never older than the page holding it.

    Outside a cached page or answer there is no such version: every part is computed."""
    state = _view_state.get()
    if state is None:
        return compute(list(names))
    prefix = _derived_key(kind, state.version) + ":"
    stored = _cache_call("get_many", [prefix + name for name in names], default={})
    found = {key.removeprefix(prefix): value for key, value in stored.items()}
    missing = [name for name in names if name not in found]
    if missing:
        computed = compute(missing)
        _cache_call("set_many", {prefix + name: computed[name] for name in missing}, TIMEOUT)
        found.update(computed)
    return found


def content_version() -> int:
    """The current version; moves it first when a deferred retirement is due."""
    return content_state().version


def _next_change_time():
    """The time to store with a new version: now, in whole seconds (as Last-Modified has it),
    but always at least a second after the last change. Two changes within one second then
    still carry two different Last-Modified dates, so a client asking "modified since" the
    first never gets a 304 for the second."""
    now = int(timezone.now().timestamp())
    return Case(
        When(changed_at__gte=now, then=F("changed_at") + 1),
        default=Value(now),
        output_field=PositiveBigIntegerField(),
    )


def new_version() -> int:
    """A random version, not a counter: a restored or second database starting again from
    the same number must never meet the old site's pages in a shared cache."""
    return secrets.randbits(62)


# How often one vendor account's saves may retire every cached page (see the docstring).
RETIRE_INTERVAL = timedelta(seconds=60)
_limited_account: ContextVar[int | None] = ContextVar("limited_account", default=None)


@contextmanager
def retiring_at_most_once_per_interval(account_id: int):
    """Inside the block, saves retire the cache as the account's (at most once per
    RETIRE_INTERVAL, later ones at the interval's end)."""
    token = _limited_account.set(account_id)
    try:
        yield
    finally:
        _limited_account.reset(token)


def bump_content_version(_changed=None) -> None:
    """Published content may have changed: retire every cached page and answer (for a
    limited account's repeated saves, at the interval's end).

    Takes (and ignores) the changed items, so a bulk edit can defer it (evidence.batch)."""
    account = _limited_account.get()
    interval = int(RETIRE_INTERVAL.total_seconds())
    if account is not None and not cache_add(f"retired-by:{account}", 1, interval):
        due = int(timezone.now().timestamp()) + interval
        # An earlier deferred retirement stands: it comes sooner and covers this save too.
        if ContentVersion.objects.filter(pk=1, retire_after=None).update(retire_after=due):
            return
        if ContentVersion.objects.filter(pk=1).exists():
            return
    moved = ContentVersion.objects.filter(pk=1).update(
        version=new_version(), retire_after=None, changed_at=_next_change_time()
    )
    if not moved:
        ContentVersion.objects.get_or_create(
            pk=1,
            defaults={"version": new_version(), "changed_at": int(timezone.now().timestamp())},
        )


def _key(kind: str, request: HttpRequest, query: QueryDict) -> str:
    address = f"{request.scheme}://{request.get_host()}{request.path}?{query.urlencode()}"
    digest = hashlib.blake2b(address.encode(), digest_size=16).hexdigest()
    return f"{kind}:{release_id()}:{content_state(request).version}:{digest}"


# How long a browser or a shared HTTP cache may keep a public read without asking again
# (seconds): short, since an edit retires it here at once; asking again is cheap (a 304).
PUBLIC_MAX_AGE = 60


def page_part(request: HttpRequest) -> str:
    """Which of a page's two forms a request gets (evidence.htmx): its cache key's kind."""
    return "fragment" if wants_fragment(request) else "page"


def conditional_get(*params: Param, kind: str | Callable[[HttpRequest], str] = page_part):
    """Validators and 304s for a public read, any HTTP cache may keep (GET and HEAD).

    The ETag is a hash of the cache key the same request has (`kind`, the release, the content
    version, the path and the normalised `params`), so it changes exactly when the cached
    answer can: at an edit or a deploy. Last-Modified is when the content version last moved
    (ContentVersion.changed_at). A request whose If-None-Match names the ETag (or, without
    one, whose If-Modified-Since is not older) is answered 304 before the view runs. Both
    validators and `Cache-Control: public, max-age=PUBLIC_MAX_AGE` go on 200 and 304 answers
    only; errors keep none.

    `kind`: "json" for API answers; pages leave the default, the htmx rule (their Vary
    headers say so). A page adopting this must carry no per-visitor state (no CSRF token in
    a read-only page), since every visitor then shares one answer.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def conditional_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in ("GET", "HEAD"):
                return view(request, *args, **kwargs)
            part = kind(request) if callable(kind) else kind
            key = _key(part, request, canonical_query(request, params))
            etag = f'"{hashlib.blake2b(key.encode(), digest_size=16).hexdigest()}"'
            changed_at = content_state(request).changed_at
            response = get_conditional_response(request, etag=etag, last_modified=changed_at)
            if response is None:
                response = view(request, *args, **kwargs)
                if response.status_code != 200:
                    return response
            elif response.status_code != 304:
                return response  # 412: an If-Match or If-Unmodified-Since that failed
            response["ETag"] = etag
            if changed_at is not None:
                response["Last-Modified"] = http_date(changed_at)
            patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
            return response

        return conditional_view

    return decorator


def cache_page_until_content_changes(*params: Param) -> Callable:
    """Serve a GET (or HEAD) page from the cache while the content version is unchanged,
    with the validators of `conditional_get` (a 304 when the visitor's copy is current).

    `params`: the query parameters the view reads; the view sees only those, normalised.
    Only 200 responses up to MAX_ENTRY_BYTES are stored. The page must carry nothing of one
    visitor (the module's docstring says why).
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def cached_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            request.GET = canonical_query(request, params)
            key = _key(page_part(request), request, request.GET)
            stored = cache_get(key)
            hit = stored is not None
            if not hit:
                with _building(request):
                    response = view(request, *args, **kwargs)
                if not _storable(response):
                    response[CACHE_HEADER] = "miss"
                    return response
                stored = (response.content, response["Content-Type"])
                cache_set(key, stored)
            content, content_type = stored
            response = HttpResponse(content, content_type=content_type)
            response[CACHE_HEADER] = "hit" if hit else "miss"
            return response

        validated_view = conditional_get(*params)(cached_view)

        @wraps(view)
        def page_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            return _vary_on_htmx(validated_view(request, *args, **kwargs))

        return page_view

    return decorator


def _storable(response: HttpResponse) -> bool:
    return (
        response.status_code == 200
        and not response.streaming
        and len(response.content) <= MAX_ENTRY_BYTES
    )


def _vary_on_htmx(response: HttpResponse) -> HttpResponse:
    """Vary on the headers of the htmx rule, 304s included: a shared cache keeps the page and
    its fragment apart."""
    patch_vary_headers(response, FRAGMENT_HEADERS)
    return response


def cached_json(
    request: HttpRequest, build: Callable[[], bytes], params: tuple[Param, ...] = ()
) -> HttpResponse:
    """An API answer from the cache, or built (already serialised JSON) and stored.

    `params`: the query parameters the answer depends on (the API reads no other)."""
    key = _key("json", request, canonical_query(request, params))
    content = cache_get(key)
    hit = content is not None
    if not hit:
        with _building(request):
            content = build()
        if len(content) <= MAX_ENTRY_BYTES:
            cache_set(key, content)
    response = HttpResponse(content, content_type="application/json")
    response[CACHE_HEADER] = "hit" if hit else "miss"
    return response
