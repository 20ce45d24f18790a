"""Report an error: the short form on every compound and evidence page, stored for editors
with its page and the finding it names, rate-limited per visitor without storing who they
are, and listed in the admin with its state."""

import re
from urllib.parse import quote

import pytest
from django.test import Client

from evidence.models import ErrorReport
from evidence.reports import REPORTS_PER_HOUR
from tests.factories import make_compound, make_finding, make_goal, make_rating, make_vendor
from tests.factories.admin import admin_url
from tests.factories.pages import DISCLAIMER, make_thymosin
from tests.factories.personas import (
    anonymous_visitor,
    evidence_editor,
    logged_in,
    superuser,
    vendor_account,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}

EVIDENCE_PAGE = "/compounds/thymosin-alpha-1/evidence/liver-health/"
COMPOUND_PAGE = "/compounds/thymosin-alpha-1/"


@pytest.fixture
def thymosin():
    make_thymosin()


def report(client, page, message="Synthetic: the CI looks transposed.", **data):
    return client.post("/report/", {"page": page, "message": message, **data})


def test_every_compound_and_evidence_page_offers_the_form_when_opened(thymosin):
    for page in (COMPOUND_PAGE, EVIDENCE_PAGE):
        html = anonymous_visitor().get(page).text
        assert "Report an error on this page" in html
        # The form is fetched when the disclosure opens (htmx), or followed as a link: the
        # page itself carries no visitor's CSRF token (evidence.cache).
        assert f'hx-get="/report/?page={quote(page)}"' in html
        assert f'<a href="/report/?page={quote(page)}">' in html
        assert "csrfmiddlewaretoken" not in html
        fragment = anonymous_visitor().get(f"/report/?page={page}", headers=HTMX).text
        assert "<html" not in fragment
        assert 'action="/report/"' in fragment
        assert f'name="page" value="{page}"' in fragment


def test_the_evidence_page_s_form_offers_its_own_findings_to_name(thymosin):
    html = anonymous_visitor().get(f"/report/?page={EVIDENCE_PAGE}", headers=HTMX).text
    assert "Complete response (Tα1 vs interferon meta-analysis)</option>" in html


def test_a_report_is_stored_with_its_page_and_the_finding_it_names(thymosin):
    from evidence.models import Finding

    finding = Finding.objects.get(outcome="Complete response")
    response = report(anonymous_visitor(), EVIDENCE_PAGE, finding=str(finding.pk))
    assert response.status_code == 200
    assert "your report is with our editors" in response.text
    assert DISCLAIMER in response.text
    stored = ErrorReport.objects.get()
    assert (stored.page, stored.compound.slug, stored.goal.slug, stored.finding) == (
        EVIDENCE_PAGE,
        "thymosin-alpha-1",
        "liver-health",
        finding,
    )
    assert stored.state == ErrorReport.State.NEW


def test_a_report_from_a_compound_page_names_the_compound(thymosin):
    report(anonymous_visitor(), COMPOUND_PAGE)
    stored = ErrorReport.objects.get()
    assert (stored.compound.slug, stored.goal, stored.finding) == ("thymosin-alpha-1", None, None)


def test_a_finding_not_on_the_page_is_refused_with_the_form_shown_again(thymosin):
    elsewhere = make_finding(make_compound(), make_goal())
    response = report(anonymous_visitor(), EVIDENCE_PAGE, finding=str(elsewhere.pk))
    assert response.status_code == 400
    assert "That finding is not on this page." in response.text
    assert not ErrorReport.objects.exists()


@pytest.mark.parametrize(
    "page",
    [
        "/vendors/synthetic/",
        "https://example.com/compounds/thymosin-alpha-1/",
        "/compounds/no-such-compound/",
        "/compounds/thymosin-alpha-1/evidence/no-such-goal/",
        "",
    ],
)
def test_a_page_that_is_not_one_of_ours_is_refused(thymosin, page):
    response = report(anonymous_visitor(), page)
    assert response.status_code == 400
    assert not ErrorReport.objects.exists()


def test_an_unpublished_compound_s_page_is_refused():
    hidden = make_compound(published=False)
    make_rating(hidden)
    assert report(anonymous_visitor(), f"/compounds/{hidden.slug}/").status_code == 400


def test_an_empty_message_is_refused_in_plain_words(thymosin):
    response = report(anonymous_visitor(), COMPOUND_PAGE, message="  ")
    assert response.status_code == 400
    assert "Please say what is wrong." in response.text


def test_too_many_reports_from_one_visitor_are_refused_but_another_visitor_may_report(thymosin):
    visitor = Client(HTTP_USER_AGENT="Synthetic browser A", REMOTE_ADDR="203.0.113.9")
    for _ in range(REPORTS_PER_HOUR):
        assert report(visitor, COMPOUND_PAGE).status_code == 200
    refused = report(visitor, COMPOUND_PAGE)
    assert refused.status_code == 429
    assert "Please try again later" in refused.text
    assert ErrorReport.objects.count() == REPORTS_PER_HOUR
    other = Client(HTTP_USER_AGENT="Synthetic browser B", REMOTE_ADDR="203.0.113.10")
    assert report(other, COMPOUND_PAGE).status_code == 200


def test_nothing_about_the_visitor_is_stored(thymosin):
    visitor = Client(HTTP_USER_AGENT="Synthetic browser A", REMOTE_ADDR="203.0.113.9")
    report(visitor, COMPOUND_PAGE)
    stored = ErrorReport.objects.values().get()
    assert not any("203.0.113" in str(v) or "Synthetic browser" in str(v) for v in stored.values())


def test_an_htmx_post_gets_only_the_form_s_fragment(thymosin):
    response = anonymous_visitor().post(
        "/report/",
        {"page": COMPOUND_PAGE, "message": "Synthetic."},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="report-error"' in response.text


@pytest.mark.parametrize("token_in", ["form", "header"])
def test_the_fetched_form_posts_with_the_visitor_s_own_token(thymosin, token_in):
    for _ in range(2):  # the second visitor gets the page from the cache
        visitor = Client(enforce_csrf_checks=True)
        visitor.get(COMPOUND_PAGE)
        form = visitor.get(f"/report/?page={COMPOUND_PAGE}", headers=HTMX).text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        data = {"page": COMPOUND_PAGE, "message": "Synthetic."}
        if token_in == "form":
            response = visitor.post("/report/", {"csrfmiddlewaretoken": token, **data})
        else:  # htmx sends the cookie's token in a header (static/js/site.js)
            cookie = visitor.cookies["csrftoken"].value
            response = visitor.post("/report/", data, headers={**HTMX, "X-CSRFToken": cookie})
        assert response.status_code == 200
    assert ErrorReport.objects.count() == 2


def test_a_post_without_a_token_is_refused(thymosin):
    visitor = Client(enforce_csrf_checks=True)
    visitor.get(COMPOUND_PAGE)
    response = visitor.post("/report/", {"page": COMPOUND_PAGE, "message": "Synthetic."})
    assert response.status_code == 403
    assert ErrorReport.objects.count() == 0


def test_the_report_page_needs_a_page_of_ours(thymosin):
    assert anonymous_visitor().get("/report/").status_code == 400
    page = anonymous_visitor().get(f"/report/?page={EVIDENCE_PAGE}")
    assert page.status_code == 200
    assert "Thymosin alpha-1 for liver health" in page.text


# For the editors


def test_a_report_appears_in_the_admin_with_its_state(thymosin):
    report(anonymous_visitor(), EVIDENCE_PAGE, message="Synthetic: see the second trial.")
    editor = logged_in(evidence_editor())
    listing = editor.get(admin_url(ErrorReport, "changelist"))
    assert listing.status_code == 200
    assert "Synthetic: see the second trial." in listing.text
    assert EVIDENCE_PAGE in listing.text
    assert "New" in listing.text


def test_an_editor_moves_a_report_through_its_states(thymosin):
    report(anonymous_visitor(), COMPOUND_PAGE)
    stored = ErrorReport.objects.get()
    editor = logged_in(evidence_editor())
    response = editor.post(
        admin_url(ErrorReport, "change", stored.pk),
        {"state": "fixed", "editor_note": "Synthetic: corrected."},
    )
    assert response.status_code == 302
    stored.refresh_from_db()
    assert (stored.state, stored.editor_note) == ("fixed", "Synthetic: corrected.")


def test_a_report_s_own_words_cannot_be_edited_or_added_in_the_admin(thymosin):
    report(anonymous_visitor(), COMPOUND_PAGE, message="Synthetic original.")
    stored = ErrorReport.objects.get()
    editor = logged_in(superuser())
    editor.post(
        admin_url(ErrorReport, "change", stored.pk),
        {"state": "new", "message": "Synthetic forged.", "page": "/elsewhere/"},
    )
    stored.refresh_from_db()
    assert (stored.message, stored.page) == ("Synthetic original.", COMPOUND_PAGE)
    assert editor.get(admin_url(ErrorReport, "add")).status_code == 403


def test_a_vendor_account_cannot_see_the_reports(thymosin):
    client = logged_in(vendor_account(make_vendor()))
    assert client.get(admin_url(ErrorReport, "changelist")).status_code == 403


def test_a_report_s_words_are_shown_as_text_in_the_admin(thymosin):
    report(anonymous_visitor(), COMPOUND_PAGE, message="<script>alert(1)</script>")
    html = logged_in(evidence_editor()).get(admin_url(ErrorReport, "changelist")).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
