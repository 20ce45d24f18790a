"""The interchange format: validation messages, atomicity, idempotent upserts, round trips, the
import and export commands, and a property test that arbitrary documents fail cleanly."""

import copy
import io
import json
import math
import os
import re
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, models, transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from evidence import interchange
from evidence.interchange import (
    FORMAT,
    SECTIONS,
    ValidationFailed,
    dumps,
    export_document,
    import_document,
    loads,
)
from evidence.models import (
    AntiDopingStatus,
    Article,
    Compound,
    CompoundAlias,
    Contraindication,
    Dosing,
    Finding,
    Goal,
    Interaction,
    Offer,
    Rating,
    RegulatoryStatus,
    SideEffect,
    Source,
    Study,
    Tier,
    Vendor,
)
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
)

BASE_DIR = Path(settings.BASE_DIR)
DEMO_FILE = BASE_DIR / "demo" / "thymosin-alpha-1.json"
DOCS_FILE = BASE_DIR / "docs" / "interchange.md"
DELETE = object()


def valid_document() -> dict:
    """A small valid document; optional fields are left out on purpose (defaults apply)."""
    goal, a, b = "synthetic-goal", "synthetic-a", "synthetic-b"
    return {
        "format": FORMAT,
        "version": 1,
        "goals": [{"slug": goal, "name": "Synthetic goal", "category": "Synthetic category"}],
        "tiers": [],
        "compounds": [
            {
                "slug": a,
                "name": "Synthetic compound A",
                "kind": "supplement",
                "published": True,
                "aliases": ["Synthetic alias A"],
                "dosing": [
                    {
                        "goal": goal,
                        "amount": "1.6",
                        "unit": "mg",
                        "frequency": "twice weekly",
                        "doses_per_week": "2",
                        "route": "oral",
                    }
                ],
                "side_effects": [{"name": "Synthetic side effect", "frequency": "common"}],
                "contraindications": [{"condition": "pregnancy", "note": "Synthetic note."}],
            },
            {"slug": b, "name": "Synthetic compound B", "kind": "drug"},
        ],
        "interactions": [{"compounds": [a, b], "severity": "minor", "note": "Synthetic note."}],
        "ratings": [
            {"compound": a, "goal": goal, "tier": 3, "bottom_line": "Synthetic bottom line."}
        ],
        "studies": [
            {
                "slug": "synthetic-study",
                "title": "Synthetic study",
                "design": "meta_analysis",
                "n": 120,
                "trial_count": 3,
                "findings": [
                    {
                        "compound": a,
                        "goal": goal,
                        "outcome": "Synthetic odds",
                        "comparator": "placebo",
                        "measure": "odds_ratio",
                        "value": "1.5",
                        "ci_low": "1.2",
                        "ci_high": "1.9",
                    },
                    {
                        "compound": a,
                        "goal": goal,
                        "outcome": "Synthetic proportion",
                        "comparator": "active",
                        "comparator_compound": b,
                        "measure": "proportion",
                        "value": "40",
                        "comparator_value": "20",
                        "p_value": "0.03",
                    },
                ],
            }
        ],
        "articles": [
            {
                "slug": "synthetic-article",
                "compound": a,
                "goal": goal,
                "title": "Synthetic article",
                "body": "Synthetic body.",
            }
        ],
        "vendors": [
            {
                "slug": "synthetic-vendor",
                "name": "Synthetic vendor",
                "website": "https://vendor.example.com",
                "offers": [
                    {
                        "key": "synthetic-offer",
                        "compound": a,
                        "product_name": "Synthetic product",
                        "url": "https://vendor.example.com/p/1",
                        "price": "40.00",
                        "amount_per_unit": "5",
                        "unit": "mg",
                        "form": "vial",
                    }
                ],
            }
        ],
    }


def changed(document: dict, *edits) -> dict:
    """A copy of the document with (path, value) edits; DELETE removes, len(list) appends."""
    document = copy.deepcopy(document)
    for path, value in edits:
        *parents, last = path
        node = document
        for step in parents:
            node = node[step]
        if value is DELETE:
            del node[last]
        elif isinstance(node, list) and last == len(node):
            node.append(value)
        else:
            node[last] = value
    return document


def errors_of(document) -> list[str]:
    with pytest.raises(ValidationFailed) as exc:
        import_document(document)
    return exc.value.errors


def wipe_database() -> None:
    """Empty every table the format covers, in an order the PROTECT foreign keys allow."""
    for model in (
        Offer,
        Vendor,
        Finding,
        Study,
        Article,
        Source,
        Rating,
        Interaction,
        Compound,
        Goal,
    ):
        model.objects.all().delete()
    Tier.objects.all().delete()


def said(path: str, model, constraint: str) -> str:
    """The error for breaking one of the model's constraints: the entry's path and the
    constraint's own message, never a sentence the importer wrote."""
    by_name = {c.name: c for c in model._meta.constraints}
    return f"{path}: {by_name[constraint].get_violation_error_message()}"


F0 = ("studies", 0, "findings", 0)  # the odds ratio
F1 = ("studies", 0, "findings", 1)  # the proportion
OFFER = ("vendors", 0, "offers", 0)

MISTAKES = [
    (
        "missing slug",
        [(("compounds", 0, "slug"), DELETE)],
        "compounds[0].slug: This field cannot be blank.",
    ),
    (
        "bad slug",
        [(("compounds", 0, "slug"), "not a slug!")],
        "compounds[0].slug: Enter a valid “slug”",
    ),
    (
        "duplicate slug",
        [(("compounds", 1, "slug"), "synthetic-a")],
        "compounds[1].slug: duplicate slug, already used by compounds[0]",
    ),
    (
        "duplicate name",
        [(("compounds", 1, "name"), "Synthetic compound A")],
        "compounds[1].name: duplicate name, already used by compounds[0]",
    ),
    (
        "unknown kind",
        [(("compounds", 0, "kind"), "potion")],
        "compounds[0].kind: Value 'potion' is not a valid choice.",
    ),
    ("unknown field", [(("compounds", 0, "sumary"), "x")], "compounds[0].sumary: unknown field"),
    (
        "alias not a string",
        [(("compounds", 0, "aliases", 0), 5)],
        "compounds[0].aliases[0]: must be a string",
    ),
    (
        "alias blank",
        [(("compounds", 0, "aliases", 0), "  ")],
        "compounds[0].aliases[0]: This field cannot be blank.",
    ),
    (
        "alias used twice in one compound ignoring case",
        [(("compounds", 0, "aliases", 1), "SYNTHETIC ALIAS A")],
        'compounds[0].aliases[1]: duplicate alias "SYNTHETIC ALIAS A"',
    ),
    (
        "dose range ending below its start",
        [(("version",), 2), (("compounds", 0, "dosing", 0, "amount_max"), "1")],
        said("compounds[0].dosing[0]", Dosing, "dosing_range_ordered"),
    ),
    (
        "dose range in version 1",
        [(("compounds", 0, "dosing", 0, "amount_max"), "3")],
        "compounds[0].dosing[0].amount_max: unknown field in version 1",
    ),
    (
        "timing in version 1",
        [(("compounds", 0, "dosing", 0, "timing"), "Synthetic timing")],
        "compounds[0].dosing[0].timing: unknown field in version 1",
    ),
    (
        "regulatory statuses in version 1",
        [(("compounds", 0, "regulatory_statuses"), [])],
        "compounds[0].regulatory_statuses: unknown field in version 1",
    ),
    (
        "regulatory status without a source or a verification date",
        [
            (("version",), 2),
            (
                ("compounds", 0, "regulatory_statuses"),
                [{"jurisdiction": "Synthetic jurisdiction", "status": "not_approved"}],
            ),
        ],
        said("compounds[0].regulatory_statuses[0]", RegulatoryStatus, "regulatory_status_sourced"),
    ),
    (
        "regulatory status with an http source",
        [
            (("version",), 2),
            (
                ("compounds", 0, "regulatory_statuses"),
                [
                    {
                        "jurisdiction": "Synthetic jurisdiction",
                        "status": "approved",
                        "source_name": "Synthetic register",
                        "source_url": "http://regulator.example.org/synthetic",
                        "verified_on": "2026-01-15",
                    }
                ],
            ),
        ],
        "compounds[0].regulatory_statuses[0].source_url: Enter a well-formed https:// URL.",
    ),
    (
        "anti-doping status without a verification date",
        [
            (("version",), 2),
            (
                ("compounds", 0, "anti_doping_statuses"),
                [
                    {
                        "list_name": "Synthetic prohibited list",
                        "status": "prohibited",
                        "source_url": "https://anti-doping.example.org/synthetic",
                    }
                ],
            ),
        ],
        said(
            "compounds[0].anti_doping_statuses[0]", AntiDopingStatus, "anti_doping_status_sourced"
        ),
    ),
    (
        "jurisdiction used twice in one compound",
        [
            (("version",), 2),
            (
                ("compounds", 0, "regulatory_statuses"),
                [
                    {
                        "jurisdiction": "Synthetic jurisdiction",
                        "status": status,
                        "source_name": "Synthetic register",
                        "source_url": "https://regulator.example.org/synthetic",
                        "verified_on": "2026-01-15",
                    }
                    for status in ("approved", "warning_list")
                ],
            ),
        ],
        "compounds[0].regulatory_statuses[1].jurisdiction: duplicate jurisdiction, already used "
        "by compounds[0].regulatory_statuses[0]",
    ),
    (
        "dosing amount zero",
        [(("compounds", 0, "dosing", 0, "amount"), "0")],
        said("compounds[0].dosing[0]", Dosing, "dosing_amount_positive"),
    ),
    (
        "decimal as a JSON number",
        [(("compounds", 0, "dosing", 0, "amount"), 1.6)],
        "compounds[0].dosing[0].amount: must be a decimal number written as a string",
    ),
    (
        "doses per week negative",
        [(("compounds", 0, "dosing", 0, "doses_per_week"), "-2")],
        said("compounds[0].dosing[0]", Dosing, "dosing_doses_per_week_positive"),
    ),
    (
        "unknown dosing goal",
        [(("compounds", 0, "dosing", 0, "goal"), "no-such-goal")],
        'compounds[0].dosing[0].goal: unknown goal "no-such-goal"',
    ),
    (
        "unknown route",
        [(("compounds", 0, "dosing", 0, "route"), "by mouth")],
        "compounds[0].dosing[0].route: Value 'by mouth' is not a valid choice.",
    ),
    (
        "unknown side effect frequency",
        [(("compounds", 0, "side_effects", 0, "frequency"), "often")],
        "compounds[0].side_effects[0].frequency: Value 'often' is not a valid choice.",
    ),
    (
        "unknown condition",
        [(("compounds", 0, "contraindications", 0, "condition"), "hay_fever")],
        "compounds[0].contraindications[0].condition: Value 'hay_fever' is not a valid choice.",
    ),
    (
        "interaction with itself",
        [(("interactions", 0, "compounds"), ["synthetic-a", "synthetic-a"])],
        "interactions[0]: A compound cannot interact with itself.",
    ),
    (
        "interaction with an unknown compound",
        [(("interactions", 0, "compounds", 1), "no-such-compound")],
        'interactions[0].compounds[1]: unknown compound "no-such-compound"',
    ),
    ("unknown tier", [(("ratings", 0, "tier"), 9)], "ratings[0].tier: unknown tier 9"),
    (
        "unknown goal",
        [(("ratings", 0, "goal"), "no-such-goal")],
        'ratings[0].goal: unknown goal "no-such-goal"',
    ),
    (
        "blank bottom line",
        [(("ratings", 0, "bottom_line"), "  ")],
        "ratings[0].bottom_line: This field cannot be blank.",
    ),
    (
        "date written another way",
        [(("ratings", 0, "last_reviewed"), "2024/02/03")],
        "ratings[0].last_reviewed: must be a date written YYYY-MM-DD",
    ),
    (
        "impossible date",
        [(("ratings", 0, "last_reviewed"), "2024-02-30")],
        "ratings[0].last_reviewed: “2024-02-30” value has the correct format (YYYY-MM-DD) "
        "but it is an invalid date.",
    ),
    (
        "CI in the wrong order",
        [((*F0, "ci_low"), "2.0"), ((*F0, "value"), "2.0")],
        said("studies[0].findings[0]", Finding, "finding_ci_complete_and_ordered"),
    ),
    (
        "CI with one end",
        [((*F0, "ci_high"), None)],
        said("studies[0].findings[0]", Finding, "finding_ci_complete_and_ordered"),
    ),
    (
        "value outside the CI",
        [((*F0, "value"), "2.5")],
        said("studies[0].findings[0]", Finding, "finding_effect_inside_ci"),
    ),
    (
        "ratio not positive",
        [((*F0, "value"), "-0.5"), ((*F0, "ci_low"), "-1"), ((*F0, "ci_high"), "0")],
        said("studies[0].findings[0]", Finding, "finding_ratio_positive"),
    ),
    (
        "proportion above 100",
        [((*F1, "value"), "140")],
        said("studies[0].findings[1]", Finding, "finding_proportion_is_percent"),
    ),
    (
        "comparator proportion below 0",
        [((*F1, "comparator_value"), "-1")],
        said("studies[0].findings[1]", Finding, "finding_proportion_is_percent"),
    ),
    (
        "comparator value on a ratio",
        [((*F0, "comparator_value"), "20")],
        said("studies[0].findings[0]", Finding, "finding_comparator_value_only_for_proportions"),
    ),
    (
        "p-value of zero",
        [((*F1, "p_value"), "0")],
        said("studies[0].findings[1]", Finding, "finding_p_value_in_range"),
    ),
    (
        "p-value above one",
        [((*F1, "p_value"), "1.5")],
        said("studies[0].findings[1]", Finding, "finding_p_value_in_range"),
    ),
    (
        "stated significance with a p-value",
        [((*F1, "stated_significance"), True)],
        said("studies[0].findings[1]", Finding, "finding_stated_significance_only_without_ci_or_p"),
    ),
    (
        "no value for a ratio",
        [((*F0, "value"), None), ((*F0, "ci_low"), None), ((*F0, "ci_high"), None)],
        said("studies[0].findings[0]", Finding, "finding_value_required_unless_qualitative"),
    ),
    (
        "unknown measure",
        [((*F0, "measure"), "vibes")],
        "studies[0].findings[0].measure: Value 'vibes' is not a valid choice.",
    ),
    (
        "unknown comparator compound",
        [((*F1, "comparator_compound"), "no-such-compound")],
        'studies[0].findings[1].comparator_compound: unknown compound "no-such-compound"',
    ),
    (
        "outcome twice",
        [((*F1, "outcome"), "Synthetic odds")],
        "studies[0].findings[1].outcome: duplicate outcome for this compound and goal",
    ),
    (
        "trial count outside a meta-analysis",
        [(("studies", 0, "design"), "rct")],
        said("studies[0]", Study, "study_trial_count_only_for_meta_analysis"),
    ),
    ("sample size zero", [(("studies", 0, "n"), 0)], said("studies[0]", Study, "study_n_positive")),
    ("sample size a string", [(("studies", 0, "n"), "120")], "studies[0].n: must be an integer"),
    (
        "year out of range",
        [(("studies", 0, "year"), 1800)],
        "studies[0].year: Ensure this value is greater than or equal to 1900.",
    ),
    (
        "study URL malformed",
        [(("studies", 0, "url"), "not a url")],
        "studies[0].url: Enter a valid URL.",
    ),
    (
        "vendor website over http",
        [(("vendors", 0, "website"), "http://vendor.example.com")],
        "vendors[0].website: Enter a well-formed https:// URL.",
    ),
    (
        "offer URL over http",
        [((*OFFER, "url"), "http://vendor.example.com/p/1")],
        "vendors[0].offers[0].url: Enter a well-formed https:// URL.",
    ),
    (
        "offer price zero",
        [((*OFFER, "price"), "0")],
        "vendors[0].offers[0].price: Ensure this value is greater than or equal to 0.50.",
    ),
    (
        "offer price with fractions of a cent",
        [((*OFFER, "price"), "1.234")],
        "vendors[0].offers[0].price: Ensure that there are no more than 2 decimal places.",
    ),
    (
        "offer amount negative",
        [((*OFFER, "amount_per_unit"), "-5")],
        said("vendors[0].offers[0]", Offer, "offer_amount_positive"),
    ),
    (
        "currency outside ISO 4217",
        [((*OFFER, "currency"), "XYZ")],
        "vendors[0].offers[0].currency: XYZ is not an ISO 4217 currency code",
    ),
    (
        "units per pack zero",
        [((*OFFER, "units_per_pack"), 0)],
        said("vendors[0].offers[0]", Offer, "offer_units_per_pack_positive"),
    ),
    (
        "stock flag not a boolean",
        [((*OFFER, "in_stock"), "yes")],
        "vendors[0].offers[0].in_stock: must be true or false",
    ),
    (
        "offer for an unknown compound",
        [((*OFFER, "compound"), "no-such-compound")],
        'vendors[0].offers[0].compound: unknown compound "no-such-compound"',
    ),
    (
        "offer key twice",
        [(("vendors", 0, "offers", 1), {**valid_document()["vendors"][0]["offers"][0]})],
        "vendors[0].offers[1].key: duplicate offer key, already used by vendors[0].offers[0]",
    ),
    (
        "article for an unknown compound",
        [(("articles", 0, "compound"), "no-such-compound")],
        'articles[0].compound: unknown compound "no-such-compound"',
    ),
    (
        "name too long",
        [(("goals", 0, "name"), "x" * 121)],
        "goals[0].name: Ensure this value has at most 120 characters (it has 121).",
    ),
    (
        "NUL character",
        [(("goals", 0, "description"), "a\x00b")],
        "goals[0].description: must not contain NUL characters",
    ),
    ("null for a text field", [(("goals", 0, "description"), None)], "goals[0].description: must"),
    ("section not a list", [(("goals",), "goals")], "goals: must be a list"),
    ("entry not an object", [(("goals", 0), "goal")], "goals[0]: must be an object"),
    ("unknown section", [(("extras",), [])], "extras: unknown section"),
    ("wrong format", [(("format",), "other")], 'format: must be "evidence-stack-builder"'),
    ("wrong version", [(("version",), 3)], "version: unsupported version 3"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("edits", "expected"), [pytest.param(e, x, id=name) for name, e, x in MISTAKES]
)
def test_each_kind_of_mistake_is_reported_with_the_entry_and_field(edits, expected):
    errors = errors_of(changed(valid_document(), *edits))

    assert any(error.startswith(expected) for error in errors), errors


@pytest.mark.django_db
def test_the_valid_document_used_by_these_tests_imports():
    report = import_document(valid_document())

    assert report.counts["findings"].created == 2
    assert Offer.objects.get().currency == "USD"  # a default for a field left out


@pytest.mark.django_db
def test_every_problem_is_reported_at_once():
    document = changed(
        valid_document(),
        (("compounds", 0, "slug"), DELETE),
        (("ratings", 0, "tier"), 9),
        ((*OFFER, "url"), "http://vendor.example.com/p/1"),
    )

    errors = errors_of(document)

    assert "compounds[0].slug: This field cannot be blank." in errors
    assert "ratings[0].tier: unknown tier 9" in errors
    assert "vendors[0].offers[0].url: Enter a well-formed https:// URL." in errors


@pytest.mark.django_db
def test_a_document_that_is_not_an_object_is_rejected():
    assert errors_of(["not", "an", "object"]) == ["document: must be a JSON object"]


@pytest.mark.django_db
def test_references_may_name_goals_compounds_and_tiers_already_in_the_database():
    goal, compound = make_goal(), make_compound()
    document = {
        "format": FORMAT,
        "version": 1,
        "ratings": [
            {"compound": compound.slug, "goal": goal.slug, "tier": 2, "bottom_line": "Synthetic."}
        ],
    }

    import_document(document)

    assert Rating.objects.get(compound=compound, goal=goal).tier.number == 2


@pytest.mark.django_db
def test_a_name_taken_by_another_slug_in_the_database_is_reported():
    make_goal(name="Synthetic goal", slug="synthetic-other-goal")

    errors = errors_of(valid_document())

    assert errors == ["goals[0].name: Goal with this Name already exists."]


@pytest.mark.django_db
def test_an_alias_shared_with_a_compound_outside_the_document_imports():
    elsewhere = make_compound(slug="synthetic-elsewhere", aliases=["synthetic alias a"])

    import_document(valid_document())

    names = CompoundAlias.objects.filter(name__iexact="synthetic alias a")
    assert sorted(a.compound.slug for a in names) == ["synthetic-a", elsewhere.slug]


@pytest.mark.django_db
def test_an_alias_shared_by_two_compounds_of_the_document_imports_for_both():
    document = changed(valid_document(), (("compounds", 1, "aliases"), ["SYNTHETIC ALIAS A"]))

    import_document(document)

    assert list(Compound.objects.search("synthetic alias a").order_by("slug")) == list(
        Compound.objects.filter(slug__in=["synthetic-a", "synthetic-b"]).order_by("slug")
    )


@pytest.mark.django_db
def test_an_alias_awaiting_review_round_trips_as_an_object_and_a_reviewed_one_as_a_name():
    flagged = {"name": "synthetic alias a", "reviewed": False, "review_note": "Synthetic doubt."}
    document = changed(valid_document(), (("compounds", 0, "aliases"), [flagged, "synthetic z"]))
    document["version"] = 2
    document["studies"][0]["url"] = "https://example.com/synthetic-study"

    import_document(document)

    alias = CompoundAlias.objects.get(name="synthetic alias a")
    assert (alias.reviewed, alias.review_note) == (False, "Synthetic doubt.")
    exported = export_document()["compounds"]
    aliases = next(c for c in exported if c["slug"] == "synthetic-a")["aliases"]
    assert aliases == [flagged, "synthetic z"]


@pytest.mark.django_db
def test_reviewing_an_alias_by_import_updates_it_in_place():
    flagged = {"name": "synthetic alias a", "reviewed": False, "review_note": "Synthetic doubt."}
    document = changed(valid_document(), (("compounds", 0, "aliases"), [flagged]))
    document["version"] = 2
    document["studies"][0]["url"] = "https://example.com/synthetic-study"
    import_document(document)
    before = CompoundAlias.objects.get(name="synthetic alias a").pk

    report = import_document(
        changed(valid_document(), (("compounds", 0, "aliases"), ["synthetic alias a"]))
    )

    alias = CompoundAlias.objects.get(name="synthetic alias a")
    assert (alias.pk, alias.reviewed, alias.review_note) == (before, True, "")
    assert report.counts["aliases"].updated == 1


@pytest.mark.django_db
def test_a_version_1_alias_is_a_bare_name():
    document = changed(valid_document(), (("compounds", 0, "aliases"), [{"name": "x"}]))
    document["version"] = 1

    assert "compounds[0].aliases[0]: must be a string (version 1 aliases are bare names)" in (
        errors_of(document)
    )


# The models' own rules, not the importer's --------------------------------------------------


def test_every_constraint_has_a_plain_language_message():
    for model in apps.get_app_config("evidence").get_models():
        for constraint in model._meta.constraints:
            message = constraint.get_violation_error_message()
            assert constraint.violation_error_message != constraint.default_violation_error_message
            assert constraint.name not in message, constraint.name
            assert message.endswith(".") and "%%" not in message, constraint.name


@pytest.mark.django_db
def test_a_broken_constraint_is_reported_with_the_entry_path_and_the_constraints_message():
    errors = errors_of(changed(valid_document(), ((*F1, "p_value"), "0")))

    assert errors == ["studies[0].findings[1]: The p-value must be above 0 and at most 1."]


@pytest.mark.django_db
def test_the_importer_says_what_the_constraint_says_and_restates_nothing(monkeypatch):
    by_name = {c.name: c for c in Finding._meta.constraints}
    constraint = by_name["finding_ci_complete_and_ordered"]
    monkeypatch.setattr(constraint, "violation_error_message", "Synthetic rule of the model.")

    errors = errors_of(changed(valid_document(), ((*F0, "ci_high"), None)))

    assert errors == ["studies[0].findings[0]: Synthetic rule of the model."]


@pytest.mark.django_db
def test_a_field_error_is_reported_with_the_field_path_and_the_fields_own_message(monkeypatch):
    form = Offer._meta.get_field("form")
    monkeypatch.setitem(form.error_messages, "invalid_choice", "Synthetic %(value)r.")
    document = changed(
        valid_document(),
        (("goals", 0, "name"), "x" * 121),
        ((*OFFER, "form"), "ampoule"),
    )

    errors = errors_of(document)

    assert errors == [
        "goals[0].name: Ensure this value has at most 120 characters (it has 121).",
        "vendors[0].offers[0].form: Synthetic 'ampoule'.",
    ]


@pytest.mark.django_db
def test_errors_of_the_document_and_of_the_models_come_together_in_document_order():
    document = changed(
        valid_document(),
        ((*OFFER, "price"), "0"),
        (("ratings", 0, "tier"), 9),
        (("compounds", 0, "kind"), "potion"),
        (("compounds", 0, "dosing", 0, "amount"), 1.6),
    )

    errors = errors_of(document)

    assert errors == [
        'compounds[0].dosing[0].amount: must be a decimal number written as a string, e.g. "0.308"',
        "compounds[0].kind: Value 'potion' is not a valid choice.",
        "ratings[0].tier: unknown tier 9",
        "vendors[0].offers[0].price: Ensure this value is greater than or equal to 0.50.",
    ]


@pytest.mark.django_db
def test_the_children_of_an_invalid_entry_are_still_checked():
    document = changed(
        valid_document(),
        (("compounds", 0, "kind"), "potion"),
        (("compounds", 0, "dosing", 0, "amount"), "0"),
        (("studies", 0, "slug"), "not a slug!"),
        ((*F1, "p_value"), "1.5"),
    )

    errors = errors_of(document)

    assert "compounds[0].kind: Value 'potion' is not a valid choice." in errors
    assert said("compounds[0].dosing[0]", Dosing, "dosing_amount_positive") in errors
    assert any(error.startswith("studies[0].slug: Enter a valid “slug”") for error in errors)
    assert said("studies[0].findings[1]", Finding, "finding_p_value_in_range") in errors


# All or nothing ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_invalid_entry_late_in_the_document_leaves_the_database_unchanged():
    make_compound("Synthetic compound A", slug="synthetic-a", summary="Old summary.")
    before = export_document()
    document = changed(
        valid_document(),
        (("compounds", 0, "summary"), "New summary."),
        ((*OFFER, "price"), "0"),
    )

    errors_of(document)

    assert export_document() == before
    assert Compound.objects.get(slug="synthetic-a").summary == "Old summary."


@pytest.mark.django_db
def test_a_failure_while_writing_rolls_back_the_entries_already_written(monkeypatch):
    """full_clean() failing on the last entry undoes the valid entries written before it."""
    before = export_document()

    def refuse(self, *args, **kwargs):
        raise ValidationError({"url": ["Synthetic refusal."]})

    monkeypatch.setattr(Offer, "full_clean", refuse)

    errors = errors_of(valid_document())

    assert errors == ["vendors[0].offers[0].url: Synthetic refusal."]
    assert export_document() == before
    assert not Goal.objects.exists()


@pytest.mark.django_db
def test_a_database_error_while_writing_becomes_a_validation_failure_and_writes_nothing(
    monkeypatch,
):
    def fail(self, *args, **kwargs):
        raise IntegrityError("synthetic integrity error")

    monkeypatch.setattr(Vendor, "save", fail)

    errors = errors_of(valid_document())

    assert errors == ["database: synthetic integrity error"]
    assert not Compound.objects.exists()


# Upserts, idempotence, authoritative children ---------------------------------------------------


@pytest.mark.django_db
def test_importing_the_same_document_twice_changes_nothing():
    import_document(valid_document())
    stamps = dict(Compound.objects.values_list("slug", "updated_at"))
    before = export_document()

    report = import_document(valid_document())

    assert report.changed == 0
    for counts in report.counts.values():
        assert counts.created == counts.updated == counts.deleted == 0
    assert report.counts["findings"].unchanged == 2
    assert dict(Compound.objects.values_list("slug", "updated_at")) == stamps
    assert export_document() == before


@pytest.mark.django_db
def test_reimporting_an_export_of_factory_made_data_changes_nothing():
    compound = make_compound(aliases=["Synthetic alias"])
    goal = make_goal()
    make_dosing(compound, goal=goal)
    make_side_effect(compound)
    make_contraindication(compound)
    make_rating(compound, goal)
    make_finding(compound, goal, p_value=Decimal("0.0100"))
    make_offer(compound, price=Decimal("40.00"))

    report = import_document(export_document())

    assert report.changed == 0


@pytest.mark.django_db
def test_a_changed_field_updates_that_entry_alone():
    import_document(valid_document())
    stamp = Compound.objects.get(slug="synthetic-a").updated_at

    report = import_document(changed(valid_document(), (("compounds", 0, "summary"), "New.")))

    assert report.counts["compounds"].updated == 1
    assert report.counts["compounds"].unchanged == 1
    assert report.changed == 1
    compound = Compound.objects.get(slug="synthetic-a")
    assert compound.summary == "New."
    assert compound.updated_at > stamp


@pytest.mark.django_db
def test_children_left_out_of_the_document_are_deleted():
    import_document(valid_document())
    document = changed(
        valid_document(),
        (("compounds", 0, "aliases"), []),
        (("compounds", 0, "dosing"), []),
        (("compounds", 0, "side_effects"), []),
        (("compounds", 0, "contraindications"), []),
        (("studies", 0, "findings"), valid_document()["studies"][0]["findings"][:1]),
        (("vendors", 0, "offers"), []),
    )

    report = import_document(document)

    for kind in ("aliases", "dosing", "side_effects", "contraindications", "findings", "offers"):
        assert report.counts[kind].deleted == 1, kind
    assert report.counts["findings"].unchanged == 1
    assert not CompoundAlias.objects.exists()
    assert not Dosing.objects.exists()
    assert not SideEffect.objects.exists()
    assert not Contraindication.objects.exists()
    assert not Offer.objects.exists()
    assert list(Finding.objects.values_list("outcome", flat=True)) == ["Synthetic odds"]


@pytest.mark.django_db
def test_a_changed_dosing_row_replaces_the_old_one():
    import_document(valid_document())

    report = import_document(
        changed(valid_document(), (("compounds", 0, "dosing", 0, "amount"), "2"))
    )

    assert (report.counts["dosing"].created, report.counts["dosing"].deleted) == (1, 1)
    assert Dosing.objects.get().amount == Decimal(2)


@pytest.mark.django_db
def test_an_alias_can_move_from_one_compound_to_another():
    import_document(valid_document())
    document = changed(
        valid_document(),
        (("compounds", 0, "aliases"), []),
        (("compounds", 1, "aliases"), ["Synthetic alias A"]),
    )

    import_document(document)

    assert CompoundAlias.objects.get().compound.slug == "synthetic-b"


@pytest.mark.django_db
def test_an_interaction_is_matched_whichever_way_round_the_pair_is_written():
    import_document(valid_document())
    document = changed(
        valid_document(),
        (("interactions", 0, "compounds"), ["synthetic-b", "synthetic-a"]),
        (("interactions", 0, "severity"), "major"),
    )

    report = import_document(document)

    assert report.counts["interactions"].updated == 1
    assert Interaction.objects.get().severity == "major"


@pytest.mark.django_db
def test_entries_left_out_of_the_document_are_kept():
    import_document(valid_document())

    import_document({"format": FORMAT, "version": 1, "goals": []})

    assert Compound.objects.count() == 2


# Export and round trip --------------------------------------------------------------------------


def make_varied_data():
    """Factory-made data that exercises the corners of the format."""
    goal = make_goal(description="Synthetic description with ünïcode.")
    compound = make_compound(aliases=["Synthetic alias Z", "synthetic alias b"], summary="S.")
    other = make_compound(published=False)
    make_dosing(compound)
    make_dosing(compound, goal=goal, doses_per_week=None, route="subcutaneous", notes="N.")
    make_side_effect(compound, frequency="serious", description="Synthetic.")
    make_contraindication(compound, condition="children", note="Synthetic.")
    make_dosing(
        compound,
        amount=Decimal("0.1"),
        amount_max=Decimal("0.3"),
        unit="g",
        per_kg=True,
        frequency="",
        doses_per_week=None,
        route="not_reported",
        timing="Synthetic timing, at bedtime",
    )
    make_regulatory_status(compound, regulator="Synthetic regulator", status_detail="Synthetic.")
    make_regulatory_status(compound, status="approved", verified_on=date(2025, 12, 31))
    make_anti_doping_status(compound)
    make_anti_doping_status(other, list_class="", status="monitored")
    make_rating(compound, goal, tier_number=1, last_reviewed=date(2025, 1, 2))
    meta = make_study(Study.Design.META_ANALYSIS, n=1234, year=2020, pmid="0", url="")
    make_finding(compound, goal, study=meta, p_value=Decimal("0.000100"), p_value_is_bound=True)
    make_finding(
        compound,
        goal,
        study=meta,
        measure=Finding.Measure.MEAN_DIFFERENCE,
        value=Decimal("-1.2345"),
        ci_low=Decimal("-2.5"),
        ci_high=Decimal("0.0001"),
        comparator=Finding.Comparator.ACTIVE,
        comparator_compound=other,
    )
    make_finding(
        other,
        goal,
        measure=Finding.Measure.QUALITATIVE,
        stated_significance=False,
        higher_is_better=False,
    )
    Interaction.objects.create(
        compound_a=other, compound_b=compound, severity="moderate", note="Synthetic."
    )
    article = Article.objects.create(compound=other, slug="synthetic-article", title="T", body="B")
    # Provenance: a sourced, unreviewed study with an unreported title and a quoted finding,
    # and a study known only through an article.
    source = make_source(version="commit 0123abc", url="https://example.com/dataset")
    make_source(attribution="", attribution_required=False)
    sourced = make_study(
        Study.Design.NOT_REPORTED,
        n=None,
        title="",
        source=source,
        source_record_id="synthetic-paper-7",
        contributor="Synthetic contributor",
        reviewed=False,
    )
    make_finding(
        compound,
        goal,
        study=sourced,
        measure=Finding.Measure.QUALITATIVE,
        direction=Finding.Direction.HARM,
        source_record_id="synthetic-claim-7a",
        contributor="Synthetic contributor",
        quote="Synthetic words, “verbatim”.",
    )
    make_finding(other, goal, study=make_study(reported_in=article))
    vendor = make_vendor(country="Synthetic country", active=False)
    make_offer(compound, vendor, price=Decimal("12.50"), currency="EUR", in_stock=False)
    make_clicks(make_offer(other, vendor, unit="IU", last_checked=date(2025, 3, 4)), 7)


@pytest.mark.django_db
def test_export_then_import_into_an_empty_database_then_export_is_byte_identical():
    import_document(loads(DEMO_FILE.read_text(encoding="utf-8")))
    make_varied_data()
    first = dumps(export_document())

    wipe_database()
    import_document(loads(first))

    assert dumps(export_document()) == first


@pytest.mark.django_db
def test_every_provenance_field_survives_the_round_trip():
    make_varied_data()
    document = export_document()

    [sourced] = [s for s in document["studies"] if s["source"]]
    versions = {s["slug"]: s["version"] for s in document["sources"]}
    assert versions[sourced["source"]] == "commit 0123abc"
    assert sourced["title"] == ""
    assert sourced["source_record_id"] == "synthetic-paper-7"
    assert sourced["contributor"] == "Synthetic contributor"
    assert sourced["reviewed"] is False
    assert sourced["findings"][0]["quote"] == "Synthetic words, “verbatim”."
    assert sourced["findings"][0]["source_record_id"] == "synthetic-claim-7a"
    assert [s["reported_in"] for s in document["studies"] if s["reported_in"]] == [
        "synthetic-article"
    ]
    text = dumps(document)
    wipe_database()
    import_document(loads(text))
    assert dumps(export_document()) == text


@pytest.mark.django_db
def test_a_study_that_names_a_source_imports_as_not_yet_reviewed():
    document = changed(
        valid_document(),
        (("version",), 2),
        (
            ("sources",),
            [
                {
                    "slug": "synthetic-dataset",
                    "name": "Synthetic dataset",
                    "licence": "Synthetic licence",
                    "licence_url": "https://example.com/licence",
                    "retrieved": "2026-01-15",
                    "attribution": "Synthetic dataset by Synthetic publisher.",
                }
            ],
        ),
        (("studies", 0, "source"), "synthetic-dataset"),
        (("studies", 0, "source_record_id"), "synthetic-record-1"),
    )
    import_document(document)
    study = Study.objects.get(slug="synthetic-study")
    assert (study.source.slug, study.source_record_id, study.reviewed) == (
        "synthetic-dataset",
        "synthetic-record-1",
        False,
    )
    # Without a source, a study is the site's own entry: reviewed.
    import_document(
        changed(
            document,
            (("studies", 0, "source"), None),
            (("studies", 0, "source_record_id"), ""),
            (("studies", 0, "url"), "https://example.com/synthetic"),
        )
    )
    study.refresh_from_db()
    assert study.reviewed is True


@pytest.mark.django_db
def test_a_version_1_study_without_a_citation_reads_as_reported_in_the_documents_article():
    import_document(valid_document())

    study = Study.objects.get(slug="synthetic-study")
    assert study.reported_in.slug == "synthetic-article"
    assert study.reviewed is True


@pytest.mark.django_db
def test_a_version_1_study_with_a_citation_has_no_reported_in():
    import_document(changed(valid_document(), (("studies", 0, "doi"), "10.5555/synthetic")))

    assert Study.objects.get(slug="synthetic-study").reported_in is None


@pytest.mark.django_db
def test_a_version_1_study_without_citation_or_article_is_refused_as_uncited():
    errors = errors_of(changed(valid_document(), (("articles",), [])))

    assert errors == [
        "studies[0]: A study needs a citation (a DOI, PMID or URL) or its provenance (the "
        "source it was taken from, or the article it is reported in)."
    ]


@pytest.mark.django_db
def test_a_version_1_document_may_not_use_the_provenance_fields():
    document = changed(
        valid_document(),
        (("sources",), []),
        (("studies", 0, "reviewed"), False),
        (("studies", 0, "findings", 0, "quote"), "Synthetic."),
    )
    errors = errors_of(document)

    assert "sources: unknown section in version 1" in errors
    assert "studies[0].reviewed: unknown field in version 1" in errors
    assert "studies[0].findings[0].quote: unknown field in version 1" in errors


@pytest.mark.django_db
def test_a_study_naming_an_unknown_source_or_article_is_reported():
    document = changed(
        valid_document(),
        (("version",), 2),
        (("studies", 0, "source"), "no-such-source"),
        (("studies", 0, "reported_in"), "no-such-article"),
    )
    errors = errors_of(document)

    assert 'studies[0].source: unknown source "no-such-source"' in errors
    assert 'studies[0].reported_in: unknown article "no-such-article"' in errors


@pytest.mark.django_db
def test_a_source_without_https_licence_or_required_attribution_is_refused():
    document = changed(
        valid_document(),
        (("version",), 2),
        (("studies", 0, "url"), "https://example.com/synthetic"),
        (
            ("sources",),
            [
                {
                    "slug": "synthetic-dataset",
                    "name": "Synthetic dataset",
                    "licence": "Synthetic licence",
                    "licence_url": "http://example.com/licence",
                    "retrieved": "2026-01-15",
                }
            ],
        ),
    )
    errors = errors_of(document)

    assert "sources[0].licence_url: Enter a well-formed https:// URL." in errors
    assert (
        "sources[0]: The licence requires attribution: write the attribution text to show."
        in errors
    )


@pytest.mark.django_db
def test_export_is_sorted_by_natural_key():
    make_varied_data()
    import_document(valid_document())

    document = export_document()

    slugs = [c["slug"] for c in document["compounds"]]
    assert slugs == sorted(slugs)
    assert [t["number"] for t in document["tiers"]] == [1, 2, 3, 4, 5, 6]
    compound = next(c for c in document["compounds"] if len(c["aliases"]) == 2)
    assert compound["aliases"] == ["synthetic alias b", "Synthetic alias Z"]


@pytest.mark.django_db
def test_export_leaves_out_click_counts_and_writes_decimals_as_strings():
    offer = make_offer(make_compound(), price=Decimal("12.50"))
    make_clicks(offer, 7919)

    document = export_document()

    exported = document["vendors"][0]["offers"][0]
    assert "7919" not in json.dumps(document)
    assert not {"clicks", "click_count"} & set(exported)
    assert exported["price"] == "12.5"
    assert exported["key"] == offer.key


def test_every_model_field_has_a_place_in_the_format():
    """Fails when a field is added to a model but not to the interchange format."""
    parents = {"compound", "study", "vendor"}
    formats = {
        Goal: interchange.GOAL_FIELDS,
        Tier: interchange.TIER_FIELDS,
        Compound: interchange.COMPOUND_FIELDS,
        CompoundAlias: interchange.ALIAS_FIELDS,
        Dosing: interchange.DOSING_FIELDS,
        SideEffect: interchange.SIDE_EFFECT_FIELDS,
        Contraindication: interchange.CONTRAINDICATION_FIELDS,
        RegulatoryStatus: interchange.REGULATORY_STATUS_FIELDS,
        AntiDopingStatus: interchange.ANTI_DOPING_STATUS_FIELDS,
        Interaction: (*interchange.INTERACTION_FIELDS, "compound_a", "compound_b"),
        Rating: interchange.RATING_FIELDS,
        Study: interchange.STUDY_FIELDS,
        Finding: interchange.FINDING_FIELDS,
        Article: interchange.ARTICLE_FIELDS,
        Source: interchange.SOURCE_FIELDS,
        Vendor: interchange.VENDOR_FIELDS,
        Offer: interchange.OFFER_FIELDS,
    }
    for model, names in formats.items():
        fields = {
            f.name
            for f in model._meta.concrete_fields
            if not f.primary_key and (model, f.name) not in interchange.EXCLUDED_FIELDS
        }
        if model not in (Rating, Finding, Article, Offer):
            fields -= parents
        if model in (Finding, Offer):
            fields -= {"study", "vendor"}
        assert fields == set(names), model.__name__


# The documentation ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_example_in_the_documentation_imports():
    example = re.search(r"```json\n(.*?)\n```", DOCS_FILE.read_text(encoding="utf-8"), re.S)

    report = import_document(loads(example.group(1)))

    assert report.changed > 0


@pytest.mark.django_db
def test_the_example_in_the_documentation_shows_the_offers_of_version_2():
    example = re.search(r"```json\n(.*?)\n```", DOCS_FILE.read_text(encoding="utf-8"), re.S)
    document = loads(example.group(1))
    offers = [o for v in document["vendors"] for o in v["offers"]]
    assert {name for o in offers for name in o} >= interchange.V2_OFFER_FIELDS

    import_document(document)

    assert Offer.objects.get(currency="JPY").form == Offer.Form.PEN
    on_request = Offer.objects.get(price_availability=Offer.PriceAvailability.ON_REQUEST)
    assert (on_request.price, on_request.form) == (None, Offer.Form.KIT)


def test_the_documentation_names_every_field():
    docs = DOCS_FILE.read_text(encoding="utf-8")
    names = {"format", "version", "compounds", "aliases", "dosing", "side_effects", "findings"}
    names |= {"contraindications", "offers", *SECTIONS}
    names |= {"regulatory_statuses", "anti_doping_statuses"}
    for spec in (
        interchange.GOAL_FIELDS,
        interchange.TIER_FIELDS,
        interchange.COMPOUND_FIELDS,
        interchange.DOSING_FIELDS,
        interchange.SIDE_EFFECT_FIELDS,
        interchange.CONTRAINDICATION_FIELDS,
        interchange.REGULATORY_STATUS_FIELDS,
        interchange.ANTI_DOPING_STATUS_FIELDS,
        interchange.INTERACTION_FIELDS,
        interchange.RATING_FIELDS,
        interchange.STUDY_FIELDS,
        interchange.FINDING_FIELDS,
        interchange.ARTICLE_FIELDS,
        interchange.SOURCE_FIELDS,
        interchange.VENDOR_FIELDS,
        interchange.OFFER_FIELDS,
    ):
        names |= set(spec)
    missing = sorted(name for name in names if f"| `{name}` |" not in docs)
    assert not missing


# The commands -----------------------------------------------------------------------------------


def write(tmp_path, text: str) -> str:
    path = tmp_path / "document.json"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.django_db
def test_import_command_prints_a_one_line_summary(tmp_path):
    out = io.StringIO()

    call_command("import_evidence", write(tmp_path, json.dumps(valid_document())), stdout=out)

    summary = out.getvalue()
    assert summary.count("\n") == 1
    assert "goals 1 created, 0 updated, 0 deleted, 0 unchanged" in summary
    assert "offers 1 created" in summary


@pytest.mark.django_db
def test_import_command_reads_stdin_when_the_file_is_a_dash(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(valid_document())))

    call_command("import_evidence", "-", stdout=io.StringIO())

    assert Compound.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("{", "document: invalid JSON", id="invalid JSON"),
        pytest.param('{"a": 1, "a": 2}', "duplicate key 'a'", id="duplicate key"),
        pytest.param('{"format": "x", "version": 1}', 'format: must be "evidence', id="format"),
        pytest.param(
            json.dumps({"format": FORMAT, "version": 99}),
            "version: unsupported version 99",
            id="version",
        ),
        pytest.param(
            json.dumps(changed(valid_document(), (("ratings", 0, "tier"), 9))),
            "ratings[0].tier: unknown tier 9",
            id="invalid entry",
        ),
    ],
)
def test_import_command_fails_with_the_errors_on_a_bad_file(tmp_path, text, message):
    err = io.StringIO()

    with pytest.raises(CommandError, match="nothing was imported") as exc:
        call_command("import_evidence", write(tmp_path, text), stderr=err, stdout=io.StringIO())

    assert message in err.getvalue()
    assert exc.value.returncode == 1
    assert not Compound.objects.exists()


def test_import_command_fails_on_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="cannot read .*No such file"):
        call_command("import_evidence", str(tmp_path / "missing.json"))


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot read"), ("{not json", "invalid JSON")],
    ids=["missing file", "invalid JSON"],
)
def test_import_command_exits_non_zero_from_the_shell(tmp_path, content, message):
    path = tmp_path / "document.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}"}

    result = subprocess.run(
        [sys.executable, "manage.py", "import_evidence", str(path)],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.django_db
def test_export_command_writes_the_document_to_stdout_or_a_file(tmp_path):
    import_document(valid_document())
    out = io.StringIO()
    target = tmp_path / "export.json"

    call_command("export_evidence", stdout=out)
    call_command("export_evidence", "-o", str(target), stderr=io.StringIO())

    assert out.getvalue() == dumps(export_document())
    assert target.read_text(encoding="utf-8") == out.getvalue()


# Property: arbitrary documents fail cleanly -----------------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(
        ["", "0", "-1", "1.5", "1e3", "100.00001", "2024-01-01", "synthetic-a", "synthetic-goal"]
    )
    | st.sampled_from(["https://x.example.com", "http://x.example.com", "a\x00b", "x" * 501])
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def node_paths(node, path=()):
    """Every path into a JSON value: dict keys and list indexes, the root excluded."""
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return
    for key, child in items:
        yield (*path, key)
        yield from node_paths(child, (*path, key))


@st.composite
def mutated_documents(draw):
    """The valid document with one to three fields replaced, removed or added at random."""
    document = valid_document()
    for _ in range(draw(st.integers(1, 3))):
        paths = list(node_paths(document))
        *parents, last = draw(st.sampled_from(paths))
        node = document
        for step in parents:
            node = node[step]
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if action == "replace":
            node[last] = draw(JSON_VALUES)
        elif action == "delete":
            node.pop(last)
        elif isinstance(node, dict):
            node[draw(st.text(max_size=8))] = draw(JSON_VALUES)
        else:
            node.append(draw(JSON_VALUES))
    return document


DOCUMENTS = st.one_of(
    mutated_documents(),
    JSON_VALUES,
    st.fixed_dictionaries(
        {"format": st.just(FORMAT), "version": st.just(1)},
        optional=dict.fromkeys(SECTIONS, JSON_VALUES),
    ),
)


@pytest.mark.django_db
@hypothesis_settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=DOCUMENTS)
def test_arbitrary_documents_fail_only_with_validation_failed_and_write_nothing(document):
    before = export_document()
    with transaction.atomic():
        try:
            import_document(document)
        except ValidationFailed as exc:
            assert exc.errors
            # A database error means an object reached the database without full_clean().
            assert not [e for e in exc.errors if e.startswith("database:")], exc.errors
            assert export_document() == before
        transaction.set_rollback(True)


def test_loads_rejects_nan_and_infinity():
    for text in ("NaN", '{"x": Infinity}'):
        with pytest.raises(ValidationFailed, match="not allowed"):
            loads(text)
    assert math.isclose(loads("1.5"), 1.5)


@pytest.mark.django_db
def test_a_dose_range_per_kg_with_a_timing_round_trips():
    compound = make_compound()
    make_dosing(
        compound,
        amount=Decimal("1"),
        amount_max=Decimal("3"),
        unit="g",
        per_kg=True,
        frequency="",
        route="not_reported",
        timing="Synthetic timing: with meals",
    )
    first = dumps(export_document())

    wipe_database()
    import_document(loads(first))

    dosing = Dosing.objects.get()
    assert (dosing.amount, dosing.amount_max, dosing.unit, dosing.per_kg) == (1, 3, "g", True)
    assert (dosing.frequency, dosing.route) == ("", "not_reported")
    assert dosing.timing == "Synthetic timing: with meals"
    assert dumps(export_document()) == first


@pytest.mark.django_db
def test_regulatory_and_anti_doping_statuses_round_trip_in_their_compound():
    compound = make_compound()
    make_regulatory_status(compound, jurisdiction="Synthetic jurisdiction", regulator="SYN")
    make_anti_doping_status(compound, list_name="Synthetic prohibited list")
    first = dumps(export_document())
    [entry] = loads(first)["compounds"]
    assert [r["jurisdiction"] for r in entry["regulatory_statuses"]] == ["Synthetic jurisdiction"]
    assert entry["anti_doping_statuses"][0]["verified_on"] == "2026-01-15"

    wipe_database()
    report = import_document(loads(first))

    assert report.counts["regulatory_statuses"].created == 1
    assert report.counts["anti_doping_statuses"].created == 1
    assert dumps(export_document()) == first
    assert import_document(loads(first)).changed == 0


@pytest.mark.django_db
def test_a_compounds_statuses_are_authoritative():
    compound = make_compound()
    make_regulatory_status(compound)
    make_anti_doping_status(compound)
    document = export_document()
    document["compounds"][0]["regulatory_statuses"] = []
    del document["compounds"][0]["anti_doping_statuses"]

    report = import_document(document)

    assert report.counts["regulatory_statuses"].deleted == 1
    assert report.counts["anti_doping_statuses"].deleted == 1
    assert not RegulatoryStatus.objects.exists()
    assert not AntiDopingStatus.objects.exists()


# The format and the models cannot drift apart ----------------------------------------------------
#
# schema_example() writes a version 2 document from the interchange module's own schema (its
# LISTS: every list, its model and its field tuple), one entry per list with every field set,
# each value made from the model field's type: a non-default choice, the opposite of a default
# boolean, a date, a decimal, a text naming its field. Only the fields one rule ties to another
# (a finding's measure and its figures, a dose and its unit) take a value from SCHEMA_OVERRIDES.
# A field added to a model and to the format is then in the example without anyone writing it.

SCHEMA_KEYS = {
    Goal: "synthetic-schema-goal",
    Compound: "synthetic-schema-compound",
    Tier: 3,
    Source: "synthetic-schema-source",
    Article: "synthetic-schema-article",
}
SCHEMA_OVERRIDES = {
    Tier: {"number": 3, "weight": 60, "means_no_effect": False},
    Compound: {"published": True},
    Dosing: {"goal": None, "amount_max": "2", "per_kg": True, "route": "oral"},
    Rating: {"tier": 3},
    Study: {
        "design": "rct",
        "n": 120,
        "trial_count": None,
        "year": 2020,
        "pmid": "",
        "doi": "",
        "reported_in": None,
        "reviewed": False,
    },
    Finding: {
        "comparator": "active",
        "comparator_compound": "synthetic-schema-comparator",
        "measure": "mean_difference",
        "value": "-1.5",
        "value_unit": "mg/dL",
        "comparator_value": None,
        "ci_low": "-2.5",
        "ci_high": "-0.5",
        "p_value": "0.01",
        "p_value_is_bound": True,
        "stated_significance": None,
        "higher_is_better": False,
        "direction": "",
        "dose": "1",
        "dose_max": "2",
        "dose_unit": "mg",
        "reviewed": False,
    },
    Article: {"goal": None},
    Vendor: {"website": "https://synthetic-schema.example.com", "offer_hosts": "", "active": True},
    Offer: {
        "url": "https://synthetic-schema.example.com/product",
        "price": "7500",
        "price_availability": "public",
        "currency": "JPY",
        "amount_per_unit": "10",
        "unit": "mg",
        "units_per_pack": 2,
    },
    AntiDopingStatus: {"status": "prohibited"},
    RegulatoryStatus: {"status": "warning_list"},
    Interaction: {},
}


def schema_value(model, name: str):
    """A valid value for one field, made from the model field's type."""
    model_field = model._meta.get_field(name)
    if name in SCHEMA_OVERRIDES.get(model, {}):
        return SCHEMA_OVERRIDES[model][name]
    if model_field.is_relation:
        return SCHEMA_KEYS[model_field.related_model]
    default = model_field.get_default()
    if model_field.choices:
        values = [value for value, _ in model_field.flatchoices if value not in ("", default)]
        return values[0]
    if isinstance(model_field, models.BooleanField):
        return not default if isinstance(default, bool) else True
    if isinstance(model_field, models.DecimalField):
        return "1.5"
    if isinstance(model_field, models.IntegerField):
        return 2
    if isinstance(model_field, models.DateField):
        return "2026-01-15"
    if isinstance(model_field, models.SlugField):
        return SCHEMA_KEYS.get(model, f"synthetic-schema-{model._meta.model_name}")
    if isinstance(model_field, models.URLField):
        return f"https://synthetic-schema.example.com/{name}"
    text = f"Synthetic {model._meta.verbose_name} {name}"
    return text[: model_field.max_length] if model_field.max_length else text


def schema_entry(spec: interchange._List) -> dict:
    entry = {name: schema_value(spec.model, name) for name in spec.fields}
    for child, child_spec in spec.children.items():
        entry[child] = [schema_entry(child_spec)]
    return entry


def schema_example() -> dict:
    """A version 2 document with one entry of every list, every field of each set."""
    document = {"format": FORMAT, "version": interchange.VERSION}
    for section in SECTIONS:
        spec = interchange.LISTS[section]
        if section == "interactions":
            entry = schema_entry(spec)
            entry["compounds"] = [SCHEMA_KEYS[Compound], "synthetic-schema-comparator"]
            document[section] = [entry]
            continue
        document[section] = [schema_entry(spec)]
    [compound] = document["compounds"]
    compound["aliases"] = [
        "Synthetic shared alias",
        {"name": "Synthetic alias to review", "reviewed": False, "review_note": "Synthetic."},
    ]
    comparator = {
        **{name: schema_value(Compound, name) for name in interchange.COMPOUND_FIELDS},
        "slug": "synthetic-schema-comparator",
        "name": "Synthetic schema comparator",
        "aliases": ["Synthetic shared alias"],  # an alias naming two compounds
    }
    document["compounds"].append(comparator)
    return document


def test_every_field_of_the_schema_is_in_the_generated_example():
    document = schema_example()

    def lists(container, specs):
        for name, spec in specs.items():
            for entry in container.get(name, []):
                yield spec, entry
                yield from lists(entry, spec.children)

    seen = list(lists(document, interchange.LISTS))
    every_list = {spec.model for spec in interchange.LISTS.values()} | {
        child.model for spec in interchange.LISTS.values() for child in spec.children.values()
    }
    assert {spec.model for spec, _ in seen} == every_list
    for spec, entry in seen:
        assert set(spec.fields) <= set(entry), spec.model.__name__


@pytest.mark.django_db
def test_the_example_generated_from_the_schema_imports_and_round_trips():
    generated = schema_example()

    import_document(generated)
    exported = export_document()

    def compare(container, written, specs, path):
        for name, spec in specs.items():
            by_key = {json.dumps(e.get(spec.fields[0])): e for e in written[name]}
            for entry in container.get(name, []):
                back = by_key[json.dumps(entry.get(spec.fields[0]))]
                for field_name in spec.fields:
                    value = entry[field_name]
                    assert back[field_name] == value, f"{path}.{name}.{field_name}"
                compare(entry, back, spec.children, f"{path}.{name}")

    compare(generated, exported, interchange.LISTS, "document")
    text = dumps(exported)
    wipe_database()
    import_document(loads(text))
    assert dumps(export_document()) == text
