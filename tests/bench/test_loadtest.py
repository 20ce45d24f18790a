"""The load test's own pieces (bench/): the form handling its editor relies on, checked
against the real admin, the requests its visitors send, and its percentiles and checks."""

import importlib
import random
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test import Client

from evidence.models import Finding, Rating
from evidence.roles import EVIDENCE_EDITORS
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

# bench/ scripts import one another as top-level modules, as when run as scripts.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
webclient = importlib.import_module("webclient")
loadreport = importlib.import_module("loadreport")
loadtest = importlib.import_module("loadtest")

PAGE = """
<form id="other"><input name="elsewhere" value="x"></form>
<form id="thing_form" method="post">
  <input type="hidden" name="csrfmiddlewaretoken" value="tok">
  <input type="text" name="title" value="A &amp; B">
  <input type="checkbox" name="published" checked>
  <input type="checkbox" name="featured" value="yes">
  <input type="text" name="locked" value="no" disabled>
  <select name="tier"><option value="">---</option><option value="3" selected>T3</option></select>
  <select name="kind"><option value="a">A</option><option value="b">B</option></select>
  <select name="tags" multiple><option value="1" selected>1</option><option value="2">2</option>
    <option value="3" selected>3</option></select>
  <textarea name="notes">
first line</textarea>
  <input type="hidden" name="rows-TOTAL_FORMS" value="1">
  <input type="hidden" name="rows-0-id" value="7"><input name="rows-0-label" value="old">
  <input type="hidden" name="rows-__prefix__-id" value="">
  <input name="rows-__prefix__-label" value="">
  <input type="checkbox" name="rows-__prefix__-flag" checked>
  <input type="submit" name="_save" value="Save">
</form>
"""


def test_parse_form_sends_what_a_browser_sends():
    fields = webclient.parse_form(PAGE, "thing_form")
    assert fields[:9] == [
        ("csrfmiddlewaretoken", "tok"),
        ("title", "A & B"),
        ("published", "on"),
        ("tier", "3"),
        ("kind", "a"),  # a single select without a selection sends its first option
        ("tags", "1"),
        ("tags", "3"),
        ("notes", "first line"),  # the newline right after <textarea> is not content
        ("rows-TOTAL_FORMS", "1"),
    ]
    names = [name for name, _ in fields]
    assert "featured" not in names  # unticked
    assert "locked" not in names  # disabled
    assert "_save" not in names  # buttons are the caller's choice
    assert "elsewhere" not in names  # another form


def test_parse_form_refuses_a_page_without_the_form():
    with pytest.raises(ValueError, match="no <form id='missing'>"):
        webclient.parse_form(PAGE, "missing")


def test_set_field_replaces_in_place_removes_and_appends():
    fields = [("a", "1"), ("b", "2")]
    assert webclient.set_field(fields, "a", "9") == [("a", "9"), ("b", "2")]
    assert webclient.set_field(fields, "a", None) == [("b", "2")]
    assert webclient.set_field(fields, "c", "3") == [("a", "1"), ("b", "2"), ("c", "3")]


def test_add_inline_row_clones_the_template_row_like_the_admin_script():
    fields = webclient.parse_form(PAGE, "thing_form")
    added, index = webclient.add_inline_row(fields, "rows", {"label": "new"})
    assert index == 1
    assert webclient.get_field(added, "rows-TOTAL_FORMS") == "2"
    assert ("rows-1-label", "new") in added
    assert ("rows-1-flag", "on") in added  # the template's defaults come along
    assert ("rows-1-id", "") in added
    assert not any("__prefix__" in name for name, _ in added)
    assert webclient.inline_row_with(added, "rows", "label", "new") == 1
    assert webclient.inline_row_with(added, "rows", "label", "old") == 0
    assert webclient.inline_row_with(added, "rows", "label", "absent") is None


def test_error_text_reads_the_admin_error_notes():
    html = '<p class="errornote">Please correct the error below.</p><ul class="errorlist">'
    html += "<li>Bad tier.</li></ul><p>Other text</p>"
    assert webclient.error_text(html) == "Please correct the error below. | Bad tier."


def test_percentile_is_nearest_rank_over_every_value():
    values = [float(v) for v in range(1, 101)]
    assert loadreport.percentile(values, 50) == 50
    assert loadreport.percentile(values, 99) == 99
    assert loadreport.percentile(values, 100) == 100
    assert loadreport.percentile([5.0], 99) == 5
    assert loadreport.percentile([], 50) is None


def test_summarize_counts_statuses_surprises_and_missing_answers():
    samples = [
        ("page", 200, 10.0, None, 200),
        ("page", 200, 30.0, None, 200),
        ("page", 500, 20.0, None, 200),
        ("click", 302, 5.0, None, 302),
        ("click", 404, 5.0, None, 302),
        ("click", None, 0.0, "TimeoutError", 302),
    ]
    summary = loadreport.summarize(samples)
    assert summary["page"]["5xx"] == 1
    assert summary["page"]["unexpected"] == 1
    assert summary["page"]["latency_ms"]["p50"] == 20
    assert summary["click"]["no_answer"] == 1
    assert summary["click"]["errors"] == {"TimeoutError": 1}
    total = summary[loadreport.TOTAL]
    assert (total["requests"], total["answered"], total["unexpected"]) == (6, 5, 2)
    assert total["latency_ms"]["max"] == 30  # requests without an answer have no latency


def passing_results() -> dict:
    saves = {
        kind: {"made": 3, "failed": 0}
        for kind in (
            "rating tier",
            "finding added (inline)",
            "finding edited",
            "finding deleted (inline)",
        )
    }
    return {
        "load": {
            "by_type": loadreport.summarize([("page", 200, 1.0, None, 200)]),
            "clicks_sent": {"1": 5, "2": 7},
            "clicks_unanswered": 0,
            "clicks_wrong_location": 0,
            "editor": {
                "saves": saves,
                "saves_made": 12,
                "saves_failed": 0,
                "failures": [],
                "readbacks": {"checked": 9, "stale": 0, "details": []},
                "last_tier": 2,
            },
            "stragglers": 0,
            "crashes": [],
        },
        "clicks_counted": {"1": 5, "2": 7},
        "plan": {"editor": {"initial_tier": 3}},
        "ranking_after": {"entry": {"tier": 2, "score": 61.5, "group": "ranked"}},
        "fresh": {
            "pairs": 10,
            "stored": 10,
            "difference_count": 0,
            "target": {"score": 61.5, "tier_number": 2, "group": "ranked"},
            "history": {
                "rating changed": 3,
                "finding added": 3,
                "finding changed": 3,
                "finding deleted": 3,
            },
        },
        "gunicorn": {"problem_lines": 0, "access_log": {"2xx": 1}},
    }


def test_a_clean_run_passes_every_check():
    checks = loadreport.evaluate(passing_results())
    assert len(checks) > 5
    assert all(check["pass"] for check in checks)


def test_a_lost_click_fails_even_when_the_totals_agree():
    results = passing_results()
    results["clicks_counted"] = {"1": 6, "2": 6}
    failed = [c["name"] for c in loadreport.evaluate(results) if not c["pass"]]
    assert failed == ["clicks sent (302) = clicks counted (OfferClicks delta), every offer"]


def test_a_ranking_still_showing_the_first_tier_fails():
    results = passing_results()
    results["ranking_after"]["entry"]["tier"] = 3
    failed = [c["name"] for c in loadreport.evaluate(results) if not c["pass"]]
    assert failed == ["ranking API after the edits: tier set last (was)"]


# Against the app: what the visitors and the editor send is what the app expects.


@pytest.fixture
def catalogue(db):
    goals = [make_goal(), make_goal()]
    compounds = [make_compound(kind="supplement"), make_compound(kind="peptide")]
    for compound in compounds:
        rating = make_rating(compound=compound, goal=goals[0], tier_number=3)
        make_finding(compound, goals[0])
    vendor = make_vendor()
    offer = make_offer(compounds[0], vendor=vendor)
    return {
        "goals": goals,
        "compounds": compounds,
        "rating": rating,
        "plan": {
            "goals": [{"slug": goals[0].slug, "rated": 2}, {"slug": goals[1].slug, "rated": 0}],
            "compounds": [c.slug for c in compounds],
            "pairs": [[c.slug, goals[0].slug] for c in compounds],
            "search_terms": [compounds[0].name[:5]],
            "kinds": ["supplement", "peptide"],
            "min_tiers": [1, 2, 3, 4, 5],
            "vendors": [vendor.slug],
            "offers": [{"id": offer.pk, "url": offer.url}],
        },
    }


def test_every_request_of_the_visitor_mix_answers_200(catalogue):
    mix = loadtest.Mix(catalogue["plan"], random.Random(1))
    client = Client()
    for kind in loadtest.MIX:
        for _ in range(8):
            path, htmx = mix.path(kind)
            headers = loadtest.HTMX_HEADERS if htmx else {}
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (kind, path, response.status_code)
            if htmx:
                assert b"<html" not in response.content, (kind, path)


def editor_client() -> Client:
    user = User.objects.create_user("editor", is_staff=True)
    user.groups.add(Group.objects.get(name=EVIDENCE_EDITORS))
    client = Client()
    client.force_login(user)
    return client


def post_form(client: Client, path: str, fields) -> int:
    body, content_type = webclient.encode_multipart([*fields, ("_save", "Save")])
    return client.generic("POST", path, body, content_type=content_type).status_code


def test_a_parsed_and_changed_rating_form_saves_through_the_admin(catalogue):
    client = editor_client()
    rating = catalogue["rating"]
    path = f"/admin/evidence/rating/{rating.pk}/change/"
    fields = webclient.parse_form(client.get(path).content.decode(), "rating_form")
    fields = webclient.set_field(fields, "tier", str(tier(1).pk))
    fields = webclient.set_field(fields, "public_reason", "Synthetic reason.")
    assert post_form(client, path, fields) == 302
    assert Rating.objects.get(pk=rating.pk).tier.number == 1


def test_a_finding_added_and_deleted_through_the_study_inline(catalogue):
    client = editor_client()
    compound, goal = catalogue["compounds"][0], catalogue["goals"][0]
    study = make_study()
    make_finding(compound, goal, study=study)
    path = f"/admin/evidence/study/{study.pk}/change/"
    fields = webclient.parse_form(client.get(path).content.decode(), "study_form")
    fields, _ = webclient.add_inline_row(
        fields,
        "findings",
        {
            "compound": str(compound.pk),
            "goal": str(goal.pk),
            "outcome": "Load test outcome",
            "comparator": "placebo",
            "measure": "mean_difference",
            "value": "1.5",
            "ci_low": "0.5",
            "ci_high": "2.5",
            "p_value": "0.01",
        },
    )
    assert post_form(client, path, fields) == 302
    assert study.findings.filter(outcome="Load test outcome").count() == 1

    fields = webclient.parse_form(client.get(path).content.decode(), "study_form")
    fields = webclient.without_template_rows(fields)
    index = webclient.inline_row_with(fields, "findings", "outcome", "Load test outcome")
    fields = webclient.set_field(fields, f"findings-{index}-DELETE", "on")
    assert post_form(client, path, fields) == 302
    assert not Finding.objects.filter(outcome="Load test outcome").exists()
    assert study.findings.count() == 1


# Two-factor login: the editor computes its codes as an authenticator app would


def test_totp_code_matches_django_otps_devices(db):
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=User.objects.create_user("synthetic-staff"))
    secret = loadtest.totp_secret(device.config_url)
    for at in (0, 59, 1_700_000_000, time.time()):
        totp = TOTP(device.bin_key)
        totp.time = at
        assert loadtest.totp_code(secret, at) == f"{totp.token():06d}"


def test_the_editors_login_form_with_a_computed_code_logs_in(db, settings):
    settings.STAFF_TWO_FACTOR = True
    user = User.objects.create_user("editor", password="synthetic-password", is_staff=True)
    out = StringIO()
    call_command("enrol_two_factor", user.username, stdout=out)
    secret = loadtest.totp_secret(out.getvalue())
    client = Client()
    path = "/admin/login/?next=/admin/"
    fields = webclient.parse_form(client.get(path).content.decode(), "login-form")
    fields = webclient.set_field(fields, "username", "editor")
    fields = webclient.set_field(fields, "password", "synthetic-password")
    fields = webclient.set_field(fields, "otp_token", loadtest.totp_code(secret))
    body, content_type = webclient.encode_multipart(fields)
    assert client.generic("POST", path, body, content_type=content_type).status_code == 302
    assert client.get("/admin/").status_code == 200
