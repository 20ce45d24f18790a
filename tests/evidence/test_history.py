"""Nothing lost, everything traceable: every change to the content is kept with who, when and
what, shown on the admin's History page, and can be reverted there."""

import io
import json

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from evidence.interchange import export_document
from evidence.models import Compound, Offer, Rating, Tier, Vendor
from tests.factories import make_compound, make_offer, make_rating, make_vendor, tier
from tests.factories.admin import EVIDENCE_MODELS, admin_url, assert_saved, example, form_data
from tests.factories.personas import (
    evidence_editor,
    logged_in,
    superuser,
    vendor_account,
    vendor_manager,
)

pytestmark = pytest.mark.django_db

DEMO_FILE = settings.BASE_DIR / "demo" / "thymosin-alpha-1.json"


def history_url(obj, version=None) -> str:
    model = type(obj)
    if version is None:
        return admin_url(model, "history", obj.pk)
    return admin_url(model, "simple_history", obj.pk, version.history_id)


def revert_data(page) -> dict:
    """What the Revert button posts: the old version's form as the page shows it."""
    form = page.context["adminform"].form
    data = {}
    for field in form:
        value = field.value()
        if isinstance(value, bool):
            if value:
                data[field.html_name] = "on"
        elif isinstance(value, list | tuple):
            data[field.html_name] = [str(v) for v in value]
        else:
            data[field.html_name] = "" if value is None else str(value)
    return data


def edit_in_admin(client, obj, **changes):
    page = client.get(admin_url(type(obj), "change", obj.pk))
    assert_saved(client.post(page.request["PATH_INFO"], form_data(page, **changes)))
    obj.refresh_from_db()


# Every content model keeps its history


@pytest.mark.parametrize("model", EVIDENCE_MODELS, ids=lambda m: m.__name__)
def test_every_content_model_records_its_creation(model):
    obj = example(model)
    assert obj.history.filter(history_type="+").exists()


@pytest.mark.parametrize("model", EVIDENCE_MODELS, ids=lambda m: m.__name__)
def test_every_content_model_has_a_history_page_in_the_admin(model):
    obj = example(model)
    response = logged_in(superuser()).get(history_url(obj))
    assert response.status_code == 200
    assert "change-history" in response.text


# An editor's edit: who, when and what, visible and revertible


def test_an_editor_edit_records_the_editor_and_the_changed_field():
    compound = make_compound(summary="Synthetic original summary.")
    editor = evidence_editor()
    before = timezone.now()

    edit_in_admin(logged_in(editor), compound, summary="Synthetic edited summary.")

    latest = compound.history.latest()
    assert latest.history_type == "~"
    assert latest.history_user == editor
    assert before <= latest.history_date <= timezone.now()
    delta = latest.diff_against(latest.prev_record)
    assert delta.changed_fields == ["summary"]
    assert (delta.changes[0].old, delta.changes[0].new) == (
        "Synthetic original summary.",
        "Synthetic edited summary.",
    )


def test_the_history_page_shows_who_changed_what():
    compound = make_compound(summary="Synthetic original summary.")
    client = logged_in(evidence_editor())
    edit_in_admin(client, compound, summary="Synthetic edited summary.")

    response = client.get(history_url(compound))

    assert response.status_code == 200
    assert ">editor</a>" in response.text
    assert "Synthetic original summary." in response.text
    assert "Synthetic edited summary." in response.text
    [latest, *_] = response.context["page_obj"]
    assert [change["field"] for change in latest.history_delta_changes] == ["Summary"]


def test_the_change_page_links_to_the_history_page():
    compound = make_compound()
    response = logged_in(evidence_editor()).get(admin_url(Compound, "change", compound.pk))
    assert history_url(compound) in response.text


def test_reverting_in_the_admin_restores_the_earlier_value():
    compound = make_compound(summary="Synthetic original summary.")
    editor = evidence_editor()
    client = logged_in(editor)
    edit_in_admin(client, compound, summary="Synthetic edited summary.")
    original = compound.history.earliest()

    page = client.get(history_url(compound, original))
    assert page.status_code == 200
    assert "Revert" in page.text
    response = client.post(page.request["PATH_INFO"], revert_data(page))

    assert response.status_code == 302
    compound.refresh_from_db()
    assert compound.summary == "Synthetic original summary."
    revert = compound.history.latest()
    assert (revert.history_type, revert.history_user) == ("~", editor)
    assert compound.history.count() == 3  # created, edited, reverted: nothing is lost


def test_someone_who_may_only_view_cannot_revert():
    """Evidence editors only view vendors: the Revert button is hidden and a post refused."""
    vendor = make_vendor(description="Synthetic original.")
    edit_in_admin(logged_in(vendor_manager()), vendor, description="Synthetic edited.")
    client = logged_in(evidence_editor())

    page = client.get(history_url(vendor, vendor.history.earliest()))
    assert page.status_code == 200
    assert page.context["revert_disabled"]
    assert client.post(page.request["PATH_INFO"], revert_data(page)).status_code == 403
    vendor.refresh_from_db()
    assert vendor.description == "Synthetic edited."


def test_a_vendor_account_views_its_own_history_but_does_not_revert():
    vendor = make_vendor(description="Synthetic original.")
    edit_in_admin(logged_in(vendor_manager()), vendor, description="Synthetic edited.")
    client = logged_in(vendor_account(vendor, "synthetic-seller"))

    assert client.get(history_url(vendor)).status_code == 200
    page = client.get(history_url(vendor, vendor.history.earliest()))
    assert page.status_code == 200
    assert client.post(page.request["PATH_INFO"], revert_data(page)).status_code == 403


def test_a_vendor_account_cannot_see_the_history_of_an_offer_it_no_longer_holds():
    """An offer moved to vendor B is B's: A's account cannot read or revert its past."""
    vendor_a, vendor_b = make_vendor(), make_vendor()
    offer = make_offer(make_compound(), vendor=vendor_a)
    moved = {"vendor": vendor_b.pk, "url": f"{vendor_b.website}/product"}
    edit_in_admin(logged_in(vendor_manager()), offer, **moved)
    client = logged_in(vendor_account(vendor_a, "synthetic-seller"))
    old_version = offer.history.earliest()  # when it was A's

    assert client.get(history_url(offer)).status_code == 403
    assert client.get(history_url(offer, old_version)).status_code == 403
    assert client.post(history_url(offer, old_version), {"vendor": vendor_a.pk}).status_code == 403
    offer.refresh_from_db()
    assert offer.vendor == vendor_b


# Offers: prices are recorded, clicks are not


def test_an_offer_price_change_is_recorded():
    offer = make_offer(make_compound(), price="40.00")
    manager = vendor_manager()

    edit_in_admin(logged_in(manager), offer, price="35.50")

    latest = offer.history.latest()
    delta = latest.diff_against(latest.prev_record)
    assert latest.history_user == manager
    assert delta.changed_fields == ["price"]
    assert [str(v) for v in (delta.changes[0].old, delta.changes[0].new)] == ["40.00", "35.50"]


def test_a_click_on_an_offer_is_no_change_in_its_history(client):
    offer = make_offer(make_compound(published=True))
    before = offer.history.count()

    client.get(reverse("outbound", args=[offer.pk]))

    assert Offer.objects.with_click_total().get(pk=offer.pk).click_total == 1
    assert offer.history.count() == before


def test_publishing_from_the_changelist_is_recorded_with_the_editor():
    draft = make_compound(published=False)
    editor = evidence_editor()

    logged_in(editor).post(
        admin_url(Compound, "changelist"), {"action": "publish", "_selected_action": [draft.pk]}
    )

    latest = draft.history.latest()
    assert (latest.published, latest.history_user) == (True, editor)


# The import records history too


def import_file(tmp_path, document: dict) -> None:
    path = tmp_path / "document.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    call_command("import_evidence", str(path), stdout=io.StringIO())


def test_import_evidence_records_history(tmp_path):
    import_file(tmp_path, json.loads(DEMO_FILE.read_text(encoding="utf-8")))

    for model in EVIDENCE_MODELS:
        unrecorded = model.objects.exclude(pk__in=model.history.values("id"))
        assert not unrecorded.exists(), model.__name__
    document = export_document()
    compound = Compound.objects.get(slug=document["compounds"][0]["slug"])
    assert [h.history_type for h in compound.history.all()] == ["+"]

    document["compounds"][0]["summary"] = "Synthetic summary changed by an import."
    import_file(tmp_path, document)

    latest = compound.history.latest()
    assert latest.history_type == "~"
    assert latest.summary == "Synthetic summary changed by an import."
    assert latest.history_user is None  # the command line has no admin user


def test_rows_older_than_the_history_have_a_first_version():
    """The tier ladder came from a data migration before history began."""
    first = Tier.history.filter(number=1).earliest()
    assert (first.history_type, first.history_change_reason) == ("+", "Recorded when history began")


def test_deleting_keeps_the_deleted_version():
    vendor = make_vendor(name="Synthetic vendor to delete")
    pk = vendor.pk
    vendor.delete()
    deleted = Vendor.history.filter(id=pk).latest()
    assert (deleted.history_type, deleted.name) == ("-", "Synthetic vendor to delete")


# A save that changes nothing is no edit: no history row, no cached page retired


def unchanged_resave(browser, url):
    page = browser.get(url)
    assert_saved(browser.post(url, form_data(page)))


def test_a_vendor_account_resaving_its_offer_unchanged_retires_no_page_and_writes_no_history():
    from evidence.cache import content_version

    offer = make_offer(make_compound(), price="40.00")
    browser = logged_in(vendor_account(offer.vendor))
    rows, version = offer.history.count(), content_version()

    for url in (admin_url(Offer, "change", offer.pk), admin_url(Vendor, "change", offer.vendor_id)):
        unchanged_resave(browser, url)

    assert offer.history.count() == rows
    assert offer.vendor.history.count() == 1  # its creation only
    assert content_version() == version


def test_a_vendor_accounts_real_change_is_still_recorded_and_retires_the_cache():
    from evidence.cache import content_version

    offer = make_offer(make_compound(), price="40.00")
    browser = logged_in(vendor_account(offer.vendor))
    rows, version = offer.history.count(), content_version()
    url = admin_url(Offer, "change", offer.pk)

    assert_saved(browser.post(url, form_data(browser.get(url), price="39.00")))

    assert offer.history.count() == rows + 1
    assert offer.history.first().price == 39
    assert content_version() != version


# History and revert an editor can follow (issue 14 item 6)


def test_a_tier_changed_on_the_compound_page_shows_its_diff_in_the_compound_s_history():
    rating = make_rating(tier_number=3)
    compound = rating.compound
    client = logged_in(evidence_editor())
    edit_in_admin(
        client,
        compound,
        **{"ratings-0-tier": str(tier(1).pk), "ratings-0-public_reason": "Synthetic reason."},
    )
    assert Rating.objects.get(pk=rating.pk).tier.number == 1

    response = client.get(history_url(compound))

    part = response.text[response.text.index('id="part-changes"') :]
    assert f"Rating for {rating.goal.name}" in part
    assert "Tier 3: Probable efficacy" in part and "Tier 1: " in part
    assert admin_url(Rating, "history", rating.pk) in part
    assert ">editor<" in part or "editor</td>" in part


def test_the_compound_history_page_reads_a_bounded_number_of_queries(
    django_assert_max_num_queries,
):
    rating = make_rating()
    client = logged_in(evidence_editor())
    for number in (1, 2, 4, 3, 1):
        edit_in_admin(
            client,
            rating.compound,
            **{
                "ratings-0-tier": str(tier(number).pk),
                "ratings-0-public_reason": "Synthetic reason.",
            },
        )
    with django_assert_max_num_queries(25):
        assert client.get(history_url(rating.compound)).status_code == 200


TEXT = "Synthetic first line.\n- a list item\n- another item\n\nA last paragraph."


def as_browser_sends(data: dict) -> dict:
    """Browsers end a textarea's lines with CR LF."""
    return {k: v.replace("\n", "\r\n") if isinstance(v, str) else v for k, v in data.items()}


def test_an_edit_from_a_browser_keeps_plain_line_endings():
    compound = make_compound(summary="Synthetic.")
    client = logged_in(evidence_editor())
    page = client.get(admin_url(Compound, "change", compound.pk))
    data = as_browser_sends(form_data(page, summary=TEXT))
    assert_saved(client.post(page.request["PATH_INFO"], data))
    compound.refresh_from_db()
    assert compound.summary == TEXT


def test_a_revert_restores_exactly_what_was_there_line_endings_included():
    rating = make_rating(data_suggests=TEXT, limitations=TEXT, bottom_line="Synthetic line.")
    client = logged_in(evidence_editor())
    original = rating.history.latest()
    page = client.get(admin_url(Rating, "change", rating.pk))
    assert_saved(
        client.post(page.request["PATH_INFO"], as_browser_sends(form_data(page, bottom_line="X")))
    )

    page = client.get(history_url(rating, original))
    response = client.post(page.request["PATH_INFO"], as_browser_sends(revert_data(page)))

    assert response.status_code == 302
    rating.refresh_from_db()
    for field in Rating._meta.concrete_fields:
        assert getattr(rating, field.attname) == getattr(original, field.attname), field.name
    revert = rating.history.latest()
    assert revert.diff_against(revert.prev_record).changed_fields == ["bottom_line"]


def test_the_history_page_never_says_none():
    compound = make_compound(summary="Synthetic original summary.")  # made by no one
    client = logged_in(evidence_editor())
    edit_in_admin(client, compound, summary="Synthetic edited summary.")
    html = client.get(history_url(compound)).text
    start = html.index('id="change-history"')
    table = html[start : html.index("</table>", start)]
    assert "None" not in table
    assert "Not recorded (an import or a script)" in table
