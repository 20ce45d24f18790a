"""The addresses of pages named by slugs, as `reverse` gives them, without its cost each time.

A ranking draws five links for each of its entries, and a page of them hundreds: `reverse`
matches every one against the URL patterns again (about a third of the time a ranking took to
render). `slug_url` asks `reverse` once per view, with markers where the slugs go, and then
only puts the slugs in their places. A slug is made of letters, digits, "-" and "_", which
`reverse` never quotes, so the address is the one `reverse` would give; for anything else
(and for a view whose address cannot hold a marker, such as one taking a number) it is
`reverse` itself, with its errors.
"""

import re
from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

SLUG = re.compile(r"[-a-zA-Z0-9_]+")


def _marker(position: int) -> str:
    return f"slugmarker{position}x"


@lru_cache(maxsize=256)
def _pieces(name: str, arity: int, prefix: str, urlconf) -> tuple[str, ...] | None:
    """The address of `name` cut where its `arity` slugs go (under this script prefix and
    URLconf, which `reverse` reads too); None when it cannot be cut so."""
    markers = [_marker(position) for position in range(arity)]
    try:
        address = reverse(name, urlconf=urlconf, args=markers)
    except NoReverseMatch:
        return None
    pieces = []
    for marker in markers:
        before, found, address = address.partition(marker)
        if not found or marker in address:
            return None
        pieces.append(before)
    return (*pieces, address)


def slug_url(name: str, *slugs) -> str:
    """`reverse(name, args=slugs)`, for a view whose arguments are slugs."""
    return slug_urls(name, len(slugs))(*slugs)


def slug_urls(name: str, arity: int) -> Callable[..., str]:
    """`slug_url(name, ...)` for `arity` slugs, as a function, the URLconf and script prefix
    read once: for a list drawing the same link for each of its entries."""
    pieces = _pieces(name, arity, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)

    def address(*slugs) -> str:
        if pieces is not None and all(isinstance(s, str) and SLUG.fullmatch(s) for s in slugs):
            parts = [pieces[0]]
            for slug, piece in zip(slugs, pieces[1:], strict=True):
                parts += (slug, piece)
            return "".join(parts)
        return reverse(name, args=slugs)

    return address
