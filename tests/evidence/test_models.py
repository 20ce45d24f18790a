"""The models' rules: constraints the database enforces by itself, derived values, querysets."""

from contextlib import contextmanager
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from evidence.models import (
    AntiDopingStatus,
    Article,
    CertaintyChange,
    Compound,
    CompoundAlias,
    ContentVersion,
    Contraindication,
    Dosing,
    ErrorReport,
    Finding,
    Goal,
    Interaction,
    Offer,
    OfferClicks,
    Rating,
    RegulatoryStatus,
    Route,
    SideEffect,
    Source,
    Study,
    Tier,
    Unit,
    Vendor,
    VendorAccount,
)
from evidence.stats import Favours
from tests.factories import (
    make_anti_doping_status,
    make_clicks,
    make_compound,
    make_contraindication,
    make_dosing,
    make_finding,
    make_goal,
    make_offer,
    make_rating,
    make_regulatory_status,
    make_side_effect,
    make_source,
    make_study,
    make_vendor,
    tier,
)

pytestmark = pytest.mark.django_db


@contextmanager
def refused_by(constraint: str | None):
    """The database itself refuses the write inside the block, for breaking `constraint`.

    PostgreSQL names every broken constraint. SQLite names check constraints and expression
    indexes, but reports a broken unique constraint over columns by the columns, so there
    only the refusal itself is checked.
    """
    with pytest.raises(IntegrityError) as refusal, transaction.atomic():
        yield
    message = str(refusal.value)
    unique_by_columns = message.startswith("UNIQUE constraint failed: evidence_")
    if constraint and not (connection.vendor == "sqlite" and unique_by_columns):
        assert constraint in message


def test_every_named_constraint_has_a_test_here():
    source = Path(__file__).read_text()
    names = [
        constraint.name
        for model in apps.get_app_config("evidence").get_models()
        for constraint in model._meta.constraints
    ]
    assert names
    assert [name for name in names if f'"{name}"' not in source] == []


# Computed certainty changes


def test_a_certainty_change_must_change_the_certainty():
    compound, goal = make_compound("Synthetic unchanged"), make_goal("Synthetic unchanged goal")
    with refused_by("certainty_change_is_a_change"):
        CertaintyChange.objects.create(compound=compound, goal=goal, previous=2, certainty=2)
    CertaintyChange.objects.create(compound=compound, goal=goal, previous=None, certainty=2)
    CertaintyChange.objects.create(compound=compound, goal=goal, previous=2, certainty=None)


# Tiers


def test_tier_number_starts_at_1():
    with refused_by("tier_number_from_1"):
        Tier.objects.create(number=0, label="Zero", description="Below the ladder.", weight=10)


def test_tier_weight_is_at_most_100():
    with refused_by("tier_weight_at_most_100"):
        Tier.objects.create(number=7, label="Seven", description="Too heavy.", weight=101)


# Names and slugs


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (make_goal, "name"),
        (make_goal, "slug"),
        (make_compound, "name"),
        (make_compound, "slug"),
        (make_study, "slug"),
        (make_vendor, "name"),
        (make_vendor, "slug"),
    ],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_names_and_slugs_are_unique(make, field):
    first = make()
    with refused_by(None):
        make(**{field: getattr(first, field)})


def test_tier_number_is_unique():
    with refused_by(None):
        Tier.objects.create(number=1, label="Another one", description="Taken.", weight=50)


def test_article_slug_is_unique():
    compound = make_compound()
    Article.objects.create(compound=compound, slug="deep-dive", title="One", body="...")
    with refused_by(None):
        Article.objects.create(compound=compound, slug="deep-dive", title="Two", body="...")


# Compounds and what hangs off them


def test_an_alias_is_unique_within_its_compound_case_insensitively():
    compound = make_compound(aliases=["Synthetic alias B3"])
    with refused_by("alias_name_unique_per_compound_ci"):
        CompoundAlias.objects.create(compound=compound, name="SYNTHETIC ALIAS b3")


def test_an_alias_may_name_several_compounds():
    make_compound(aliases=["Synthetic alias B3"])
    other = make_compound()

    CompoundAlias(compound=other, name="synthetic alias b3").full_clean()
    CompoundAlias.objects.create(compound=other, name="synthetic alias b3")

    assert CompoundAlias.objects.filter(name__iexact="synthetic alias b3").count() == 2


def test_a_dose_range_cannot_end_below_its_start():
    compound = make_compound()
    make_dosing(compound, amount=D(1), amount_max=D(1))
    with refused_by("dosing_range_ordered"):
        make_dosing(compound, amount=D(3), amount_max=D(1))


def test_a_dose_range_below_its_start_is_refused_in_plain_words():
    dosing = Dosing(compound=make_compound(), amount=D(3), amount_max=D(1), unit="g", route="oral")
    with pytest.raises(ValidationError) as refusal:
        dosing.full_clean()
    assert refusal.value.messages == [
        "The high end of a dose range cannot be below its low end (the amount)."
    ]


def test_frequency_and_route_may_be_not_reported():
    dosing = Dosing(
        compound=make_compound(),
        amount=D(1),
        unit="g",
        frequency="",
        route=Route.NOT_REPORTED,
    )
    dosing.full_clean()
    dosing.save()
    assert dosing.get_route_display() == "Route not reported"


def test_route_not_reported_is_not_an_injection():
    assert Route.NOT_REPORTED not in Route.injections()


# Regulatory and sport status


@pytest.mark.parametrize(
    "missing",
    [{"source_name": ""}, {"source_url": ""}, {"verified_on": None}],
    ids=["source name", "source URL", "verification date"],
)
def test_a_regulatory_status_without_its_source_or_date_is_refused(missing):
    with refused_by("regulatory_status_sourced"):
        make_regulatory_status(make_compound(), **missing)


@pytest.mark.parametrize(
    "missing", [{"source_url": ""}, {"verified_on": None}], ids=["source URL", "date"]
)
def test_an_anti_doping_status_without_its_source_or_date_is_refused(missing):
    with refused_by("anti_doping_status_sourced"):
        make_anti_doping_status(make_compound(), **missing)


def test_a_regulatory_status_without_a_source_is_refused_in_plain_words():
    status = RegulatoryStatus(
        compound=make_compound(),
        jurisdiction="Synthetic jurisdiction",
        status=RegulatoryStatus.Status.NOT_APPROVED,
    )
    with pytest.raises(ValidationError) as refusal:
        status.full_clean()
    assert refusal.value.messages == [
        "A regulatory status needs its source (a name and an https:// URL) and the date it "
        "was verified."
    ]


def test_an_anti_doping_status_without_a_date_is_refused_in_plain_words():
    status = AntiDopingStatus(
        compound=make_compound(),
        list_name="Synthetic prohibited list",
        status=AntiDopingStatus.Status.MONITORED,
        source_url="https://anti-doping.example.org/synthetic",
    )
    with pytest.raises(ValidationError) as refusal:
        status.full_clean()
    assert refusal.value.messages == [
        "An anti-doping status needs its source (an https:// URL) and the date it was verified."
    ]


def test_a_status_source_must_be_https():
    status = RegulatoryStatus(
        compound=make_compound(),
        jurisdiction="Synthetic jurisdiction",
        status=RegulatoryStatus.Status.APPROVED,
        source_name="Synthetic register",
        source_url="http://regulator.example.org/synthetic",
        verified_on=date(2026, 1, 15),
    )
    with pytest.raises(ValidationError) as refusal:
        status.full_clean()
    assert refusal.value.message_dict == {"source_url": ["Enter a well-formed https:// URL."]}


def test_a_regulatory_status_of_other_needs_the_sources_words():
    with refused_by("regulatory_status_other_explained"):
        make_regulatory_status(make_compound(), status=RegulatoryStatus.Status.OTHER)


def test_a_compound_has_one_regulatory_status_per_jurisdiction():
    status = make_regulatory_status(make_compound())
    with refused_by("regulatory_status_unique_jurisdiction"):
        make_regulatory_status(status.compound, jurisdiction=status.jurisdiction)


def test_a_compound_has_one_status_per_anti_doping_list():
    status = make_anti_doping_status(make_compound())
    with refused_by("anti_doping_status_unique_list"):
        make_anti_doping_status(status.compound, list_name=status.list_name)


def test_dosing_amount_must_be_positive():
    compound = make_compound()
    with refused_by("dosing_amount_positive"):
        make_dosing(compound, amount=D(0))


def test_doses_per_week_must_be_positive_when_given():
    compound = make_compound()
    make_dosing(compound, doses_per_week=None)
    with refused_by("dosing_doses_per_week_positive"):
        make_dosing(compound, doses_per_week=D(0))


def test_side_effect_is_named_once_per_compound():
    compound = make_compound()
    make_side_effect(compound, name="Nausea")
    with refused_by("side_effect_unique_per_compound"):
        make_side_effect(compound, name="Nausea")


def test_contraindication_is_listed_once_per_compound():
    compound = make_compound()
    make_contraindication(compound, condition="pregnancy")
    with refused_by("contraindication_unique_per_compound"):
        make_contraindication(compound, condition="pregnancy")


def test_interaction_pair_is_stored_once_in_either_order():
    a, b = make_compound(), make_compound()
    Interaction.objects.create(compound_a=a, compound_b=b, severity="major", note="Synthetic.")
    with refused_by("interaction_pair_unique"):
        Interaction.objects.create(compound_a=b, compound_b=a, severity="minor", note="Again.")


def test_interaction_pair_is_stored_lower_id_first():
    a, b = make_compound(), make_compound()
    interaction = Interaction.objects.create(
        compound_a=b, compound_b=a, severity="major", note="Synthetic."
    )
    assert (interaction.compound_a, interaction.compound_b) == (a, b)
    # save() puts the pair in order; the database refuses it out of order all the same.
    with refused_by("interaction_pair_ordered"):
        Interaction.objects.filter(pk=interaction.pk).update(compound_a=b, compound_b=a)


def test_interaction_needs_two_different_compounds():
    a = make_compound()
    with refused_by("interaction_pair_ordered"):
        Interaction.objects.create(compound_a=a, compound_b=a, severity="major", note="Self.")


def test_compound_is_rated_once_per_goal():
    rating = make_rating()
    with refused_by("rating_unique_per_goal"):
        make_rating(compound=rating.compound, goal=rating.goal, tier_number=1)


# Studies and findings


def test_study_sample_size_is_at_least_1():
    with refused_by("study_n_positive"):
        make_study(n=0)


@pytest.mark.parametrize("year", [1899, 2101])
def test_study_year_is_between_1900_and_2100(year):
    with refused_by("study_year_in_range"):
        make_study(year=year)


@pytest.mark.parametrize(
    ("design", "trial_count"),
    [(Study.Design.RCT, 3), (Study.Design.META_ANALYSIS, 0)],
)
def test_trial_count_is_only_for_meta_analyses_and_at_least_1(design, trial_count):
    with refused_by("study_trial_count_only_for_meta_analysis"):
        make_study(design=design, trial_count=trial_count)


@pytest.fixture
def compound_and_goal():
    return make_compound(), make_goal()


def test_finding_outcome_is_recorded_once_per_study_compound_and_goal(compound_and_goal):
    finding = make_finding(*compound_and_goal, outcome="Overall survival")
    with refused_by("finding_unique_outcome"):
        make_finding(*compound_and_goal, study=finding.study, outcome="Overall survival")


@pytest.mark.parametrize(("ci_low", "ci_high"), [(D("1.2"), None), (None, D("1.9"))])
def test_ci_needs_both_bounds(compound_and_goal, ci_low, ci_high):
    with refused_by("finding_ci_complete_and_ordered"):
        make_finding(*compound_and_goal, ci_low=ci_low, ci_high=ci_high)


def test_ci_low_must_be_below_ci_high(compound_and_goal):
    with refused_by("finding_ci_complete_and_ordered"):
        make_finding(*compound_and_goal, value=D("1.5"), ci_low=D("1.5"), ci_high=D("1.5"))


@pytest.mark.parametrize(
    ("measure", "value"),
    [
        (Finding.Measure.MEAN_DIFFERENCE, D("1.1")),
        (Finding.Measure.MEAN_DIFFERENCE, D("2.0")),
        (Finding.Measure.QUALITATIVE, None),
    ],
)
def test_value_must_lie_inside_its_ci(compound_and_goal, measure, value):
    with refused_by("finding_effect_inside_ci"):
        make_finding(
            *compound_and_goal,
            measure=measure,
            value=value,
            ci_low=D("1.2"),
            ci_high=D("1.9"),
        )


@pytest.mark.parametrize("p_value", [D(0), D("1.5")])
def test_p_value_must_be_above_0_and_at_most_1(compound_and_goal, p_value):
    with refused_by("finding_p_value_in_range"):
        make_finding(*compound_and_goal, p_value=p_value)


@pytest.mark.parametrize(
    ("value", "ci_low", "ci_high"),
    [(D(0), None, None), (D("-0.5"), None, None), (D("0.5"), D(0), D("0.9"))],
)
def test_ratio_and_its_ci_must_be_positive(compound_and_goal, value, ci_low, ci_high):
    with refused_by("finding_ratio_positive"):
        make_finding(
            *compound_and_goal,
            measure=Finding.Measure.HAZARD_RATIO,
            value=value,
            ci_low=ci_low,
            ci_high=ci_high,
        )


@pytest.mark.parametrize(
    ("value", "comparator_value"),
    [(D(101), None), (D(-1), None), (D(40), D(101)), (D(40), D(-1))],
)
def test_proportion_is_a_percentage(compound_and_goal, value, comparator_value):
    with refused_by("finding_proportion_is_percent"):
        make_finding(
            *compound_and_goal,
            measure=Finding.Measure.PROPORTION,
            value=value,
            ci_low=None,
            ci_high=None,
            comparator_value=comparator_value,
        )


def test_comparator_value_is_only_for_proportions(compound_and_goal):
    with refused_by("finding_comparator_value_only_for_proportions"):
        make_finding(*compound_and_goal, comparator_value=D(40))


def test_value_is_required_unless_qualitative(compound_and_goal):
    make_finding(*compound_and_goal, measure=Finding.Measure.QUALITATIVE)
    with refused_by("finding_value_required_unless_qualitative"):
        make_finding(*compound_and_goal, measure=Finding.Measure.MEAN_DIFFERENCE, value=None)


@pytest.mark.parametrize(
    "figures",
    [
        {"ci_low": D("1.2"), "ci_high": D("1.9")},
        {"ci_low": None, "ci_high": None, "p_value": D("0.01")},
    ],
    ids=["with CI", "with p-value"],
)
def test_stated_significance_only_without_ci_or_p_value(compound_and_goal, figures):
    with refused_by("finding_stated_significance_only_without_ci_or_p"):
        make_finding(*compound_and_goal, stated_significance=True, **figures)


@pytest.mark.parametrize("direction", ["", "benefit"], ids=["missing", "typed"])
def test_a_direction_is_stated_without_figures_and_only_then(compound_and_goal, direction):
    qualitative = {"measure": Finding.Measure.QUALITATIVE, "stated_significance": True}
    with_figures = {"measure": Finding.Measure.ODDS_RATIO}
    fields = with_figures if direction else qualitative
    with refused_by("finding_direction_given_only_without_figures"):
        make_finding(*compound_and_goal, direction=direction, **fields)


def test_a_direction_typed_against_the_figures_is_refused_in_plain_words(compound_and_goal):
    compound, goal = compound_and_goal
    harmful = Finding(
        study=make_study(),
        compound=compound,
        goal=goal,
        outcome="Synthetic outcome",
        comparator=Finding.Comparator.PLACEBO,
        measure=Finding.Measure.ODDS_RATIO,
        value=D("0.5"),
        ci_low=D("0.3"),
        ci_high=D("0.8"),
        direction=Finding.Direction.BENEFIT,
    )
    with pytest.raises(ValidationError) as refusal:
        harmful.full_clean()
    [message] = refusal.value.messages
    assert "takes its direction from them: leave Direction empty" in message


@pytest.mark.parametrize(
    ("direction", "favours"),
    [
        ("benefit", Favours.COMPOUND),
        ("harm", Favours.COMPARATOR),
        ("no_difference", Favours.NEITHER),
        ("mixed", Favours.UNKNOWN),
        ("unclear", Favours.UNKNOWN),
    ],
)
def test_a_result_without_figures_favours_the_side_its_source_states(
    compound_and_goal, direction, favours
):
    finding = make_finding(
        *compound_and_goal,
        measure=Finding.Measure.QUALITATIVE,
        stated_significance=True,
        direction=direction,
    )
    assert finding.favours == favours


# Vendors and offers


def test_vendor_website_must_be_https():
    with refused_by("vendor_website_https"):
        make_vendor(website="http://vendor.example.com")


@pytest.fixture
def compound():
    return make_compound()


def test_offer_key_is_unique_per_vendor(compound):
    offer = make_offer(compound, key="tb-500-5mg")
    make_offer(compound, key="tb-500-5mg")  # another vendor may use the same key
    with refused_by("offer_key_unique_per_vendor"):
        make_offer(compound, vendor=offer.vendor, key="tb-500-5mg")


def test_offer_url_must_be_https(compound):
    with refused_by("offer_url_https"):
        make_offer(compound, url="http://vendor.example.com/products/1")


def test_offer_price_must_be_positive(compound):
    with refused_by("offer_price_positive"):
        make_offer(compound, price=D(0))


def test_offer_amount_per_unit_must_be_positive(compound):
    with refused_by("offer_amount_positive"):
        make_offer(compound, amount_per_unit=D(0))


def test_offer_has_at_least_one_unit_per_pack(compound):
    with refused_by("offer_units_per_pack_positive"):
        make_offer(compound, units_per_pack=0)


@pytest.mark.parametrize("code", ["jpy", "JP", "JP1", "J Y"])
def test_offer_currency_must_be_three_capital_letters_in_the_database(compound, code):
    with refused_by("offer_currency_iso_code"):
        make_offer(compound, currency=code)


@pytest.mark.parametrize("code", ["JPY", "CHF", "INR", "AUD", "USD"])
def test_offer_may_be_priced_in_any_iso_4217_currency(compound, code):
    assert validation_errors(make_offer(compound, currency=code)) == {}


@pytest.mark.parametrize("code", ["XYZ", "ABC", "jpy"])
def test_offer_currency_outside_iso_4217_is_refused_with_a_plain_message(compound, code):
    offer = make_offer(compound)
    offer.currency = code
    [message] = validation_errors(offer)["currency"]
    assert "ISO 4217" in message


def test_offer_has_a_price_exactly_when_the_price_is_public(compound):
    with refused_by("offer_price_only_when_public"):
        make_offer(compound, price=None)
    with refused_by("offer_price_only_when_public"):
        make_offer(compound, price=D("40.00"), price_availability="on_request")
    for availability in ("on_request", "after_login"):
        offer = make_offer(compound, price_availability=availability)
        assert offer.price is None
        assert validation_errors(offer) == {}


def test_offer_without_a_public_price_is_refused_by_full_clean_with_the_constraints_words(
    compound,
):
    offer = make_offer(compound)
    offer.price_availability = Offer.PriceAvailability.AFTER_LOGIN
    [message] = validation_errors(offer)["__all__"]
    assert message.startswith("An offer with a public price needs the price")


def test_offer_certificate_of_analysis_must_be_https(compound):
    with refused_by("offer_certificate_url_https"):
        make_offer(compound, certificate_of_analysis_url="http://lab.example.com/coa.pdf")
    offer = make_offer(compound, certificate_of_analysis_url="https://lab.example.com/coa.pdf")
    assert validation_errors(offer) == {}
    offer.certificate_of_analysis_url = "ftp://lab.example.com/coa.pdf"
    assert "certificate_of_analysis_url" in validation_errors(offer)


@pytest.mark.parametrize("form", ["pen", "cartridge", "kit"])
def test_offer_may_be_sold_as_a_pen_cartridge_or_kit(compound, form):
    assert validation_errors(make_offer(compound, form=form)) == {}


# Plausible offers: bounds, the vendor's own host, and prices near the compound's median


def validation_errors(obj) -> dict:
    try:
        obj.full_clean()
    except ValidationError as exc:
        return exc.message_dict
    return {}


@pytest.mark.parametrize(
    "fields",
    [
        {"price": D("0.01")},
        {"price": D("99999999.00")},
        {"units_per_pack": 2_000_000_000},
        {"amount_per_unit": D("99999999"), "unit": "g"},
    ],
    ids=["price too low", "price too high", "too many units", "too much per unit"],
)
def test_offer_price_and_amount_must_be_within_bounds(compound, fields):
    offer = make_offer(compound)
    assert validation_errors(offer) == {}
    for name, value in fields.items():
        setattr(offer, name, value)
    assert set(validation_errors(offer)) & set(fields)


@pytest.fixture
def shop():
    return make_vendor(website="https://synthetic-shop.example.com")


@pytest.mark.parametrize(
    "url",
    [
        "https://synthetic-shop.example.com/products/1",
        "https://www.synthetic-shop.example.com/products/1",
        "https://store.synthetic-shop.example.com/products/1",
    ],
)
def test_offer_url_on_the_vendors_own_host_is_accepted(compound, shop, url):
    assert validation_errors(make_offer(compound, vendor=shop, url=url)) == {}


@pytest.mark.parametrize(
    "url",
    [
        "https://other.example/products/1",
        "https://synthetic-shop.example.com.other.example/products/1",
        "https://notsynthetic-shop.example.com/products/1",
        "https://user:pass@synthetic-shop.example.com/products/1",
        "https://user:pass@other.example/",
        "https://synthetic-shop.example.com:8443/products/1",
    ],
)
def test_offer_url_elsewhere_or_with_credentials_is_refused(compound, shop, url):
    assert "url" in validation_errors(make_offer(compound, vendor=shop, url=url))


def test_offer_url_on_a_host_staff_allow_listed_for_the_vendor_is_accepted(compound):
    vendor = make_vendor(
        website="https://synthetic-shop.example.com", offer_hosts="synthetic-market.example.org"
    )
    offer = make_offer(compound, vendor=vendor, url="https://synthetic-market.example.org/p/1")
    assert validation_errors(offer) == {}
    other = make_vendor(website="https://synthetic-other.example.com")
    offer = make_offer(compound, vendor=other, url="https://synthetic-market.example.org/p/2")
    assert "url" in validation_errors(offer)


def priced(compound, price: str, vendor=None, **fields):
    """An offer of one 5 mg vial at `price` USD (price / 5 per mg)."""
    return make_offer(compound, vendor=vendor, price=D(price), amount_per_unit=D(5), **fields)


@pytest.fixture
def market(compound):
    """Three vendors' offers of the compound at 8, 9 and 10 USD/mg: a median of 9 USD/mg."""
    return [priced(compound, price) for price in ("40.00", "45.00", "50.00")]


@pytest.mark.parametrize("price", ["0.50", "5000.00"], ids=["far below", "far above"])
def test_offer_priced_far_from_the_compounds_median_is_held_for_review(compound, market, price):
    offer = priced(compound, price)
    assert offer.review == Offer.Review.HELD
    assert "median" in offer.review_note
    assert offer not in Offer.objects.visible()


def test_offer_priced_within_the_factor_of_the_median_is_shown(compound, market):
    near = [priced(compound, "10.00"), priced(compound, "400.00")]  # 2 and 80 USD/mg
    assert set(near) <= set(Offer.objects.visible())


def test_offer_with_no_other_vendors_offer_to_compare_is_shown(compound):
    assert priced(compound, "0.50") in Offer.objects.visible()


def test_a_vendors_own_offers_do_not_make_the_median_its_offer_is_held_against(compound):
    priced(compound, "40.00")  # another vendor: 8 USD/mg
    own = make_vendor()
    for price in ("5.00", "2.50", "1.00"):  # 1, 0.5 and 0.2 USD/mg
        priced(compound, price, vendor=own)
    offer = priced(compound, "0.50", vendor=own)  # 0.1 USD/mg: 80 times below the others
    assert offer.review == Offer.Review.HELD


def test_offers_in_another_currency_are_not_compared(compound, market):
    assert priced(compound, "0.50", currency="EUR").review == Offer.Review.APPROVED


def test_a_price_in_a_currency_without_bounds_is_bounded_by_its_column_only(compound):
    offer = make_offer(compound, currency="JPY", price=D("1500000.00"))  # above 20,000
    assert validation_errors(offer) == {}
    offer.currency = "USD"
    assert "price" in validation_errors(offer)


def test_an_offer_without_a_public_price_has_no_price_per_mg_and_is_never_held(compound, market):
    for availability in ("on_request", "after_login"):
        offer = make_offer(compound, price_availability=availability, amount_per_unit=D(5))
        assert offer.review == Offer.Review.APPROVED
        assert offer.computed_price_per_mg() is None
        assert Offer.objects.with_price_per_mg().get(pk=offer.pk).price_per_mg is None
        assert offer in Offer.objects.visible()
        assert offer not in Offer.objects.priced()


def test_offers_without_a_public_price_never_set_the_median(compound):
    priced(compound, "40.00")  # 8 USD/mg
    for _ in range(3):
        make_offer(compound, price_availability="on_request", amount_per_unit=D(5))
    assert priced(compound, "0.50").review == Offer.Review.HELD  # 0.1 USD/mg against 8


def test_staff_approval_shows_a_held_offer(compound, market):
    offer = priced(compound, "0.50")
    offer.approve()
    offer.refresh_from_db()
    assert (offer.review, offer.review_note) == (Offer.Review.APPROVED, "")
    assert offer in Offer.objects.visible()
    offer.in_stock = False
    offer.save()  # a change that leaves the price alone keeps the approval
    assert offer in Offer.objects.visible()


def test_an_approved_offer_is_held_again_when_its_price_changes_implausibly(compound, market):
    offer = priced(compound, "42.00")
    assert offer.review == Offer.Review.APPROVED
    offer.price = D("0.50")
    offer.save()
    assert offer.review == Offer.Review.HELD
    assert offer not in Offer.objects.visible()


# Clicks on an offer


def test_an_offer_has_one_click_count_per_day(compound):
    offer = make_offer(compound)
    make_clicks(offer, 3, day=date(2026, 1, 2))
    make_clicks(offer, 1, day=date(2026, 1, 3))
    with refused_by("offer_clicks_one_row_per_day"):
        make_clicks(offer, 1, day=date(2026, 1, 2))


def test_count_click_adds_one_to_todays_row_and_starts_a_new_one_each_day(compound):
    offer = make_offer(compound)
    make_clicks(offer, 5, day=date(2020, 1, 1))
    OfferClicks.count_click(offer.pk)
    OfferClicks.count_click(offer.pk)

    assert sorted(offer.clicks.values_list("count", flat=True)) == [2, 5]
    assert Offer.objects.with_click_total().get(pk=offer.pk).click_total == 7


def test_an_offer_without_clicks_has_a_click_total_of_zero(compound):
    make_offer(compound)
    assert [o.click_total for o in Offer.objects.with_click_total()] == [0]


# Significance and direction of a finding, derived from its figures


def finding(measure=Finding.Measure.ODDS_RATIO, **figures) -> Finding:
    """An unsaved finding with only the figures that matter here."""
    return Finding(measure=measure, **figures)


def ci(low, high):
    return {"ci_low": D(low), "ci_high": D(high)}


@pytest.mark.parametrize(
    ("measure", "value", "low", "high", "expected"),
    [
        (Finding.Measure.ODDS_RATIO, "1.5", "1.2", "1.9", True),
        (Finding.Measure.RISK_RATIO, "0.6", "0.4", "0.9", True),
        (Finding.Measure.HAZARD_RATIO, "0.8", "0.6", "1.1", False),
        # A ratio's null is 1: a CI above 0 that includes 1 is not significant.
        (Finding.Measure.ODDS_RATIO, "1.5", "0.5", "2.5", False),
        # A difference's null is 0: the same CI excludes it.
        (Finding.Measure.MEAN_DIFFERENCE, "1.5", "0.5", "2.5", True),
        (Finding.Measure.STD_MEAN_DIFFERENCE, "0.2", "-0.1", "0.5", False),
        (Finding.Measure.RISK_DIFFERENCE, "-5", "-9", "-1", True),
    ],
)
def test_significance_comes_from_whether_the_ci_excludes_the_null(
    measure, value, low, high, expected
):
    assert finding(measure, value=D(value), **ci(low, high)).significant is expected


def test_ci_decides_over_a_p_value():
    significant_ci = finding(value=D("1.5"), p_value=D("0.2"), **ci("1.2", "1.9"))
    assert significant_ci.significant is True


@pytest.mark.parametrize(
    ("p_value", "is_bound", "expected"),
    [
        ("0.049", False, True),
        ("0.05", False, False),
        ("0.2", False, False),
        ("0.05", True, True),  # "p<0.05"
        ("0.001", True, True),  # "p<0.001"
    ],
)
def test_without_a_ci_the_p_value_decides(p_value, is_bound, expected):
    result = finding(value=D("1.4"), p_value=D(p_value), p_value_is_bound=is_bound)
    assert result.significant is expected


def test_proportion_with_a_comparator_value_is_judged_by_its_p_value():
    result = finding(
        Finding.Measure.PROPORTION, value=D(60), comparator_value=D(40), p_value=D("0.01")
    )
    assert result.significant is True
    assert result.effect == D(20)


def test_single_arm_proportion_is_not_assessable():
    result = finding(Finding.Measure.PROPORTION, value=D(60), **ci(50, 70))
    assert result.significant is None
    assert result.favours == Favours.UNKNOWN


def test_a_two_arm_proportions_ci_is_that_of_the_difference():
    crossing = finding(
        Finding.Measure.PROPORTION, value=D(55), comparator_value=D(50), **ci(-5, 15)
    )
    excluding = finding(
        Finding.Measure.PROPORTION, value=D(55), comparator_value=D(40), **ci(5, 25)
    )
    assert crossing.significant is False
    assert excluding.significant is True


def test_a_two_arm_proportions_ci_must_contain_the_difference(compound_and_goal):
    with refused_by("finding_effect_inside_ci"):
        make_finding(
            *compound_and_goal,
            measure=Finding.Measure.PROPORTION,
            value=D(55),
            comparator_value=D(50),
            ci_low=D(45),
            ci_high=D(65),
        )


@pytest.mark.parametrize(
    ("comparator_value", "ci_low", "ci_high"),
    [(None, D(-5), D(40)), (None, D(30), D(120)), (D(10), D(-120), D(50))],
)
def test_a_proportions_ci_stays_in_range(compound_and_goal, comparator_value, ci_low, ci_high):
    with refused_by("finding_proportion_ci_in_range"):
        make_finding(
            *compound_and_goal,
            measure=Finding.Measure.PROPORTION,
            value=D(30),
            comparator_value=comparator_value,
            ci_low=ci_low,
            ci_high=ci_high,
        )


def test_a_p_value_bound_needs_a_p_value(compound_and_goal):
    with refused_by("finding_p_value_bound_needs_p_value"):
        make_finding(*compound_and_goal, p_value_is_bound=True)


@pytest.mark.parametrize(
    "figures",
    [{"value": D("1.5")}, {"value": D("1.5"), "ci_low": D("1.2"), "ci_high": D("1.9")}],
)
def test_a_qualitative_finding_has_no_figures(compound_and_goal, figures):
    with refused_by("finding_qualitative_has_no_figures"):
        make_finding(*compound_and_goal, measure=Finding.Measure.QUALITATIVE, **figures)


@pytest.mark.parametrize("comparator", [Finding.Comparator.PLACEBO, "self"])
def test_a_comparator_compound_is_another_active_treatment(compound_and_goal, comparator):
    compound, goal = compound_and_goal
    other = compound if comparator == "self" else make_compound()
    kind = Finding.Comparator.ACTIVE if comparator == "self" else comparator
    with refused_by("finding_comparator_compound_is_another_active_treatment"):
        make_finding(compound, goal, comparator=kind, comparator_compound=other)


def test_an_interaction_may_be_entered_in_either_order_but_not_with_itself():
    first, second = make_compound(), make_compound()
    interaction = Interaction(
        compound_a=second, compound_b=first, severity="minor", note="Synthetic note"
    )
    interaction.full_clean()
    assert (interaction.compound_a, interaction.compound_b) == (first, second)
    with pytest.raises(ValidationError):
        Interaction(
            compound_a=first, compound_b=first, severity="minor", note="Synthetic note"
        ).full_clean()


@pytest.mark.parametrize(("stated", "expected"), [(True, True), (False, False), (None, None)])
def test_qualitative_finding_takes_the_sources_stated_significance(stated, expected):
    result = finding(Finding.Measure.QUALITATIVE, stated_significance=stated)
    assert result.significant is expected
    assert result.favours == Favours.UNKNOWN


def test_ratio_without_ci_or_p_value_is_not_assessable():
    assert finding(value=D("1.4")).significant is None


@pytest.mark.parametrize(
    ("measure", "value", "higher_is_better", "expected"),
    [
        (Finding.Measure.ODDS_RATIO, "1.5", True, Favours.COMPOUND),
        (Finding.Measure.ODDS_RATIO, "0.7", True, Favours.COMPARATOR),
        (Finding.Measure.ODDS_RATIO, "1", True, Favours.NEITHER),
        # Mortality: a hazard ratio below 1 favours the compound.
        (Finding.Measure.HAZARD_RATIO, "0.7", False, Favours.COMPOUND),
        (Finding.Measure.HAZARD_RATIO, "1.3", False, Favours.COMPARATOR),
        (Finding.Measure.MEAN_DIFFERENCE, "2", True, Favours.COMPOUND),
        (Finding.Measure.MEAN_DIFFERENCE, "-2", True, Favours.COMPARATOR),
        (Finding.Measure.MEAN_DIFFERENCE, "0", True, Favours.NEITHER),
        (Finding.Measure.RISK_DIFFERENCE, "-5", False, Favours.COMPOUND),
    ],
)
def test_favours_reads_the_point_estimate_against_the_null(
    measure, value, higher_is_better, expected
):
    result = finding(measure, value=D(value), higher_is_better=higher_is_better)
    assert result.favours == expected


@pytest.mark.parametrize(
    ("value", "comparator_value", "higher_is_better", "expected"),
    [
        (60, 40, True, Favours.COMPOUND),
        (40, 60, True, Favours.COMPARATOR),
        (50, 50, True, Favours.NEITHER),
        # Recurrence: a lower proportion favours the compound.
        (20, 35, False, Favours.COMPOUND),
    ],
)
def test_favours_of_a_proportion_compares_the_two_arms(
    value, comparator_value, higher_is_better, expected
):
    result = finding(
        Finding.Measure.PROPORTION,
        value=D(value),
        comparator_value=D(comparator_value),
        higher_is_better=higher_is_better,
    )
    assert result.favours == expected


def test_derived_significance_survives_the_round_trip_through_the_database(compound_and_goal):
    stored = make_finding(
        *compound_and_goal,
        measure=Finding.Measure.HAZARD_RATIO,
        value=D("0.308"),
        ci_low=D("0.175"),
        ci_high=D("0.541"),
        higher_is_better=False,
    )
    stored = Finding.objects.get(pk=stored.pk)
    assert stored.significant is True
    assert stored.favours == Favours.COMPOUND


# Unit conversion


def test_a_dose_range_costs_its_low_end():
    dosing = Dosing(amount=D(1), amount_max=D(3), unit="g", doses_per_week=D(3))
    assert dosing.milligrams_per_month == D(1000) * 3 * 52 / 12


def test_a_dose_per_kg_of_body_weight_gives_no_monthly_amount():
    dosing = Dosing(amount=D("0.3"), unit="g", per_kg=True, doses_per_week=D(7))
    assert dosing.milligrams_per_month is None


@pytest.mark.parametrize(
    ("amount", "unit", "doses_per_week", "expected"),
    [
        ("3", "mg", "4", D(52)),
        ("750", "mcg", "4", D(13)),
        ("1.5", "g", "2", D(13000)),
        ("5000", "IU", "7", None),
        ("1", "ml", "7", None),
        ("3", "mg", None, None),
    ],
)
def test_milligrams_per_month_converts_units(amount, unit, doses_per_week, expected):
    dosing = Dosing(
        amount=D(amount),
        unit=unit,
        doses_per_week=None if doses_per_week is None else D(doses_per_week),
    )
    assert dosing.milligrams_per_month == expected


@pytest.mark.parametrize(
    ("price", "amount_per_unit", "unit", "units_per_pack", "expected"),
    [
        ("40.00", "5", "mg", 1, D(8)),
        ("30.00", "500", "mcg", 60, D(1)),
        ("20.00", "0.5", "g", 1, D("0.04")),
        ("25.00", "5000", "IU", 100, None),
        ("25.00", "10", "ml", 1, None),
    ],
)
def test_price_per_mg_converts_units(
    compound, price, amount_per_unit, unit, units_per_pack, expected
):
    make_offer(
        compound,
        price=D(price),
        amount_per_unit=D(amount_per_unit),
        unit=unit,
        units_per_pack=units_per_pack,
    )
    [offer] = Offer.objects.with_price_per_mg()
    if expected is None:
        assert offer.price_per_mg is None
    else:
        assert offer.price_per_mg == pytest.approx(expected, rel=D("1e-9"))


def test_milligrams_in_sql_and_in_python_agree_for_every_unit(compound):
    for unit in Unit.values:
        make_offer(compound, key=f"synthetic-{unit.lower()}", amount_per_unit=D(3), unit=unit)
    offers = Offer.objects.annotate(mg=Unit.milligrams_expression("amount_per_unit", "unit"))
    for offer in offers:
        expected = Unit.milligrams(offer.amount_per_unit, offer.unit)
        assert (offer.mg is None) == (expected is None), offer.unit
        if expected is not None:
            assert offer.mg == pytest.approx(expected)


# Querysets


def test_search_finds_a_compound_by_name_case_insensitively():
    thymosin = make_compound("Thymosin alpha-1")
    make_compound("Synthetic other compound")
    assert list(Compound.objects.search("THYMOSIN")) == [thymosin]


def test_search_finds_a_compound_by_alias_case_insensitively():
    thymosin = make_compound("Thymosin alpha-1", aliases=["Zadaxin", "Thymalfasin"])
    make_compound("Synthetic other compound", aliases=["Synthetic alias"])
    assert list(Compound.objects.search("zadaxin")) == [thymosin]
    assert list(Compound.objects.search("  THYMALF ")) == [thymosin]


def test_search_lists_a_compound_once_when_name_and_aliases_match():
    thymosin = make_compound("Thymosin alpha-1", aliases=["Thymosin a1", "Thymosin-alpha"])
    assert list(Compound.objects.search("thymosin")) == [thymosin]


def test_blank_search_finds_every_compound():
    make_compound()
    make_compound()
    assert Compound.objects.search("  ").count() == 2


def test_published_hides_unpublished_compounds():
    shown = make_compound(published=True)
    make_compound(published=False)
    assert list(Compound.objects.published()) == [shown]
    assert list(Compound.objects.published().search(shown.name)) == [shown]


# Deletion


def test_goal_with_ratings_cannot_be_deleted():
    rating = make_rating()
    with pytest.raises(ProtectedError) as refusal:
        rating.goal.delete()
    assert set(refusal.value.protected_objects) == {rating}


def test_tier_with_ratings_cannot_be_deleted():
    rating = make_rating(tier_number=2)
    with pytest.raises(ProtectedError):
        rating.tier.delete()


def test_compound_on_sale_cannot_be_deleted(compound):
    make_offer(compound)
    with pytest.raises(ProtectedError):
        compound.delete()


def test_deleting_a_compound_deletes_its_aliases_and_ratings():
    compound = make_compound(aliases=["Zadaxin"])
    make_rating(compound=compound)
    compound.delete()
    assert not CompoundAlias.objects.exists()
    assert not Rating.objects.exists()


# The index's cards (CompoundQuerySet.index_cards)


def test_an_index_card_holds_aliases_in_entry_order_and_ratings_strongest_tier_first():
    compound = make_compound("Synthetic card", aliases=["Synthetic Z alias", "Synthetic A alias"])
    make_rating(compound, make_goal("Synthetic b goal", slug="synthetic-b-goal"), tier_number=3)
    make_rating(compound, make_goal("Synthetic a goal", slug="synthetic-a-goal"), tier_number=3)
    make_rating(compound, make_goal("Synthetic z goal", slug="synthetic-z-goal"), tier_number=1)

    card = Compound.objects.index_cards([compound.pk])[compound.pk]

    assert (card.name, card.slug, card.has_findings) == ("Synthetic card", compound.slug, False)
    assert card.get_kind_display() == compound.get_kind_display()
    assert card.get_absolute_url() == compound.get_absolute_url()
    assert card.alias_names == ("Synthetic Z alias", "Synthetic A alias")
    assert [(r.tier.number, r.goal_slug) for r in card.ratings] == [
        (1, "synthetic-z-goal"),
        (3, "synthetic-a-goal"),
        (3, "synthetic-b-goal"),
    ]
    assert card.ratings[0].tier.label == tier(1).label


def test_an_index_card_shows_a_kind_outside_the_choices_as_stored():
    compound = make_compound()
    Compound.objects.filter(pk=compound.pk).update(kind="synthetic-kind")
    card = Compound.objects.index_cards([compound.pk])[compound.pk]
    assert card.get_kind_display() == "synthetic-kind"


def test_an_index_card_says_whether_findings_are_recorded(compound_and_goal):
    compound, goal = compound_and_goal
    bare = make_compound()
    make_finding(compound, goal)

    cards = Compound.objects.index_cards([compound.pk, bare.pk])

    assert cards[compound.pk].has_findings and not cards[bare.pk].has_findings


@pytest.mark.parametrize("size", [1, 10])
def test_index_cards_take_three_queries_whatever_their_number(django_assert_num_queries, size):
    ids = []
    for _ in range(size):
        compound = make_compound(aliases=["Synthetic shared alias"])
        make_rating(compound)
        ids.append(compound.pk)
    with django_assert_num_queries(3):
        cards = Compound.objects.published().index_cards(ids)
    assert set(cards) == set(ids)


def test_index_cards_leave_out_compounds_the_queryset_does_not_hold():
    hidden = make_compound(published=False)
    shown = make_compound()
    assert set(Compound.objects.published().index_cards([hidden.pk, shown.pk])) == {shown.pk}


def test_an_alias_shared_by_two_cards_is_offered_as_a_choice():
    niacin = make_compound("Synthetic niacin", aliases=["Synthetic B3"])
    amide = make_compound("Synthetic nicotinamide", aliases=["synthetic b3", "Synthetic NAM"])
    cards = Compound.objects.index_cards([niacin.pk, amide.pk])

    choice = CompoundAlias.shared_among([cards[niacin.pk], cards[amide.pk]], "synthetic b3")

    assert choice == [("Synthetic B3", [cards[niacin.pk], cards[amide.pk]])]
    assert CompoundAlias.shared_among(list(cards.values()), "Synthetic NAM") == []


def test_deleting_a_comparator_compound_keeps_the_finding(compound_and_goal):
    comparator = make_compound()
    result = make_finding(
        *compound_and_goal, comparator=Finding.Comparator.ACTIVE, comparator_compound=comparator
    )
    comparator.delete()
    result.refresh_from_db()
    assert result.comparator_compound is None


# Provenance: every study is citable, sources name their licence


def test_a_study_with_no_citation_and_no_provenance_is_refused_with_a_plain_message():
    study = Study(slug="synthetic-uncited", title="Synthetic uncited study", design="rct")
    with pytest.raises(ValidationError) as refusal:
        study.full_clean()
    assert refusal.value.messages == [
        "A study needs a citation (a DOI, PMID or URL) or its provenance (the source it was "
        "taken from, or the article it is reported in)."
    ]
    with refused_by("study_citable"):
        Study.objects.create(slug="synthetic-uncited", title="Synthetic uncited", design="rct")


@pytest.mark.parametrize(
    "citation",
    [
        {"doi": "10.5555/synthetic"},
        {"pmid": "0"},
        {"url": "https://example.com/synthetic"},
        {"source": "a source"},
        {"reported_in": "an article"},
    ],
    ids=lambda c: next(iter(c)),
)
def test_a_study_is_citable_by_any_one_citation_or_provenance(citation):
    if "source" in citation:
        citation = {"source": make_source()}
    elif "reported_in" in citation:
        citation = {
            "reported_in": Article.objects.create(
                compound=make_compound(), slug="synthetic-article", title="t", body="b"
            )
        }
    study = Study(slug="synthetic-cited", design="rct", **citation)
    study.full_clean()
    study.save()


def test_a_study_title_may_be_not_reported():
    study = make_study(title="")
    study.full_clean()
    assert study.display_title == "Title not reported"
    assert str(study) == f"Untitled study ({study.slug})"


def test_a_record_id_or_contributor_needs_the_study_to_name_its_source():
    with refused_by("study_record_id_and_contributor_need_a_source"):
        make_study(source_record_id="synthetic-42")
    with refused_by("study_record_id_and_contributor_need_a_source"):
        make_study(contributor="Synthetic contributor")
    make_study(source=make_source(), source_record_id="synthetic-42", contributor="Synthetic")


def test_a_source_licence_url_must_be_https():
    with refused_by("source_licence_url_https"):
        make_source(licence_url="http://example.com/licence")
    with pytest.raises(ValidationError) as refusal:
        Source(
            name="Synthetic",
            slug="synthetic",
            licence="L",
            licence_url="http://example.com/l",
            retrieved=date(2026, 1, 1),
            attribution="A",
        ).full_clean()
    assert "licence_url" in refusal.value.message_dict


def test_a_source_address_when_given_must_be_https():
    with refused_by("source_url_https"):
        make_source(url="http://example.com/dataset")


def test_a_licence_that_requires_attribution_needs_the_attribution_text():
    with refused_by("source_attribution_given_when_required"):
        make_source(attribution="", attribution_required=True)
    make_source(attribution="", attribution_required=False)


def test_a_source_or_article_a_study_cites_cannot_be_deleted():
    source = make_source()
    make_study(source=source)
    with pytest.raises(ProtectedError):
        source.delete()
    article = Article.objects.create(
        compound=make_compound(), slug="synthetic-article", title="t", body="b"
    )
    make_study(reported_in=article)
    with pytest.raises(ProtectedError):
        article.delete()


def test_staff_entered_studies_are_reviewed_by_default():
    assert make_study().reviewed is True


# Readable names


def thymosin():
    return make_compound("Thymosin alpha-1")


def liver():
    return make_goal("Liver health")


def vendor():
    return make_vendor("Synthetic Peptides Ltd")


def study():
    return make_study(title="Synthetic trial of thymosin")


STR_EXAMPLES = {
    ContentVersion: (
        lambda: ContentVersion.objects.update_or_create(pk=1, defaults={"version": 7})[0],
        "Content version 7",
    ),
    Goal: (liver, "Liver health"),
    Tier: (lambda: tier(1), "Tier 1: Established efficacy"),
    Compound: (thymosin, "Thymosin alpha-1"),
    CompoundAlias: (
        lambda: CompoundAlias.objects.create(compound=thymosin(), name="Zadaxin"),
        "Zadaxin",
    ),
    Dosing: (
        lambda: make_dosing(thymosin(), amount=D("1.6000"), route="subcutaneous", goal=liver()),
        "Thymosin alpha-1: 1.6 mg twice weekly, subcutaneous injection for Liver health",
    ),
    SideEffect: (
        lambda: make_side_effect(thymosin(), name="Injection-site redness"),
        "Injection-site redness (common)",
    ),
    Contraindication: (
        lambda: make_contraindication(thymosin(), condition="organ_transplant"),
        "Thymosin alpha-1: Organ transplant recipient",
    ),
    RegulatoryStatus: (
        lambda: make_regulatory_status(
            thymosin(), jurisdiction="Synthetic Republic", status="not_approved"
        ),
        "Thymosin alpha-1: not approved in Synthetic Republic",
    ),
    AntiDopingStatus: (
        lambda: make_anti_doping_status(
            thymosin(), list_name="Synthetic prohibited list", list_class="Synthetic class S0"
        ),
        "Thymosin alpha-1: prohibited, Synthetic prohibited list (Synthetic class S0)",
    ),
    Interaction: (
        lambda: Interaction.objects.create(
            compound_a=thymosin(),
            compound_b=make_compound("Synthetic immunosuppressant"),
            severity="major",
            note="Opposing effects.",
        ),
        "Thymosin alpha-1 + Synthetic immunosuppressant (major)",
    ),
    Rating: (
        lambda: make_rating(compound=thymosin(), goal=liver(), tier_number=2),
        "Thymosin alpha-1 for Liver health: Tier 2",
    ),
    Study: (study, "Synthetic trial of thymosin"),
    Source: (
        lambda: make_source("Synthetic open dataset"),
        "Synthetic open dataset",
    ),
    Finding: (
        lambda: make_finding(thymosin(), liver(), study=study(), outcome="Overall survival"),
        "Thymosin alpha-1 - Overall survival (Synthetic trial of thymosin)",
    ),
    Article: (
        lambda: Article.objects.create(
            compound=thymosin(), slug="deep-dive", title="Thymosin, in depth", body="..."
        ),
        "Thymosin, in depth",
    ),
    Vendor: (vendor, "Synthetic Peptides Ltd"),
    Offer: (
        lambda: make_offer(thymosin(), vendor=vendor(), product_name="Thymosin 5 mg vial"),
        "Thymosin 5 mg vial (Synthetic Peptides Ltd)",
    ),
    OfferClicks: (
        lambda: make_clicks(make_offer(thymosin()), 12, day=date(2026, 3, 4)),
        "12 clicks on 2026-03-04",
    ),
    VendorAccount: (
        lambda: VendorAccount.objects.create(
            user=User.objects.create_user("synthetic-seller"), vendor=vendor()
        ),
        "synthetic-seller for Synthetic Peptides Ltd",
    ),
    ErrorReport: (
        lambda: ErrorReport.objects.create(
            page="/compounds/synthetic/", message="Synthetic report.", compound=thymosin()
        ),
        "Error report on /compounds/synthetic/ (new)",
    ),
    CertaintyChange: (
        lambda: CertaintyChange.objects.create(
            compound=thymosin(), goal=make_goal("Synthetic goal"), previous=3, certainty=2
        ),
        "Thymosin alpha-1 for Synthetic goal: certainty 3 -> 2",
    ),
}


@pytest.mark.parametrize(
    "model",
    # simple-history's tables name themselves ("... as of <date>").
    [m for m in apps.get_app_config("evidence").get_models() if not hasattr(m, "instance_type")],
    ids=lambda model: model.__name__,
)
def test_every_model_reads_well_as_text(model):
    make, expected = STR_EXAMPLES[model]
    made = make()
    assert str(model.objects.get(pk=made.pk)) == expected


def test_a_dose_range_per_kg_with_timing_reads_well():
    dosing = make_dosing(
        make_compound("Synthetic creatine"),
        amount=D(1),
        amount_max=D(3),
        unit="g",
        per_kg=True,
        frequency="",
        route="oral",
        timing="at bedtime",
    )
    assert (
        str(Dosing.objects.get(pk=dosing.pk))
        == "Synthetic creatine: 1–3 g per kg of body weight, oral, at bedtime"
    )


def test_goal_is_optional_in_a_dosing_name():
    dosing = make_dosing(thymosin(), amount=D(100), unit="mcg", frequency="daily")
    assert str(Dosing.objects.get(pk=dosing.pk)) == "Thymosin alpha-1: 100 mcg daily, oral"


# Evidence model v2: outcomes, the source's own grade, p-value bounds, units and doses studied.


def test_a_finding_with_figures_needs_its_desirable_direction(compound_and_goal):
    with refused_by("finding_desirable_direction_known_with_figures"):
        make_finding(*compound_and_goal, higher_is_better=None)


def test_a_finding_without_figures_may_leave_its_desirable_direction_unknown(compound_and_goal):
    finding = make_finding(
        *compound_and_goal,
        measure=Finding.Measure.QUALITATIVE,
        outcome_kind=Finding.OutcomeKind.SURROGATE,
        higher_is_better=None,
        direction=Finding.Direction.UNCLEAR,
    )
    assert finding.favours == Favours.UNKNOWN


def test_only_a_mean_difference_has_a_unit(compound_and_goal):
    with refused_by("finding_unit_only_for_mean_difference"):
        make_finding(*compound_and_goal, value_unit="mg/dL")
    finding = make_finding(
        *compound_and_goal,
        measure=Finding.Measure.MEAN_DIFFERENCE,
        value=D("-12"),
        ci_low=D("-20"),
        ci_high=D("-4"),
        value_unit="mg/dL",
    )
    assert finding.value_unit == "mg/dL"


@pytest.mark.parametrize(
    "grade", [{"source_grade": "moderate"}, {"source_grade_scale": "Synthetic strength scale"}]
)
def test_the_sources_grade_names_its_scale(compound_and_goal, grade):
    with refused_by("finding_source_grade_names_its_scale"):
        make_finding(*compound_and_goal, **grade)


@pytest.mark.parametrize(
    "dose",
    [
        {"dose": D("3")},
        {"dose_unit": "g"},
        {"dose": D("0"), "dose_unit": "g"},
        {"dose_per_kg": True},
        {"dose_max": D("5"), "dose_unit": "g"},
    ],
    ids=["no unit", "no amount", "zero", "per kg alone", "high end alone"],
)
def test_a_dose_studied_has_an_amount_and_a_unit(compound_and_goal, dose):
    with refused_by("finding_dose_has_amount_and_unit"):
        make_finding(*compound_and_goal, **dose)


def test_a_dose_range_studied_is_ordered(compound_and_goal):
    with refused_by("finding_dose_range_ordered"):
        make_finding(*compound_and_goal, dose=D("5"), dose_max=D("3"), dose_unit="g")


def test_a_dose_range_per_kg_with_timing_is_kept(compound_and_goal):
    finding = make_finding(
        *compound_and_goal,
        dose=D("0.1"),
        dose_max=D("0.3"),
        dose_unit="g",
        dose_per_kg=True,
        dose_timing="pre-exercise",
    )
    finding.refresh_from_db()
    assert (finding.dose, finding.dose_max, finding.dose_per_kg) == (D("0.1"), D("0.3"), True)


@pytest.mark.parametrize(
    "p_value, bound, significant",
    [
        (D("0.03"), None, True),
        (D("0.2"), None, None),
        (D("0.05"), None, None),
        (D("0.03"), False, True),
        (D("0.2"), False, False),
    ],
)
def test_a_p_value_whose_bound_is_unknown_counts_only_when_below_alpha_either_way(
    compound_and_goal, p_value, bound, significant
):
    finding = make_finding(
        *compound_and_goal,
        measure=Finding.Measure.QUALITATIVE,
        p_value=p_value,
        p_value_is_bound=bound,
    )
    assert finding.significant is significant


def test_an_alias_may_await_review_with_its_reason():
    alias = CompoundAlias.objects.create(
        compound=make_compound(),
        name="synthetic shared name",
        reviewed=False,
        review_note="Another compound in the source has it too.",
    )
    assert not alias.reviewed


# A rating's bottom line never names another tier (issue 14, finding 5)


def test_a_bottom_line_naming_another_tier_is_refused_in_plain_words():
    rating = make_rating(tier_number=1, bottom_line="Synthetic: strong evidence.")
    rating.bottom_line = "Tier 3 (probable efficacy): synthetic bottom line."
    with pytest.raises(ValidationError) as refused:
        rating.full_clean()
    assert refused.value.message_dict["bottom_line"] == [
        "The bottom line names Tier 3, but this rating is Tier 1. Rewrite the bottom line for "
        "Tier 1 (or leave the tier out of it), or choose the tier it names."
    ]


@pytest.mark.parametrize(
    "bottom_line",
    ["Tier 2 (likely efficacy): synthetic.", "Synthetic, as tier-2 evidence.", "Synthetic."],
)
def test_a_bottom_line_may_name_its_own_tier_or_none(bottom_line):
    make_rating(tier_number=2, bottom_line=bottom_line).full_clean()


def test_a_tier_named_in_any_spelling_counts():
    rating = make_rating(tier_number=1, bottom_line="Synthetic: see TIER-4 and tier 5.")
    assert rating.tiers_named_in_bottom_line() == {4, 5}
    with pytest.raises(ValidationError, match="names Tier 4 and Tier 5"):
        rating.full_clean()


# Visitors' error reports


def test_an_error_report_has_a_known_state():
    with refused_by("error_report_state_known"):
        ErrorReport.objects.create(
            page="/compounds/synthetic/", message="Synthetic report.", state="lost"
        )


def test_a_renamed_compound_is_found_by_its_new_name_even_with_update_fields():
    compound = make_compound("Synthetic oldname")
    compound.name = "Synthetic newname"
    compound.save(update_fields=["name"])
    compound.refresh_from_db()
    assert "synthetic newname" in compound.search_key
    assert Compound.objects.published().find("newname").compound_ids == (compound.pk,)
    assert Compound.objects.published().find("oldname").compound_ids == ()
