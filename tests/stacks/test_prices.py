"""The precomputed price table always equals a fresh reading of the offers, whatever staff
edit, and holds each compound's cheapest price per mg by currency and whether it is in stock."""

import contextlib
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from evidence.batch import bulk_edit
from evidence.models import Offer, Vendor
from stacks.models import CompoundPrice
from stacks.prices import price_rows, reprice_all
from stacks.refresh import rescore_all
from tests.factories import make_compound, make_offer, make_vendor
from tests.factories.edits import TargetGone, first, set_fields

pytestmark = pytest.mark.django_db

TWELVE_PLACES = Decimal("0.000000000001")


def _places(value):
    return None if value is None else Decimal(str(value)).quantize(TWELVE_PLACES)


def normalised(row: CompoundPrice):
    return (
        row.compound_id,
        row.currency,
        _places(row.cheapest_per_mg),
        _places(row.cheapest_in_stock_per_mg),
        row.in_stock,
    )


def stored():
    return sorted(normalised(row) for row in CompoundPrice.objects.all())


def fresh():
    return sorted(normalised(row) for row in price_rows())


def price_of(compound, currency="USD") -> CompoundPrice:
    return CompoundPrice.objects.get(compound=compound, currency=currency)


def test_cheapest_price_per_mg_by_currency():
    compound = make_compound()
    # 40.00 for 10 vials of 5 mg: 0.80/mg; 30.00 for one 5 mg vial: 6.00/mg
    make_offer(compound, price=Decimal("40.00"), units_per_pack=10)
    make_offer(compound, price=Decimal("30.00"))
    make_offer(compound, price=Decimal("20.00"), currency="EUR", amount_per_unit=Decimal(1))

    assert price_of(compound).cheapest_per_mg == Decimal("0.8")
    assert price_of(compound, "EUR").cheapest_per_mg == Decimal(20)


def test_cheapest_in_stock_is_kept_beside_the_cheapest():
    compound = make_compound()
    make_offer(compound, price=Decimal("5.00"), in_stock=False)
    make_offer(compound, price=Decimal("50.00"))

    price = price_of(compound)
    assert (price.cheapest_per_mg, price.cheapest_in_stock_per_mg) == (Decimal(1), Decimal(10))
    assert price.in_stock


def test_a_currency_with_nothing_in_stock_says_so():
    compound = make_compound()
    make_offer(compound, in_stock=False)

    price = price_of(compound)
    assert not price.in_stock
    assert price.cheapest_in_stock_per_mg is None


def test_offers_without_a_public_price_or_a_mass_are_listed_but_not_priced():
    compound = make_compound()
    make_offer(compound, price_availability=Offer.PriceAvailability.ON_REQUEST)
    make_offer(compound, unit="iu", amount_per_unit=Decimal(1000))

    price = price_of(compound)
    assert price.cheapest_per_mg is None
    assert price.in_stock  # an offer in stock, even unpriced, is an offer in stock


@pytest.mark.parametrize(
    "hide",
    [
        pytest.param(lambda offer: set_fields(offer.vendor, active=False), id="vendor deactivated"),
        pytest.param(lambda offer: set_fields(offer, review=Offer.Review.HELD), id="offer held"),
        pytest.param(lambda offer: set_fields(offer.compound, published=False), id="unpublished"),
        pytest.param(lambda offer: offer.delete(), id="offer deleted"),
        pytest.param(lambda offer: offer.vendor.delete(), id="vendor deleted"),
    ],
)
def test_offers_a_visitor_cannot_see_price_nothing(hide):
    offer = make_offer(make_compound())
    assert CompoundPrice.objects.filter(compound=offer.compound).exists()

    hide(offer)

    assert not CompoundPrice.objects.filter(compound=offer.compound_id).exists()


def test_an_offer_moved_to_another_compound_reprices_both():
    first, second = make_compound(), make_compound()
    offer = make_offer(first)

    set_fields(offer, compound=second)

    assert not CompoundPrice.objects.filter(compound=first).exists()
    assert price_of(second).cheapest_per_mg == Decimal(8)


def test_a_batch_reprices_once_at_the_end():
    compound = make_compound()
    with bulk_edit():
        make_offer(compound)
        assert not CompoundPrice.objects.filter(compound=compound).exists()
    assert price_of(compound).cheapest_per_mg == Decimal(8)


def test_rescore_all_rebuilds_prices_that_bulk_writes_left_stale():
    offer = make_offer(make_compound())
    Offer.objects.filter(pk=offer.pk).update(price=Decimal("80.00"))
    assert stored() != fresh()

    rescore_all()

    assert stored() == fresh()
    assert price_of(offer.compound).cheapest_per_mg == Decimal(16)


def test_reprice_all_writes_one_row_per_compound_and_currency():
    compound = make_compound()
    for currency in ("USD", "USD", "EUR"):
        make_offer(compound, currency=currency)
    CompoundPrice.objects.all().delete()

    assert reprice_all() == 2
    assert stored() == fresh()


def catalogue():
    compounds = [make_compound() for _ in range(3)]
    vendors = [make_vendor() for _ in range(2)]
    for i, compound in enumerate(compounds):
        make_offer(compound, vendors[i % 2], price=Decimal(10 * (i + 1)))
        make_offer(compound, vendors[(i + 1) % 2], currency="EUR", in_stock=i % 2 == 0)
    return compounds, vendors


def offer_of(compound):
    return first(Offer.objects.filter(compound=compound))


EDITS = {
    "add a cheaper offer": lambda c, v: make_offer(c[0], v[0], price=Decimal("1.00")),
    # A public price (the offer may be one put "on request" and moved here by earlier edits).
    "raise a price": lambda c, v: set_fields(
        offer_of(c[1]), price=99, price_availability=Offer.PriceAvailability.PUBLIC
    ),
    "sell out": lambda c, v: set_fields(offer_of(c[2]), in_stock=False),
    "restock": lambda c, v: [
        set_fields(o, in_stock=True) for o in Offer.objects.filter(in_stock=False)
    ],
    "price on request": lambda c, v: set_fields(
        offer_of(c[0]),
        price=None,
        price_availability=Offer.PriceAvailability.ON_REQUEST,
    ),
    "change currency": lambda c, v: set_fields(offer_of(c[1]), currency="GBP"),
    "sell by the gram": lambda c, v: set_fields(offer_of(c[2]), unit="g"),
    "sell by the IU": lambda c, v: set_fields(offer_of(c[0]), unit="iu"),
    "move an offer": lambda c, v: set_fields(offer_of(c[0]), compound=c[1]),
    "delete an offer": lambda c, v: offer_of(c[1]).delete(),
    "hold an offer": lambda c, v: set_fields(offer_of(c[2]), review=Offer.Review.HELD),
    "deactivate a vendor": lambda c, v: set_fields(
        first(Vendor.objects.filter(pk=v[0].pk)), active=False
    ),
    "reactivate it": lambda c, v: set_fields(first(Vendor.objects.filter(pk=v[0].pk)), active=True),
    "delete a vendor": lambda c, v: first(Vendor.objects.filter(pk=v[1].pk)).delete(),
    "unpublish a compound": lambda c, v: set_fields(c[1], published=False),
    "publish it again": lambda c, v: set_fields(c[1], published=True),
}


@pytest.mark.parametrize("edit", EDITS)
def test_each_edit_keeps_the_table_equal_to_a_fresh_reading(edit):
    compounds, vendors = catalogue()
    EDITS[edit](compounds, vendors)
    assert stored() == fresh()


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.sampled_from(sorted(EDITS)), min_size=1, max_size=6))
@example(["price on request", "move an offer", "raise a price"])  # found by hypothesis
def test_any_sequence_of_edits_keeps_the_table_equal_to_a_fresh_reading(edits):
    with transaction.atomic():  # each example starts from an empty database
        compounds, vendors = catalogue()
        for edit in edits:
            with contextlib.suppress(TargetGone):
                EDITS[edit](compounds, vendors)
            for compound in compounds:
                compound.refresh_from_db()
        assert stored() == fresh()
        transaction.set_rollback(True)
