"""Small factory functions for tests: each builds a valid object with sensible defaults.

Every name made here is marked synthetic, so test data can never pass for real evidence.
"""

from datetime import date
from decimal import Decimal
from itertools import count

from django.utils import timezone

from evidence.models import (
    AntiDopingStatus,
    Article,
    Compound,
    CompoundAlias,
    Contraindication,
    Dosing,
    Finding,
    Goal,
    Offer,
    OfferClicks,
    Rating,
    RegulatoryStatus,
    SideEffect,
    Source,
    Study,
    Tier,
    Vendor,
)

_seq = count(1)


def _next() -> int:
    return next(_seq)


def make_goal(name=None, **fields) -> Goal:
    i = _next()
    name = name or f"Synthetic goal {i}"
    fields.setdefault("slug", f"synthetic-goal-{i}")
    fields.setdefault("category", "Synthetic category")
    return Goal.objects.create(name=name, **fields)


def tier(number: int) -> Tier:
    """A tier of the default ladder, created by the data migration."""
    return Tier.objects.get(number=number)


def make_compound(name=None, *, aliases=(), published=True, **fields) -> Compound:
    i = _next()
    name = name or f"Synthetic compound {i}"
    fields.setdefault("slug", f"synthetic-compound-{i}")
    fields.setdefault("kind", Compound.Kind.SUPPLEMENT)
    compound = Compound.objects.create(name=name, published=published, **fields)
    for alias in aliases:
        CompoundAlias.objects.create(compound=compound, name=alias)
    return compound


def make_rating(compound=None, goal=None, tier_number=3, **fields) -> Rating:
    fields.setdefault("bottom_line", "Synthetic bottom line.")
    return Rating.objects.create(
        compound=compound or make_compound(),
        goal=goal or make_goal(),
        tier=tier(tier_number),
        **fields,
    )


def make_source(name=None, **fields) -> Source:
    """A dataset under a licence that asks for attribution (synthetic, example.com)."""
    i = _next()
    name = name or f"Synthetic dataset {i}"
    fields.setdefault("slug", f"synthetic-dataset-{i}")
    fields.setdefault("publisher", "Synthetic publisher")
    fields.setdefault("licence", "Synthetic licence 1.0")
    fields.setdefault("licence_url", f"https://example.com/licences/synthetic-{i}")
    fields.setdefault("retrieved", date(2026, 1, 15))
    fields.setdefault("attribution", f"Synthetic dataset {i} by Synthetic publisher.")
    return Source.objects.create(name=name, **fields)


# Any one of these makes a study citable (the study_citable constraint).
CITATION_FIELDS = ("doi", "pmid", "url", "source", "reported_in")


def make_study(design=Study.Design.RCT, n=100, **fields) -> Study:
    """A study; cited by a synthetic example.com URL unless given a citation or provenance."""
    i = _next()
    fields.setdefault("slug", f"synthetic-study-{i}")
    fields.setdefault("title", f"Synthetic study {i}")
    if not any(fields.get(name) for name in CITATION_FIELDS):
        fields["url"] = f"https://example.com/synthetic-studies/{i}"
    if design == Study.Design.META_ANALYSIS:
        fields.setdefault("trial_count", 3)
    return Study.objects.create(design=design, n=n, **fields)


def make_finding(compound, goal, study=None, **fields) -> Finding:
    """A finding; by default an odds ratio of 1.5 [1.2-1.9] against placebo (significant).
    Without figures (qualitative) it states a benefit unless told another direction."""
    fields.setdefault("outcome", f"Synthetic outcome {_next()}")
    fields.setdefault("comparator", Finding.Comparator.PLACEBO)
    fields.setdefault("measure", Finding.Measure.ODDS_RATIO)
    if fields["measure"] != Finding.Measure.QUALITATIVE:
        fields.setdefault("value", Decimal("1.5"))
        if "ci_low" not in fields and "ci_high" not in fields and fields["value"] is not None:
            fields.setdefault("ci_low", Decimal("1.2"))
            fields.setdefault("ci_high", Decimal("1.9"))
    else:
        fields.setdefault("direction", Finding.Direction.BENEFIT)
    return Finding.objects.create(
        study=study or make_study(), compound=compound, goal=goal, **fields
    )


# Three synthetic randomised trials of one outcome, as hazard ratios with 95% CIs (and n).
SYNTHETIC_HAZARD_RATIOS = (
    ("0.62", "0.45", "0.85", 320),
    ("0.80", "0.61", "1.05", 410),
    ("0.55", "0.38", "0.80", 250),
)
SYNTHETIC_POOLED_OUTCOME = "Synthetic all-cause mortality"


def make_pooled_trials(compound, goal) -> list[Finding]:
    """Three synthetic RCTs reporting SYNTHETIC_POOLED_OUTCOME as hazard ratios (lower is
    better), the inputs of a random-effects pooled estimate."""
    return [
        make_finding(
            compound,
            goal,
            study=make_study(n=n, title=f"Synthetic trial {letter}"),
            outcome=SYNTHETIC_POOLED_OUTCOME,
            measure=Finding.Measure.HAZARD_RATIO,
            value=Decimal(value),
            ci_low=Decimal(low),
            ci_high=Decimal(high),
            higher_is_better=False,
        )
        for letter, (value, low, high, n) in zip("ABC", SYNTHETIC_HAZARD_RATIOS, strict=True)
    ]


def make_dosing(compound, **fields) -> Dosing:
    fields.setdefault("amount", Decimal("1.6"))
    fields.setdefault("unit", "mg")
    fields.setdefault("frequency", "twice weekly")
    fields.setdefault("doses_per_week", Decimal(2))
    fields.setdefault("route", "oral")
    return Dosing.objects.create(compound=compound, **fields)


def make_side_effect(compound, frequency=SideEffect.Frequency.COMMON, **fields) -> SideEffect:
    fields.setdefault("name", f"Synthetic side effect {_next()}")
    return SideEffect.objects.create(compound=compound, frequency=frequency, **fields)


def make_contraindication(compound, condition="pregnancy", **fields) -> Contraindication:
    return Contraindication.objects.create(compound=compound, condition=condition, **fields)


def make_regulatory_status(compound, **fields) -> RegulatoryStatus:
    """A sourced, dated status with a synthetic jurisdiction and an example.org source."""
    i = _next()
    fields.setdefault("jurisdiction", f"Synthetic jurisdiction {i}")
    fields.setdefault("status", RegulatoryStatus.Status.WARNING_LIST)
    fields.setdefault("source_name", f"Synthetic regulator notice {i}")
    fields.setdefault("source_url", f"https://regulator.example.org/synthetic-notice-{i}")
    fields.setdefault("verified_on", date(2026, 1, 15))
    return RegulatoryStatus.objects.create(compound=compound, **fields)


def make_anti_doping_status(compound, **fields) -> AntiDopingStatus:
    """A sourced, dated place on a synthetic anti-doping list."""
    i = _next()
    fields.setdefault("list_name", f"Synthetic prohibited list {i}")
    fields.setdefault("list_class", "Synthetic class S0")
    fields.setdefault("status", AntiDopingStatus.Status.PROHIBITED)
    fields.setdefault("source_url", f"https://anti-doping.example.org/synthetic-list-{i}")
    fields.setdefault("verified_on", date(2026, 1, 15))
    return AntiDopingStatus.objects.create(compound=compound, **fields)


def make_vendor(name=None, **fields) -> Vendor:
    i = _next()
    name = name or f"Synthetic vendor {i}"
    fields.setdefault("slug", f"synthetic-vendor-{i}")
    fields.setdefault("website", f"https://vendor-{i}.example.com")
    return Vendor.objects.create(name=name, **fields)


def make_offer(compound, vendor=None, **fields) -> Offer:
    i = _next()
    fields.setdefault("key", f"synthetic-offer-{i}")
    fields.setdefault("product_name", f"Synthetic product {i}")
    vendor = vendor or make_vendor()
    fields.setdefault("url", f"{vendor.website}/products/{i}")  # on the vendor's own host
    public = fields.get("price_availability", Offer.PriceAvailability.PUBLIC) == "public"
    fields.setdefault("price", Decimal("40.00") if public else None)
    fields.setdefault("amount_per_unit", Decimal(5))
    fields.setdefault("unit", "mg")
    fields.setdefault("form", Offer.Form.VIAL)
    return Offer.objects.create(vendor=vendor, compound=compound, **fields)


def make_clicks(offer, count: int, day=None) -> OfferClicks:
    """`count` clicks on the offer's outbound link on `day` (today by default)."""
    return OfferClicks.objects.create(offer=offer, day=day or timezone.localdate(), count=count)


def make_rated_compound(goal, tier_number=3, findings=1, **compound_fields) -> Compound:
    """A published compound rated for the goal, with `findings` significant findings."""
    compound = make_compound(**compound_fields)
    make_rating(compound, goal, tier_number)
    for _ in range(findings):
        make_finding(compound, goal)
    return compound


def make_article(compound, goal=None, *, published=True, **fields) -> Article:
    """A research deep dive about the compound (and goal), published unless told."""
    i = _next()
    fields.setdefault("slug", f"synthetic-deep-dive-{i}")
    fields.setdefault("title", f"Synthetic deep dive {i}")
    fields.setdefault("body", "## Synthetic overview\n\nSynthetic text.")
    return Article.objects.create(compound=compound, goal=goal, published=published, **fields)
