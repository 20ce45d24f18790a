"""The admin's tier-change step, shared by the rating's own page and the compound's ratings
inline: a tier change needs a public reason (stored with the history record) and is never
minor; a bottom line naming another tier is refused; a chore can be marked minor."""

import pytest
from django.contrib.messages import get_messages

from evidence.models import Compound, Rating
from tests.factories import make_compound, make_finding, make_goal, make_rating, tier
from tests.factories.admin import admin_url, assert_saved, form_data
from tests.factories.personas import evidence_editor, logged_in

pytestmark = pytest.mark.django_db


def rating_page(client, rating):
    return client.get(admin_url(Rating, "change", rating.pk))


def compound_page(client, compound):
    return client.get(admin_url(Compound, "change", compound.pk))


def inline_prefix(page) -> str:
    for inline in page.context["inline_admin_formsets"]:
        if inline.formset.model is Rating:
            return inline.formset.prefix
    raise AssertionError("no ratings inline")


def latest_record(obj):
    return obj.history.order_by("-history_date", "-history_id").first()


# On the rating's own page


def test_a_tier_change_without_a_reason_is_refused_with_a_plain_message():
    rating = make_rating(tier_number=3)
    client = logged_in(evidence_editor())
    page = rating_page(client, rating)
    response = client.post(page.request["PATH_INFO"], form_data(page, tier=str(tier(2).pk)))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["public_reason"] == [
        "You changed the tier: give the public reason for the change (it is shown on the "
        "site's change log)."
    ]
    rating.refresh_from_db()
    assert rating.tier.number == 3


def test_a_tier_change_with_a_reason_stores_the_reason_with_the_history_record():
    rating = make_rating(tier_number=3)
    client = logged_in(evidence_editor())
    page = rating_page(client, rating)
    reason = "Synthetic: a second synthetic randomised trial confirmed the effect."
    assert_saved(
        client.post(
            page.request["PATH_INFO"],
            form_data(page, tier=str(tier(2).pk), public_reason=reason),
        )
    )
    record = latest_record(rating)
    assert (record.tier.number, record.public_reason, record.minor_edit) == (2, reason, False)


def test_a_tier_change_is_never_minor():
    rating = make_rating(tier_number=3)
    client = logged_in(evidence_editor())
    page = rating_page(client, rating)
    response = client.post(
        page.request["PATH_INFO"],
        form_data(page, tier=str(tier(2).pk), public_reason="Synthetic reason.", minor_edit="on"),
    )
    assert response.status_code == 200
    assert "never minor" in str(response.context["adminform"].form.errors["minor_edit"])


def test_a_bottom_line_naming_another_tier_is_refused_in_the_admin():
    rating = make_rating(tier_number=3, bottom_line="Synthetic bottom line.")
    client = logged_in(evidence_editor())
    page = rating_page(client, rating)
    response = client.post(
        page.request["PATH_INFO"],
        form_data(
            page,
            tier=str(tier(1).pk),
            public_reason="Synthetic reason.",
            bottom_line="Tier 3 (probable efficacy): synthetic.",
        ),
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["bottom_line"]
    assert errors == [
        "The bottom line names Tier 3, but this rating is Tier 1. Rewrite the bottom line for "
        "Tier 1 (or leave the tier out of it), or choose the tier it names."
    ]


def test_a_tier_change_under_an_unchanged_bottom_line_is_saved_with_a_warning():
    rating = make_rating(tier_number=3)
    client = logged_in(evidence_editor())
    page = rating_page(client, rating)
    response = client.post(
        page.request["PATH_INFO"],
        form_data(page, tier=str(tier(2).pk), public_reason="Synthetic reason."),
        follow=True,
    )
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("check that the bottom line still reads right" in t for t in texts)


def test_an_edit_marked_minor_is_stored_minor():
    rating = make_rating(bottom_line="Synthetic bottom lnie.")
    client = logged_in(evidence_editor())
    page = rating_page(client, rating)
    assert_saved(
        client.post(
            page.request["PATH_INFO"],
            form_data(page, bottom_line="Synthetic bottom line.", minor_edit="on"),
        )
    )
    record = latest_record(rating)
    assert (record.bottom_line, record.minor_edit, record.public_reason) == (
        "Synthetic bottom line.",
        True,
        "",
    )


def test_a_note_alone_is_no_edit():
    rating = make_rating()
    before = rating.history.count()
    client = logged_in(evidence_editor())
    page = rating_page(client, rating)
    assert_saved(client.post(page.request["PATH_INFO"], form_data(page, public_reason="Nothing.")))
    assert rating.history.count() == before


def test_a_reason_belongs_to_its_own_save_only():
    rating = make_rating(tier_number=3)
    client = logged_in(evidence_editor())
    page = rating_page(client, rating)
    assert_saved(
        client.post(
            page.request["PATH_INFO"],
            form_data(page, tier=str(tier(2).pk), public_reason="Synthetic reason."),
        )
    )
    rating.refresh_from_db()
    rating.bottom_line = "Synthetic later edit."
    rating.save()
    assert latest_record(rating).public_reason == ""


# In the compound's ratings inline


def test_a_tier_change_in_the_compound_inline_needs_a_reason_too():
    compound = make_compound()
    make_rating(compound, make_goal(), tier_number=3)
    client = logged_in(evidence_editor())
    page = compound_page(client, compound)
    prefix = inline_prefix(page)
    response = client.post(
        page.request["PATH_INFO"], form_data(page, **{f"{prefix}-0-tier": str(tier(1).pk)})
    )
    assert response.status_code == 200
    ratings = response.context["inline_admin_formsets"][1].formset
    assert "give the public reason" in str(ratings.errors)


def test_a_tier_change_in_the_compound_inline_stores_its_reason():
    compound = make_compound()
    rating = make_rating(compound, make_goal(), tier_number=3)
    client = logged_in(evidence_editor())
    page = compound_page(client, compound)
    prefix = inline_prefix(page)
    changes = {f"{prefix}-0-tier": str(tier(1).pk), f"{prefix}-0-public_reason": "Synthetic."}
    assert_saved(client.post(page.request["PATH_INFO"], form_data(page, **changes)))
    record = latest_record(rating)
    assert (record.tier.number, record.public_reason) == (1, "Synthetic.")


def test_a_compound_edit_can_be_marked_minor():
    compound = make_compound(summary="Synthetic sumary.")
    client = logged_in(evidence_editor())
    page = compound_page(client, compound)
    assert_saved(
        client.post(
            page.request["PATH_INFO"],
            form_data(page, summary="Synthetic summary.", minor_edit="on"),
        )
    )
    assert latest_record(compound).minor_edit is True


def test_a_finding_edit_stores_its_note():
    finding = make_finding(make_compound(), make_goal())
    client = logged_in(evidence_editor())
    page = client.get(admin_url(type(finding), "change", finding.pk))
    assert_saved(
        client.post(
            page.request["PATH_INFO"],
            form_data(page, value="1.6", public_reason="Synthetic: corrected a typo in the OR."),
        )
    )
    assert latest_record(finding).public_reason == "Synthetic: corrected a typo in the OR."
