"""The public change log's pages: /changes/ (site-wide or one compound's, paginated, minor
edits on request), "What changed" on the compound page, and the two Atom feeds."""

import xml.etree.ElementTree as ET

import pytest

from evidence import views
from evidence.models import Rating
from evidence.roles import EVIDENCE_EDITORS
from tests.factories import make_compound, make_goal, make_rating, tier
from tests.factories.admin import admin_url, assert_saved, form_data
from tests.factories.pages import DISCLAIMER
from tests.factories.personas import anonymous_visitor, evidence_editor, logged_in, staff_member

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def feed_entries(response) -> list[dict]:
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    return [
        {
            "title": entry.find(f"{ATOM}title").text,
            "summary": entry.find(f"{ATOM}summary").text,
            "id": entry.find(f"{ATOM}id").text,
        }
        for entry in root.findall(f"{ATOM}entry")
    ]


def recent_changes_url(compound) -> str:
    """What the compound's page fetches into its "What changed" when it comes into view."""
    return f"/compounds/{compound.slug}/changes/recent/"


def change_tier_in_admin(rating, number, reason, editor=None):
    client = logged_in(editor or evidence_editor())
    page = client.get(admin_url(Rating, "change", rating.pk))
    data = form_data(page, tier=str(tier(number).pk), public_reason=reason)
    assert_saved(client.post(page.request["PATH_INFO"], data))


def edit_bottom_line_in_admin(rating, text, minor):
    client = logged_in(evidence_editor())
    page = client.get(admin_url(Rating, "change", rating.pk))
    changes = {"bottom_line": text, **({"minor_edit": "on"} if minor else {})}
    assert_saved(client.post(page.request["PATH_INFO"], form_data(page, **changes)))


def test_a_tier_change_with_its_reason_shows_on_the_compound_page_changes_and_both_feeds():
    compound = make_compound("Synthetic compound T", slug="synthetic-compound-t")
    rating = make_rating(compound, make_goal("Synthetic goal T"), tier_number=3)
    reason = "Synthetic: a larger synthetic trial replicated the effect."
    change_tier_in_admin(rating, 2, reason)
    expected = (
        "Tier for Synthetic goal T changed from Tier 3 (Probable efficacy) to Tier 2 "
        "(Likely efficacy)."
    )
    visitor = anonymous_visitor()

    page = visitor.get(compound.get_absolute_url())
    assert "What changed" in page.text
    assert f'hx-get="{recent_changes_url(compound)}"' in page.text
    recent = visitor.get(recent_changes_url(compound))
    assert expected in recent.text
    assert reason in recent.text

    listing = visitor.get("/changes/")
    assert expected in listing.text and reason in listing.text

    for url in ("/changes/feed/", f"/compounds/{compound.slug}/changes/feed/"):
        entries = feed_entries(visitor.get(url))
        assert entries[0]["title"] == f"Synthetic compound T: {expected}"
        assert reason in entries[0]["summary"]


def test_a_minor_edit_is_hidden_by_default_and_shown_on_request():
    rating = make_rating(bottom_line="Synthetic bottom lien.")
    edit_bottom_line_in_admin(rating, "Synthetic bottom line.", minor=True)
    visitor = anonymous_visitor()
    assert "rewritten" not in visitor.get("/changes/").text
    assert "rewritten" not in visitor.get(recent_changes_url(rating.compound)).text
    assert not any("rewritten" in e["title"] for e in feed_entries(visitor.get("/changes/feed/")))
    shown = visitor.get("/changes/?minor=1")
    assert "rewritten" in shown.text
    assert "Minor edit" in shown.text


def test_no_staff_username_is_ever_shown():
    rating = make_rating()
    editor = staff_member("synthetic-editor-qz7", EVIDENCE_EDITORS)
    change_tier_in_admin(rating, 1, "Synthetic reason.", editor)
    visitor = anonymous_visitor()
    for url in ("/changes/", "/changes/feed/", recent_changes_url(rating.compound)):
        assert "qz7" not in visitor.get(url).content.decode()


def test_an_unpublished_compound_is_not_listed_and_its_changes_are_404():
    hidden = make_compound("Synthetic hidden compound", published=False)
    make_rating(hidden)
    visitor = anonymous_visitor()
    assert "Synthetic hidden compound" not in visitor.get("/changes/").text
    assert visitor.get(f"/changes/?compound={hidden.slug}").status_code == 404
    assert visitor.get(f"/compounds/{hidden.slug}/changes/feed/").status_code == 404
    assert visitor.get(recent_changes_url(hidden)).status_code == 404


def test_one_compound_s_changes_page_lists_only_its_changes():
    mine = make_compound("Synthetic mine")
    other = make_compound("Synthetic other")
    make_rating(mine, make_goal("Synthetic goal mine"))
    make_rating(other, make_goal("Synthetic goal other"))
    page = anonymous_visitor().get(f"/changes/?compound={mine.slug}")
    assert "Synthetic goal mine" in page.text
    assert "Synthetic goal other" not in page.text


def test_the_changes_page_is_paginated_newest_first(monkeypatch):
    monkeypatch.setattr(views, "CHANGES_PER_PAGE", 2)
    compound = make_compound()
    goals = [make_goal(f"Synthetic goal P{i}") for i in range(3)]
    for goal in goals:
        make_rating(compound, goal)
    visitor = anonymous_visitor()
    first = visitor.get("/changes/")
    assert "Synthetic goal P2" in first.text and "Synthetic goal P1" in first.text
    assert "Page 1 of 2" in first.text
    second = visitor.get("/changes/?page=2")
    assert "Synthetic goal P0" in second.text and "Published on this site." in second.text
    assert visitor.get("/changes/?page=3").status_code == 404


@pytest.mark.parametrize("query", ["page=abc", "page=0", "compound=not%20a%20slug", "minor=x"])
def test_bad_parameters_are_a_400_with_a_plain_message(query):
    response = anonymous_visitor().get(f"/changes/?{query}")
    assert response.status_code == 400
    assert b"Unknown values" in response.content


def test_an_htmx_request_gets_only_the_list():
    make_rating()
    response = anonymous_visitor().get("/changes/?minor=1", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="results"' in response.text


def test_the_changes_page_keeps_the_disclaimer_and_links_its_feed():
    page = anonymous_visitor().get("/changes/")
    assert DISCLAIMER in page.text
    assert 'type="application/atom+xml"' in page.text
    assert 'href="/changes/feed/"' in page.text


def test_feed_entries_have_unique_ids():
    compound = make_compound()
    for _ in range(3):
        make_rating(compound)
    ids = [e["id"] for e in feed_entries(anonymous_visitor().get("/changes/feed/"))]
    assert len(ids) == len(set(ids)) == 4


def test_the_compound_page_reads_no_history_and_links_to_its_changes_without_javascript(
    client, django_assert_max_num_queries
):
    rating = make_rating()
    change_tier_in_admin(rating, 1, "Synthetic reason.")
    page = client.get(rating.compound.get_absolute_url()).content.decode()
    assert "changed from Tier 3" not in page  # fetched when "What changed" comes into view
    assert f'<a href="/changes/?compound={rating.compound.slug}">See the latest changes' in page
    # The fragment alone: the version, the compound, four history tables, the names they need.
    with django_assert_max_num_queries(9):
        recent = client.get(recent_changes_url(rating.compound), headers={"HX-Request": "true"})
    assert "changed from Tier 3" in recent.content.decode()
    assert b"<html" not in recent.content


def test_a_new_compounds_only_change_is_its_publication():
    compound = make_compound(published=True)
    recent = anonymous_visitor().get(recent_changes_url(compound)).text
    assert recent.count("<li>") == 1
    assert "Published on this site." in recent
