"""Public reads from a streaming replica (DATABASE_REPLICA_URL); everything else from the primary.

Which database a request reads is chosen once, when it starts (ReplicaMiddleware): a safe
method (GET, HEAD, OPTIONS) outside the admin, from anyone but a signed-in staff member, reads
the replica; a post, the admin and a staff member's own pages read the primary, so an editor
always reads back what they just saved. The choice lives in a context variable the router
(config.routers) reads for every ORM read of the request; writes always go to the primary, and
after one the rest of the request reads the primary too.

One database per request is what keeps the page cache true: the content version a page is
keyed by (evidence.cache.content_state) is read from the same database as the page itself. A
replica lagging behind then serves its older page under its older version, never an older
page under the primary's newer version; a replica only moves forward, so a page rendered after
the version was read is at least as new as that version.

A replica that cannot be reached is skipped: the request reads the primary, the outage is
logged once when it starts and once when it ends (per app server process, not per request),
and the replica is tried again after BACKOFF_SECONDS. A replica failing in the middle of a
request fails that request only.
"""

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

REPLICA = "replica"
# How long a replica that could not be reached is left alone before it is tried again.
BACKOFF_SECONDS = 5.0
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ADMIN_PREFIX = "/admin/"

_read_alias: ContextVar[str] = ContextVar("read_alias", default=DEFAULT_DB_ALIAS)


def read_alias() -> str:
    """The database this request's reads go to (the primary outside a request)."""
    return _read_alias.get()


def read_from_primary() -> None:
    """The rest of this request reads the primary (it has written there)."""
    _read_alias.set(DEFAULT_DB_ALIAS)


@contextmanager
def reading_from(alias: str) -> Iterator[None]:
    token = _read_alias.set(alias)
    try:
        yield
    finally:
        _read_alias.reset(token)


def is_public_read(request: HttpRequest) -> bool:
    """A safe method outside the admin from anyone but a signed-in staff member."""
    if request.method not in SAFE_METHODS or request.path.startswith(ADMIN_PREFIX):
        return False
    user = getattr(request, "user", None)  # read from the session, on the primary
    return not (user is not None and user.is_authenticated and user.is_staff)


class _Availability:
    """Whether the replica answers, tried at most once per BACKOFF_SECONDS while it does not
    (one per process: every app server process finds out for itself)."""

    def __init__(self) -> None:
        self.down = False
        self.retry_at = 0.0

    def check(self) -> bool:
        if REPLICA not in connections:
            return False
        now = time.monotonic()
        if self.down and now < self.retry_at:
            return False
        connection = connections[REPLICA]
        try:
            # Django's own per-request health check of a kept connection, done now rather
            # than at the first query, then a connection if there is none.
            connection.close_if_health_check_failed()
            connection.ensure_connection()
        except DatabaseError as error:
            connection.close()
            self.retry_at = now + BACKOFF_SECONDS
            if not self.down:
                self.down = True
                logger.warning(
                    "replica unavailable, reading from the primary (retrying every %.0f s): %r",
                    BACKOFF_SECONDS,
                    error,
                )
            return False
        if self.down:
            self.down = False
            logger.warning("replica available again")
        return True


availability = _Availability()


def choose_alias(request: HttpRequest) -> str:
    if is_public_read(request) and availability.check():
        return REPLICA
    return DEFAULT_DB_ALIAS


class ReplicaMiddleware:
    """Chooses the request's database (after AuthenticationMiddleware: it asks who is signed
    in, which reads the session on the primary)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with reading_from(choose_alias(request)):
            return self.get_response(request)
