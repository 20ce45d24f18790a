"""The staff admin: every page opens, each role reaches exactly what its group allows."""

import re
from decimal import Decimal as D

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils.html import escape
from pytest_django.asserts import assertContains

from evidence.models import (
    Article,
    Compound,
    Finding,
    Goal,
    Interaction,
    Offer,
    Rating,
    Study,
    Tier,
    Vendor,
)
from tests.factories import (
    make_compound,
    make_finding,
    make_goal,
    make_offer,
    make_rating,
    make_study,
    make_vendor,
    tier,
)
from tests.factories.admin import (
    EVIDENCE_MODELS,
    admin_url,
    assert_saved,
    example,
    example_compound,
    example_interaction,
    example_vendor,
    form_data,
)
from tests.factories.personas import (
    anonymous_visitor,
    evidence_editor,
    logged_in,
    superuser,
    vendor_manager,
)

pytestmark = pytest.mark.django_db


every_model = pytest.mark.parametrize("model", EVIDENCE_MODELS, ids=lambda m: m.__name__)


def is_read_only(response) -> bool:
    return response.status_code == 200 and 'name="_save"' not in response.text


# The admin as a whole
def test_every_evidence_model_is_in_the_admin():
    assert [m.__name__ for m in EVIDENCE_MODELS if not admin.site.is_registered(m)] == []


def test_admin_configuration_passes_the_system_checks():
    assert admin.site.check(None) == []


def test_admin_is_titled_for_the_site():
    response = logged_in(superuser()).get(reverse("admin:index"))
    assert response.status_code == 200
    assert "Evidence Stack Builder admin" in response.text


# The superuser reaches everything
@every_model
def test_superuser_opens_every_changelist_with_rows_and_a_search(model):
    example(model)
    client = logged_in(superuser())
    response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1
    assert client.get(admin_url(model, "changelist"), {"q": "synthetic 1"}).status_code == 200
    every_column = ".".join(str(i) for i in range(len(response.context["cl"].list_display)))
    assert client.get(admin_url(model, "changelist"), {"o": every_column}).status_code == 200


@every_model
def test_superuser_opens_every_add_page(model):
    example(model)
    response = logged_in(superuser()).get(admin_url(model, "add"))
    assert response.status_code == 200


@every_model
def test_superuser_opens_every_change_page(model):
    obj = example(model)
    response = logged_in(superuser()).get(admin_url(model, "change", obj.pk))
    assert response.status_code == 200
    assert response.context["original"] == obj


@every_model
def test_superuser_saves_every_change_page_as_it_stands(model):
    obj = example(model)
    client = logged_in(superuser())
    page = client.get(admin_url(model, "change", obj.pk))
    assert_saved(client.post(admin_url(model, "change", obj.pk), form_data(page)))


# The evidence editor edits evidence, and only views vendors and offers
EDITS = {
    Compound: ("summary", "Edited summary."),
    Study: ("population", "Edited population."),
    Finding: ("notes", "Edited notes."),
    Rating: ("bottom_line", "Edited bottom line."),
    Tier: ("description", "Edited description."),
    Article: ("body", "Edited body."),
}


@pytest.mark.parametrize("model", EDITS, ids=lambda m: m.__name__)
def test_evidence_editor_opens_and_changes_evidence(model):
    obj = example(model)
    client = logged_in(evidence_editor())
    assert client.get(admin_url(model, "changelist")).status_code == 200
    assert client.get(admin_url(model, "add")).status_code == 200
    page = client.get(admin_url(model, "change", obj.pk))
    assert page.status_code == 200
    assert not is_read_only(page)

    field, text = EDITS[model]
    assert_saved(client.post(admin_url(model, "change", obj.pk), form_data(page, **{field: text})))
    obj.refresh_from_db()
    assert getattr(obj, field) == text


@pytest.mark.parametrize("model", [Vendor, Offer], ids=lambda m: m.__name__)
def test_evidence_editor_only_views_vendors_and_offers(model):
    obj = example(model)
    client = logged_in(evidence_editor())
    assert client.get(admin_url(model, "changelist")).status_code == 200
    assert is_read_only(client.get(admin_url(model, "change", obj.pk)))
    assert client.get(admin_url(model, "add")).status_code == 403
    assert client.post(admin_url(model, "add"), {}).status_code == 403
    assert client.post(admin_url(model, "change", obj.pk), {}).status_code == 403
    assert client.post(admin_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403


def test_evidence_editor_publishes_and_unpublishes_compounds():
    draft, live = make_compound(published=False), make_compound(published=True)
    client = logged_in(evidence_editor())
    changelist = admin_url(Compound, "changelist")

    client.post(changelist, {"action": "publish", "_selected_action": [draft.pk]})
    client.post(changelist, {"action": "unpublish", "_selected_action": [live.pk]})

    draft.refresh_from_db()
    live.refresh_from_db()
    assert draft.published is True
    assert live.published is False


# The vendor manager manages vendors and offers, and nothing of the evidence
def test_vendor_manager_opens_vendors_and_offers():
    vendor = example_vendor()
    offer = vendor.offers.get()
    client = logged_in(vendor_manager())
    for model, obj in [(Vendor, vendor), (Offer, offer)]:
        assert client.get(admin_url(model, "changelist")).status_code == 200
        assert client.get(admin_url(model, "add")).status_code == 200
        assert not is_read_only(client.get(admin_url(model, "change", obj.pk)))


def test_vendor_manager_adds_an_offer_through_the_admin_form():
    vendor = make_vendor()
    thymosin = make_compound("Thymosin alpha-1")
    client = logged_in(vendor_manager())
    assert client.get(admin_url(Offer, "add")).status_code == 200

    response = client.post(
        admin_url(Offer, "add"),
        {
            "vendor": vendor.pk,
            "compound": thymosin.pk,
            "key": "thymosin-5mg",
            "product_name": "Thymosin alpha-1 5 mg",
            "url": f"{vendor.website}/thymosin",
            "price_availability": Offer.PriceAvailability.PUBLIC,
            "price": "49.00",
            "currency": "EUR",
            "amount_per_unit": "5",
            "unit": "mg",
            "units_per_pack": "1",
            "form": Offer.Form.VIAL,
            "in_stock": "on",
            "last_checked": "2025-01-31",
        },
    )

    assert_saved(response)
    offer = Offer.objects.get(key="thymosin-5mg")
    assert (offer.vendor, offer.compound, offer.price) == (vendor, thymosin, D("49.00"))


def test_vendor_manager_cannot_save_an_offer_with_a_plain_http_link():
    client = logged_in(vendor_manager())
    page = client.get(admin_url(Offer, "change", make_offer(make_compound()).pk))
    response = client.post(page.request["PATH_INFO"], form_data(page, url="http://x.example"))
    assert response.status_code == 200
    assert "url" in response.context["adminform"].form.errors


def test_vendor_manager_finds_compounds_for_an_offer_by_alias():
    thymosin = make_compound("Thymosin alpha-1", aliases=["Zadaxin"])
    response = logged_in(vendor_manager()).get(
        reverse("admin:autocomplete"),
        {"app_label": "evidence", "model_name": "offer", "field_name": "compound", "term": "zadax"},
    )
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [str(thymosin.pk)]


@pytest.mark.parametrize("model", [Rating, Study, Finding, Tier, Article], ids=lambda m: m.__name__)
def test_vendor_manager_is_refused_evidence_pages(model):
    obj = example(model)
    client = logged_in(vendor_manager())
    assert client.get(admin_url(model, "changelist")).status_code == 403
    assert client.get(admin_url(model, "add")).status_code == 403
    assert client.get(admin_url(model, "change", obj.pk)).status_code == 403
    assert client.post(admin_url(model, "change", obj.pk), {}).status_code == 403


def test_vendor_manager_cannot_add_or_change_compounds():
    compound = example_compound()
    client = logged_in(vendor_manager())
    assert client.get(admin_url(Compound, "add")).status_code == 403
    assert client.post(admin_url(Compound, "change", compound.pk), {}).status_code == 403
    assert (
        client.post(admin_url(Compound, "delete", compound.pk), {"post": "yes"}).status_code == 403
    )
    client.post(
        admin_url(Compound, "changelist"),
        {"action": "unpublish", "_selected_action": [compound.pk]},
    )
    compound.refresh_from_db()
    assert compound.published is True
    # The group may view compounds, which the offer form's compound autocomplete needs;
    # the change page is then read-only, and shows none of the evidence inlines.
    page = client.get(admin_url(Compound, "change", compound.pk))
    assert is_read_only(page)
    assert page.context["inline_admin_formsets"] == []


# Anonymous visitors
@every_model
def test_anonymous_visitor_is_sent_to_the_login_page(model):
    url = admin_url(model, "changelist")
    response = anonymous_visitor().get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:login')}?next={url}"


# What the pages show
def test_compound_search_finds_an_alias():
    thymosin = make_compound("Thymosin alpha-1", aliases=["Zadaxin", "Thymalfasin"])
    make_compound("Synthetic other", aliases=["Synthetic other alias"])
    response = logged_in(superuser()).get(admin_url(Compound, "changelist"), {"q": "Zadaxin"})
    assert list(response.context["cl"].result_list) == [thymosin]


@pytest.mark.parametrize("model", [Rating, Offer], ids=lambda m: m.__name__)
def test_rating_and_offer_search_finds_a_compound_alias(model):
    thymosin = make_compound("Thymosin alpha-1", aliases=["Zadaxin"])
    if model is Rating:
        wanted, _ = make_rating(compound=thymosin), make_rating()
    else:
        wanted, _ = make_offer(thymosin), make_offer(make_compound())
    response = logged_in(superuser()).get(admin_url(model, "changelist"), {"q": "zadaxin"})
    assert list(response.context["cl"].result_list) == [wanted]


def test_compound_changelist_shows_tiers_per_goal_and_rating_count():
    thymosin = make_compound("Thymosin alpha-1")
    make_rating(compound=thymosin, goal=make_goal("Liver health"), tier_number=2)
    make_rating(compound=thymosin, goal=make_goal("Immunity"), tier_number=1)
    make_rating(compound=thymosin, goal=make_goal("Sleep"), tier_number=2)
    response = logged_in(superuser()).get(
        admin_url(Compound, "changelist"), {"ratings__tier__id__exact": tier(2).pk}
    )
    assert list(response.context["cl"].result_list) == [thymosin]
    # All three ratings are counted, though the filter matched two of them.
    assertContains(response, '<td class="field-rating_count">3</td>', html=True)
    assertContains(
        response,
        '<td class="field-tiers_by_goal">Immunity T1, Liver health T2, Sleep T2</td>',
        html=True,
    )


def test_finding_changelist_shows_the_derived_significance():
    compound, goal = make_compound(), make_goal()
    make_finding(compound, goal)  # OR 1.5 [1.2-1.9]
    make_finding(compound, goal, ci_low=D("0.9"), ci_high=D("1.9"))
    make_finding(compound, goal, measure=Finding.Measure.QUALITATIVE)
    response = logged_in(superuser()).get(admin_url(Finding, "changelist"))
    for label in ["Yes", "No", "Not assessable"]:
        assertContains(response, f'<td class="field-significance">{label}</td>', html=True)
    assertContains(response, '<td class="field-ci">1.2 to 1.9</td>', html=True)


def test_study_page_shows_each_findings_significance():
    study = make_study()
    make_finding(make_compound(), make_goal(), study=study)
    response = logged_in(superuser()).get(admin_url(Study, "change", study.pk))
    assertContains(response, '<div class="readonly">Yes</div>', html=True)


@pytest.mark.parametrize(
    "model", [Compound, Goal, Rating, Article, Vendor], ids=lambda m: m.__name__
)
def test_change_page_links_to_the_page_on_the_site(model):
    obj = example(model)
    client = logged_in(superuser())
    response = client.get(admin_url(model, "change", obj.pk))
    content_type = ContentType.objects.get_for_model(model)
    link = reverse("admin:view_on_site", args=[content_type.pk, obj.pk])
    assertContains(response, f'href="{link}"')
    assert client.get(link)["Location"] == f"http://testserver{obj.get_absolute_url()}"


def test_tier_changelist_is_in_ladder_order_and_searchable_by_label_or_number():
    client = logged_in(superuser())
    response = client.get(admin_url(Tier, "changelist"))
    assert [t.number for t in response.context["cl"].result_list] == [1, 2, 3, 4, 5, 6]
    for term in ["likely", "2"]:
        response = client.get(admin_url(Tier, "changelist"), {"q": term})
        assert [t.number for t in response.context["cl"].result_list] == [2]


@pytest.mark.parametrize("order", ["as given", "reversed"])
def test_interaction_is_saved_whichever_compound_comes_first(order):
    a, b = make_compound(), make_compound()
    first, second = (a, b) if order == "as given" else (b, a)
    response = logged_in(superuser()).post(
        admin_url(Interaction, "add"),
        {"compound_a": first.pk, "compound_b": second.pk, "severity": "major", "note": "x"},
    )
    assert_saved(response)
    interaction = Interaction.objects.get()
    assert (interaction.compound_a, interaction.compound_b) == (a, b)


def test_interaction_recorded_in_the_other_order_is_refused_by_the_form():
    interaction = example_interaction()
    response = logged_in(superuser()).post(
        admin_url(Interaction, "add"),
        {
            "compound_a": interaction.compound_b.pk,
            "compound_b": interaction.compound_a.pk,
            "severity": "minor",
            "note": "x",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    assert Interaction.objects.count() == 1


def test_interaction_of_a_compound_with_itself_is_refused_by_the_form():
    a = make_compound()
    response = logged_in(superuser()).post(
        admin_url(Interaction, "add"),
        {"compound_a": a.pk, "compound_b": a.pk, "severity": "major", "note": "x"},
    )
    assert response.status_code == 200
    assert "cannot interact with itself" in response.text
    assert not Interaction.objects.exists()


# Changelists read a bounded number of queries, however many rows they list
MAX_CHANGELIST_QUERIES = 10


@every_model
@pytest.mark.parametrize("rows", [5, 50])
def test_changelist_queries_stay_bounded_as_rows_grow(model, rows, django_assert_max_num_queries):
    for _ in range(rows):
        example(model)
    client = logged_in(superuser())
    with django_assert_max_num_queries(MAX_CHANGELIST_QUERIES):
        response = client.get(admin_url(model, "changelist"))
    assert response.context["cl"].result_count >= rows


# The study page in an editor's language (issue 14, items 3 and 4)

# Each rule the walk-through met as a bare constraint name, broken through the study page's
# findings inline: the page must say the rule in a sentence, never the constraint's name.
BROKEN_FINDINGS = {
    "finding_ci_complete_and_ordered": {"ci_low": "2.0", "ci_high": "1.0"},
    "finding_effect_inside_ci": {"value": "3.0", "ci_low": "1.2", "ci_high": "1.9"},
    "finding_p_value_in_range": {"p_value": "1.5"},
    "finding_ratio_positive": {"value": "-0.5", "ci_low": "", "ci_high": ""},
    "finding_proportion_is_percent": {
        "measure": "proportion",
        "value": "140",
        "ci_low": "",
        "ci_high": "",
    },
}


@pytest.mark.parametrize("constraint", BROKEN_FINDINGS)
def test_a_broken_finding_rule_is_shown_as_a_sentence_on_the_study_page(constraint):
    study = example(Study)
    client = logged_in(evidence_editor())
    page = client.get(admin_url(Study, "change", study.pk))
    changes = {f"findings-0-{name}": value for name, value in BROKEN_FINDINGS[constraint].items()}

    response = client.post(admin_url(Study, "change", study.pk), form_data(page, **changes))

    assert response.status_code == 200, "the form is shown again with the error"
    rule = next(c for c in Finding._meta.constraints if c.name == constraint)
    assert escape(rule.get_violation_error_message()) in response.text
    assert constraint not in response.text
    assert "is violated" not in response.text


@pytest.mark.parametrize(
    ("n", "sentence"),
    [("-3", "greater than or equal to 0"), ("0", "The sample size must be at least 1")],
)
def test_a_sample_size_below_one_is_shown_as_a_sentence_on_the_study_page(n, sentence):
    study = example(Study)
    client = logged_in(evidence_editor())
    page = client.get(admin_url(Study, "change", study.pk))
    response = client.post(admin_url(Study, "change", study.pk), form_data(page, n=n))
    assert response.status_code == 200
    assert "is violated" not in response.text
    assert sentence in response.text


def test_every_constraint_carries_a_sentence_of_its_own():
    from django.apps import apps

    for model in apps.get_app_config("evidence").get_models():
        for constraint in model._meta.constraints:
            message = constraint.get_violation_error_message()
            assert constraint.name not in message, (model, constraint.name)
            assert message.endswith("."), (model, constraint.name, message)


def test_the_study_page_shows_findings_in_groups_with_visible_help_and_plain_numbers():
    study = make_study()
    make_finding(
        make_compound(), make_goal(), study=study, value=D("1.6"), ci_low=D("1.2"), ci_high=D("2")
    )
    html = logged_in(evidence_editor()).get(admin_url(Study, "change", study.pk)).text
    for heading in ("What was compared", "The result", "Provenance"):
        assert heading in html
    assert 'name="findings-0-value" value="1.6"' in html
    assert 'name="findings-0-ci_high" value="2"' in html
    assert "1.6000" not in html
    # Help text is printed under its field, not hidden in a hover title.
    assert '<div class="help" id="id_findings-0-higher_is_better_helptext">' in html
    assert "permanent short name in imports and exports" in html


def test_a_rating_s_tier_is_a_plain_select():
    rating = make_rating(tier_number=3)
    client = logged_in(evidence_editor())
    for url, name in (
        (admin_url(Rating, "change", rating.pk), "tier"),
        (admin_url(Compound, "change", rating.compound.pk), "ratings-0-tier"),
    ):
        html = client.get(url).text
        tag = re.search(rf'<select name="{name}"[^>]*>', html)
        assert tag, url
        assert "admin-autocomplete" not in tag.group()
        options = html[tag.end() : html.index("</select>", tag.end())]
        assert "Tier 3: Probable efficacy</option>" in options
