"""The evidence app's own side effect of an edit: every cached page is retired.

Each receiver is connected to one named content model (evidence.models.CONTENT_MODELS); inside
a bulk edit (evidence.batch) the content version moves once, at the end.
"""

from django.db.models.signals import post_delete, post_save

from evidence.batch import run_or_defer
from evidence.cache import bump_content_version
from evidence.models import CONTENT_MODELS


def content_changed(sender, instance, raw=False, **kwargs):
    if raw:
        return  # loaddata: whoever loads raw rows bumps the version themselves
    run_or_defer(bump_content_version)


def connect_receivers():
    for model in CONTENT_MODELS:
        for signal in (post_save, post_delete):
            signal.connect(
                content_changed,
                sender=model,
                dispatch_uid=f"content_changed:{model._meta.label}:{signal is post_save}",
            )
