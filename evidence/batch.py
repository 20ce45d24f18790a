"""Bulk edits: run each side effect of many writes once, when the bulk edit ends.

A single edit in the admin has its side effects at once (the content version moves, derived
data is refreshed). A bulk path (the importer, a restore) opens `bulk_edit()`; inside it,
`run_or_defer(action, items)` only collects the items, and each action runs once, with every
item collected for it, when the outermost block ends without an error. On an error nothing
runs: the surrounding transaction rolls the writes back anyway.

    with transaction.atomic(), bulk_edit():
        ...  # thousands of saves; the receivers call run_or_defer()

The module knows nothing of what the actions do; apps that keep derived data (stacks) call
`run_or_defer` from their own signal receivers.
"""

import threading
from collections.abc import Callable, Hashable, Iterable
from contextlib import contextmanager

type Action = Callable[[set], object]

_open = threading.local()


def _pending() -> dict[Action, set] | None:
    return getattr(_open, "pending", None)


def run_or_defer(action: Action, items: Iterable[Hashable] = ()) -> None:
    """Run `action(set(items))` now, or once at the end of the open bulk edit."""
    pending = _pending()
    if pending is None:
        action(set(items))
    else:
        pending.setdefault(action, set()).update(items)


def in_bulk_edit() -> bool:
    return _pending() is not None


@contextmanager
def bulk_edit():
    """Collect every deferred action inside the block; run each once when it ends."""
    if _pending() is not None:
        yield  # already inside one: the outermost block runs the actions
        return
    _open.pending = {}
    try:
        yield
        pending = _open.pending
    finally:
        _open.pending = None
    for action, items in pending.items():
        action(items)
