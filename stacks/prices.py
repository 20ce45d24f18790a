"""Keep the precomputed CompoundPrice table equal to a fresh reading of the offers.

A visitor's budget and "only in stock" filters read one CompoundPrice row per compound and
currency instead of every offer of every ranked compound. Any save or delete of an offer, of
a vendor (its active flag hides its offers) or of a compound (its published flag) calls
`mark_prices`, through the signals in stacks/signals.py: the affected compounds' rows are
recomputed at once, or once at the end of an `evidence.batch.bulk_edit()` block. Bulk writes
that bypass signals call `reprice_all()` (`stacks.refresh.rescore_all` and so
`manage.py rescore` do).
"""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, Min, Q

from evidence.batch import run_or_defer
from evidence.models import Offer
from stacks.models import CompoundPrice


def price_rows(compound_ids: Iterable[int] | None = None) -> list[CompoundPrice]:
    """One row per compound and currency of the offers a visitor may see (None: every
    compound), in one aggregate query. The price per mg is the offers' own rule
    (OfferQuerySet.with_price_per_mg: none for an unpublished price or a unit without mass)."""
    offers = Offer.objects.visible()
    if compound_ids is not None:
        offers = offers.filter(compound_id__in=compound_ids)
    facts = (
        offers.with_price_per_mg()
        .order_by()
        .values("compound_id", "currency")
        .annotate(
            cheapest=Min("price_per_mg"),
            cheapest_in_stock=Min("price_per_mg", filter=Q(in_stock=True)),
            offers_in_stock=Count("pk", filter=Q(in_stock=True)),
        )
    )
    return [
        CompoundPrice(
            compound_id=fact["compound_id"],
            currency=fact["currency"],
            cheapest_per_mg=fact["cheapest"],
            cheapest_in_stock_per_mg=fact["cheapest_in_stock"],
            in_stock=fact["offers_in_stock"] > 0,
        )
        for fact in facts
    ]


@transaction.atomic
def refresh_prices(compound_ids: Iterable[int]) -> int:
    """Recompute the rows of these compounds; returns the number of rows written."""
    compound_ids = {pk for pk in compound_ids if pk is not None}
    if not compound_ids:
        return 0
    rows = price_rows(compound_ids)
    CompoundPrice.objects.filter(compound_id__in=compound_ids).delete()
    CompoundPrice.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


@transaction.atomic
def reprice_all() -> int:
    """Rebuild the whole table; returns the number of rows."""
    rows = price_rows()
    CompoundPrice.objects.all().delete()
    CompoundPrice.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def mark_prices(compound_ids: Iterable[int]) -> None:
    """Offers of these compounds may have changed: refresh now, or once when the open bulk
    edit (evidence.batch) ends."""
    run_or_defer(refresh_prices, (pk for pk in compound_ids if pk is not None))
