"""The evidence app's own side effects of an edit: every cached page is retired, and the
editor's public note goes onto the history record.

Each receiver is connected to one named content model (evidence.models.CONTENT_MODELS); inside
a bulk edit (evidence.batch) the content version moves once, at the end.
"""

from django.db.models.signals import post_delete, post_save
from simple_history.signals import pre_create_historical_record

from evidence.batch import run_or_defer
from evidence.cache import bump_content_version
from evidence.models import CONTENT_MODELS, Compound, Finding, Rating

# The models whose history records carry a public change note (evidence.models.PublicChangeNote).
NOTED_MODELS = (Compound, Finding, Rating)


def content_changed(sender, instance, raw=False, **kwargs):
    if raw:
        return  # loaddata: whoever loads raw rows bumps the version themselves
    run_or_defer(bump_content_version)


def copy_public_change_note(sender, instance, history_instance, **kwargs):
    """The note the admin's form left on the object (its public reason, whether the edit was
    minor) goes onto the history record of this one save, and is then dropped from the object
    so that a later save of it does not repeat it."""
    history_instance.public_reason = instance.__dict__.pop("_public_reason", "") or ""
    history_instance.minor_edit = bool(instance.__dict__.pop("_minor_edit", False))


def connect_receivers():
    for model in NOTED_MODELS:
        pre_create_historical_record.connect(
            copy_public_change_note,
            sender=model.history.model,
            dispatch_uid=f"copy_public_change_note:{model._meta.label}",
        )
    for model in CONTENT_MODELS:
        for signal in (post_save, post_delete):
            signal.connect(
                content_changed,
                sender=model,
                dispatch_uid=f"content_changed:{model._meta.label}:{signal is post_save}",
            )
