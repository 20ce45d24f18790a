"""Signals that keep GoalScore current: each names the compounds an edit can move."""

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from evidence.models import (
    Compound,
    Dosing,
    Finding,
    Rating,
    SideEffect,
    Study,
    Tier,
    VendorAccount,
)
from stacks.cache import bump_content_version
from stacks.refresh import mark_compounds

# Models whose rows belong to one compound; a change to one moves that compound's scores.
PER_COMPOUND = (Rating, Finding, Dosing, SideEffect)


@receiver(pre_save)
def remember_previous_compound(sender, instance, **kwargs):
    """A row moved to another compound leaves the old one to rescore too."""
    if sender in PER_COMPOUND and instance.pk:
        instance._previous_compound_id = (
            sender.objects.filter(pk=instance.pk).values_list("compound_id", flat=True).first()
        )


def _is_content(sender) -> bool:
    """Models whose rows visitors see: the evidence app's, not their history records."""
    return sender._meta.app_label == "evidence" and not sender.__name__.startswith("Historical")


@receiver(post_save)
@receiver(post_delete)
def rescore_after_edit(sender, instance, **kwargs):
    if kwargs.get("raw") or sender.__module__ == "__fake__":
        return  # loaddata, or a migration's historical model: the caller rescores
    if _is_content(sender) and sender is not VendorAccount:
        bump_content_version()
    if sender in PER_COMPOUND:
        mark_compounds({instance.compound_id, getattr(instance, "_previous_compound_id", None)})
    elif sender is Compound:
        if kwargs.get("signal") is post_save:
            mark_compounds({instance.pk})
    elif sender is Study:
        mark_compounds(set(instance.findings.values_list("compound_id", flat=True)))
    elif sender is Tier:
        mark_compounds(
            set(Rating.objects.filter(tier=instance).values_list("compound_id", flat=True))
        )
