"""The admin pages in tests: one example of each content model, and the admin's forms as a
browser posts them."""

from itertools import count

import pytest
from django import forms
from django.apps import apps
from django.urls import reverse

from evidence.models import (
    Article,
    Compound,
    CompoundAlias,
    Interaction,
    Study,
    Tier,
    Vendor,
)
from tests.factories import (
    make_anti_doping_status,
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

# The content models: not simple-history's tables of them, nor the vendor-account link
# (an inline on the user's page, tested in test_roles.py), nor the clicks (live data), nor
# the computed certainty's changes (themselves a history, written by the rescore).
EVIDENCE_MODELS = [
    m
    for m in apps.get_app_config("evidence").get_models()
    if not hasattr(m, "instance_type")
    and m._meta.model_name
    not in {"vendoraccount", "contentversion", "offerclicks", "errorreport", "certaintychange"}
]
_seq = count(1)


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:evidence_{model._meta.model_name}_{view}", args=args)


# One example of each model, each with the rows its admin page shows inline.
def example_compound() -> Compound:
    i = next(_seq)
    compound = make_compound(aliases=[f"Synthetic alias {i}"])
    make_rating(compound=compound, tier_number=2)
    make_dosing(compound, goal=make_goal())
    make_side_effect(compound)
    make_contraindication(compound)
    make_regulatory_status(compound)
    make_anti_doping_status(compound)
    return compound


def example_study() -> Study:
    study = make_study()
    make_finding(make_compound(), make_goal(), study=study)
    return study


def example_vendor() -> Vendor:
    vendor = make_vendor()
    make_offer(make_compound(), vendor=vendor)
    return vendor


def example_tier() -> Tier:
    number = 100 + next(_seq)
    return Tier.objects.create(
        number=number, label=f"Synthetic tier {number}", description="Synthetic.", weight=50
    )


def example_interaction() -> Interaction:
    return Interaction.objects.create(
        compound_a=make_compound(),
        compound_b=make_compound(),
        severity=Interaction.Severity.MODERATE,
        note="Synthetic interaction.",
    )


def example_article() -> Article:
    i = next(_seq)
    return Article.objects.create(
        compound=make_compound(),
        goal=make_goal(),
        slug=f"synthetic-article-{i}",
        title=f"Synthetic article {i}",
        body="Synthetic **Markdown**.",
        published=True,
    )


EXAMPLES = {
    "goal": make_goal,
    "tier": example_tier,
    "compound": example_compound,
    "compoundalias": lambda: CompoundAlias.objects.create(
        compound=make_compound(), name=f"Synthetic alias {next(_seq)}"
    ),
    "dosing": lambda: make_dosing(make_compound(), goal=make_goal()),
    "sideeffect": lambda: make_side_effect(make_compound()),
    "contraindication": lambda: make_contraindication(make_compound()),
    "regulatorystatus": lambda: make_regulatory_status(make_compound()),
    "antidopingstatus": lambda: make_anti_doping_status(make_compound()),
    "interaction": example_interaction,
    "rating": make_rating,
    "study": example_study,
    "finding": lambda: make_finding(
        make_compound(), make_goal(), comparator="active", comparator_compound=make_compound()
    ),
    "article": example_article,
    "source": lambda: make_study(source=make_source()).source,
    "vendor": example_vendor,
    "offer": lambda: make_offer(make_compound()),
}


def example(model):
    return EXAMPLES[model._meta.model_name]()


def form_data(response, **changes) -> dict:
    """What a browser would post back from the admin form on the page, with `changes`."""
    page_forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        page_forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in page_forms:
        for field in form:
            value = field.value()
            if isinstance(field.field, forms.NullBooleanField):
                data[field.html_name] = {None: "unknown", True: "true", False: "false"}[value]
            elif isinstance(field.field, forms.BooleanField):
                if value:
                    data[field.html_name] = "on"
            elif isinstance(value, list | tuple):
                data[field.html_name] = [str(v) for v in value]
            else:
                data[field.html_name] = "" if value is None else str(value)
    data.update(changes)
    return data


def assert_saved(response):
    """The admin accepted the form and redirected; otherwise show what it complained about."""
    if response.status_code == 200 and response.context:
        errors = [response.context["adminform"].form.errors]
        errors += [inline.formset.errors for inline in response.context["inline_admin_formsets"]]
        errors += [
            inline.formset.non_form_errors() for inline in response.context["inline_admin_formsets"]
        ]
        pytest.fail(f"the form was refused: {errors}")
    assert response.status_code == 302
