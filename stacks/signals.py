"""Keep GoalScore and CompoundPrice current after edits in the admin (and imports, batched by
evidence.batch).

Every receiver names the evidence model it listens to. An edit refreshes the scores of the
compounds it can move, and only when it changes a field the scores are computed from
(stacks.refresh.SCORED_FIELDS): fixing a typo in a finding's notes rescores nothing. Any edit
of an offer, a vendor or a compound refreshes the prices of the compounds it touches
(stacks.prices): a few rows, read in one query.
"""

from django.db.models import Model
from django.db.models.signals import post_delete, post_save, pre_save

from evidence.models import Compound, Offer, Rating, Study, Tier, Vendor
from stacks.prices import mark_prices
from stacks.refresh import SCORED_FIELDS, mark_compounds


def _scored_columns(model: type[Model]) -> list[str]:
    return [model._meta.get_field(name).attname for name in sorted(SCORED_FIELDS[model])]


def _scored_values(instance: Model) -> dict:
    return {column: getattr(instance, column) for column in _scored_columns(type(instance))}


def remember_scored_values(sender, instance, raw=False, update_fields=None, **kwargs):
    """Read the row as stored, unless the save cannot touch a scored field."""
    instance._scored_before = None
    if raw or instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and not SCORED_FIELDS[sender] & set(update_fields):
        instance._scored_before = _scored_values(instance)  # nothing scored is written
        return
    instance._scored_before = (
        sender.objects.filter(pk=instance.pk).values(*_scored_columns(sender)).first()
    )


def _compounds_moved_by(sender, instance, before: dict | None) -> set:
    if sender is Compound:
        return {instance.pk}
    if sender is Study:
        return set(instance.findings.values_list("compound_id", flat=True))
    if sender is Tier:
        return set(Rating.objects.filter(tier=instance).values_list("compound_id", flat=True))
    # A row of one compound; moved to another, it leaves the old one to rescore too.
    return {instance.compound_id, (before or {}).get("compound_id")}


def rescore_after_save(sender, instance, raw=False, **kwargs):
    if raw:
        return  # loaddata: the caller runs `manage.py rescore`
    before = getattr(instance, "_scored_before", None)
    if before is not None and before == _scored_values(instance):
        return
    mark_compounds(_compounds_moved_by(sender, instance, before))


def rescore_after_delete(sender, instance, **kwargs):
    if sender is Compound:
        return  # its GoalScore rows go with it (on_delete=CASCADE)
    mark_compounds(_compounds_moved_by(sender, instance, None))


def remember_priced_compound(sender, instance, raw=False, **kwargs):
    """An offer moved to another compound leaves the old one to reprice too."""
    instance._priced_compound_before = None
    if not raw and instance.pk is not None and not instance._state.adding:
        stored = Offer.objects.filter(pk=instance.pk).values_list("compound_id", flat=True)
        instance._priced_compound_before = stored.first()


def reprice_offer(sender, instance, raw=False, **kwargs):
    if raw:
        return  # loaddata: the caller runs `manage.py rescore`
    mark_prices({instance.compound_id, getattr(instance, "_priced_compound_before", None)})


def reprice_vendor(sender, instance, raw=False, **kwargs):
    if raw:
        return
    mark_prices(Offer.objects.filter(vendor=instance).values_list("compound_id", flat=True))


def reprice_compound(sender, instance, raw=False, **kwargs):
    if not raw:
        mark_prices({instance.pk})


def connect_receivers():
    pre_save.connect(remember_priced_compound, sender=Offer, dispatch_uid="priced:offer")
    post_save.connect(reprice_offer, sender=Offer, dispatch_uid="reprice:offer:save")
    post_delete.connect(reprice_offer, sender=Offer, dispatch_uid="reprice:offer:delete")
    post_save.connect(reprice_vendor, sender=Vendor, dispatch_uid="reprice:vendor")
    post_save.connect(reprice_compound, sender=Compound, dispatch_uid="reprice:compound")
    for model in SCORED_FIELDS:
        label = model._meta.label
        pre_save.connect(remember_scored_values, sender=model, dispatch_uid=f"scored:{label}")
        post_save.connect(rescore_after_save, sender=model, dispatch_uid=f"rescore:{label}")
        post_delete.connect(rescore_after_delete, sender=model, dispatch_uid=f"unscore:{label}")
