"""Whatever staff type into any text field, no page runs it: every rendered field is inert."""

from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.db import models

from evidence.models import (
    Article,
    CompoundAlias,
    ErrorReport,
    Interaction,
    Study,
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

pytestmark = pytest.mark.django_db

PAYLOAD = (
    '<script>alert(1)</script><img src=x onerror="alert(2)">'
    '<a href="javascript:alert(3)">x</a>[md](javascript:alert(4))'
)
# Codes and identifiers, each checked as one (a currency is three capital letters).
NOT_TEXT = {"slug", "key", "url", "website", "pmid", "doi", "licence_url", "currency"}


def free_text_fields(model) -> list[models.Field]:
    return [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, (models.CharField, models.TextField))
        and field.editable  # nobody types a derived field (a search key)
        and not isinstance(field, models.URLField)  # an address, checked as one (https only)
        and not field.choices
        and field.name not in NOT_TEXT
    ]


def poison(obj: models.Model) -> None:
    """Put the payload (cut to fit) into every free-text field of the object, and save."""
    for field in free_text_fields(obj):
        limit = field.max_length or len(PAYLOAD) + 10
        setattr(obj, field.name, f"{obj.pk} {field.name} {PAYLOAD}"[:limit])
    obj.save()


class LiveCode(HTMLParser):
    """Collects what a browser would run: script bodies, on* attributes, javascript: links."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self._in_script = tag == "script"
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name in {"href", "src", "action", "formaction"} and (
                value or ""
            ).strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value}>")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.found.append(f"<script>{data[:40]}")


def assert_inert(html: str) -> None:
    parser = LiveCode()
    parser.feed(html)
    assert parser.found == []


@pytest.fixture
def poisoned():
    goal = make_goal()
    compound = make_compound(aliases=["Synthetic alias"])
    other = make_compound()
    rating = make_rating(compound, goal, 3)
    source = make_source()
    study = make_study(design=Study.Design.META_ANALYSIS, source=source)
    finding = make_finding(
        compound,
        goal,
        study=study,
        comparator="active",
        comparator_compound=other,
        measure="mean_difference",  # the one measure with a unit, a free-text field
    )
    vendor = make_vendor()
    offer = make_offer(compound, vendor, price=Decimal("10.00"))
    article = Article.objects.create(
        compound=compound, goal=goal, slug="synthetic-article", title="t", body="b", published=True
    )
    interaction = Interaction.objects.create(
        compound_a=compound, compound_b=other, severity="major", note="n"
    )
    # The reason given with the rating's next save shows on the public change log.
    rating._public_reason = PAYLOAD
    rows = [
        ErrorReport.objects.create(page="/", message="m", compound=compound),
        goal,
        compound,
        other,
        CompoundAlias.objects.get(compound=compound),
        make_dosing(compound, goal=goal),
        make_side_effect(compound),
        make_contraindication(compound),
        make_regulatory_status(compound),
        make_anti_doping_status(compound),
        interaction,
        rating,
        rating.tier,
        source,
        study,
        finding,
        article,
        vendor,
        offer,
    ]
    for row in rows:
        poison(row)
    return goal, compound, vendor


def test_every_content_model_with_free_text_is_poisoned(poisoned):
    content_models = [
        model
        for model in apps.get_app_config("evidence").get_models()
        if not hasattr(model, "instance_type")  # simple-history's copies
    ]
    unpoisoned = [
        model.__name__
        for model in content_models
        if free_text_fields(model)
        and not model.objects.filter(
            **{
                f"{f.name}__contains": "<script>"
                for f in free_text_fields(model)
                if (f.max_length or 999) >= len(f.name) + 20
            }
        ).exists()
    ]
    assert unpoisoned == []


def test_every_page_renders_every_poisoned_field_inert(client, poisoned):
    goal, compound, vendor = poisoned
    article = Article.objects.get()
    urls = [
        f"/?goals={goal.slug}",
        f"/goals/{goal.slug}/",
        "/compounds/",
        "/compounds/?q=alias",
        f"/compounds/{compound.slug}/",
        f"/compounds/{compound.slug}/evidence/{goal.slug}/",
        "/research/",
        f"/research/?goal={goal.slug}",
        f"/research/{article.slug}/",
        "/goals/",
        "/sitemap.xml",
        "/vendors/",
        f"/vendors/{vendor.slug}/",
        "/methodology/",
        "/changes/",
        "/changes/?minor=1",
        f"/changes/?compound={compound.slug}",
        "/how-we-make-money/",
        f"/report/?page=/compounds/{compound.slug}/evidence/{goal.slug}/",
    ]
    for url in urls:
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(url, headers=headers)
            assert response.status_code == 200, url
            html = response.content.decode()
            assert_inert(html)
    evidence = client.get(f"/compounds/{compound.slug}/evidence/{goal.slug}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in evidence  # shown as text, not run


def test_the_checks_would_catch_a_live_payload():
    with pytest.raises(AssertionError):
        assert_inert(PAYLOAD)
    with pytest.raises(AssertionError):
        assert_inert('<a href="javascript:alert(1)">x</a>')
    with pytest.raises(AssertionError):
        assert_inert('<img src=x onerror="alert(2)">')
