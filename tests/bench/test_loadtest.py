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
from django.core.cache import caches
from django.core.management import call_command
from django.test import Client

from evidence.models import Finding, Offer, Rating, VendorAccount
from evidence.roles import EVIDENCE_EDITORS, VENDOR_ACCOUNTS
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
hostile = importlib.import_module("hostile")
redisserver = importlib.import_module("redisserver")

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


MB = 1024 * 1024


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
    results = {
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
        "database_down": {"status": 503, "body": {"database": "unavailable", "cache": "ok"}},
    }
    results["fresh"]["vendor_history"] = 40
    redis = {"used_memory": 9 * MB, "used_memory_peak": 12 * MB, "maxmemory": 256 * MB}
    healthy = [{"status": 200, "body": {"database": "ok", "cache": "ok"}}] * 3
    degraded = [{"status": 200, "body": {"database": "ok", "cache": "degraded"}}] * 3

    def phase(p95: float, hostile: bool, running: bool = True) -> dict:
        return {
            "seconds": 45.0,
            "hostile": hostile,
            "redis_running": running,
            "visitors": {"requests": 900, "2xx": 900, "latency_ms": {"p95": p95}},
            "junk": {"requests": 120 if hostile else 0},
            "vendor_saves": 40 if hostile else 0,
            "editor_saves": 12,
            "new_content_versions": 14 if hostile else 12,
            "redis_before": redis if running else None,
            "redis_after": redis if running else None,
            "healthz": healthy if running else degraded,
        }

    results["load"]["phases"] = {
        "baseline": phase(400.0, hostile=False),
        "hostile": phase(450.0, hostile=True),
        "redis stopped": phase(1500.0, hostile=False, running=False),
    }
    results["load"]["junk_probe"] = {
        "requests": 300,
        "answered_200": 300,
        "distinct_urls": 300,
        "pages": 9,
        "new_entries": 9,
        "most_entries_per_version": 9,
        "used_memory_before": 8 * MB,
        "used_memory_after": 9 * MB,
    }
    results["load"]["outage_probe"] = {"requests": 40, "answered_200": 40}
    results["load"]["vendor"] = {"offer_id": 2, "made": 40, "failed": 0, "failures": []}
    results["load"]["healthz_before_redis_stop"] = healthy[0]
    results["load"]["healthz_after_redis_restart"] = [degraded[0], healthy[0]]
    return results


def test_a_clean_run_passes_every_check():
    checks = loadreport.evaluate(passing_results())
    assert len(checks) > 5
    assert all(check["pass"] for check in checks)


def test_a_lost_click_fails_even_when_the_totals_agree():
    results = passing_results()
    results["clicks_counted"] = {"1": 6, "2": 6}
    failed = [c["name"] for c in loadreport.evaluate(results) if not c["pass"]]
    assert failed == [
        "clicks sent (302) = clicks counted (OfferClicks delta), every offer",
        "clicks on the offer the vendor kept saving: sent = counted",  # offer 2
    ]


def test_a_ranking_still_showing_the_first_tier_fails():
    results = passing_results()
    results["ranking_after"]["entry"]["tier"] = 3
    failed = [c["name"] for c in loadreport.evaluate(results) if not c["pass"]]
    assert failed == ["ranking API after the edits: tier set last (was)"]


def failed_checks(results: dict) -> list[str]:
    return [c["name"] for c in loadreport.evaluate(results) if not c["pass"]]


def test_a_5xx_fails_the_run():
    results = passing_results()
    results["load"]["by_type"] = loadreport.summarize(
        [("page", 200, 1.0, None, 200), ("junk-parameter page", 502, 3.0, None, 200)]
    )
    assert "5xx responses (client; gunicorn access log)" in failed_checks(results)
    results = passing_results()
    results["gunicorn"]["access_log"]["5xx"] = 1  # one the client never saw (a probe's)
    assert failed_checks(results) == ["5xx responses (client; gunicorn access log)"]


def test_a_click_lost_on_the_offer_the_vendor_saved_fails():
    results = passing_results()
    results["clicks_counted"]["2"] = 6  # 7 sent
    assert failed_checks(results) == [
        "clicks sent (302) = clicks counted (OfferClicks delta), every offer",
        "clicks on the offer the vendor kept saving: sent = counted",
    ]


def test_visitors_more_than_twice_as_slow_beside_the_hostile_clients_fail():
    results = passing_results()
    results["load"]["phases"]["hostile"]["visitors"]["latency_ms"]["p95"] = 801.0
    assert failed_checks(results) == ["visitors' p95 beside the hostile clients <= 2x without them"]


def test_junk_that_adds_cache_entries_fails():
    results = passing_results()
    results["load"]["junk_probe"]["most_entries_per_version"] = 10  # 9 pages
    assert failed_checks(results) == [
        "junk probe: cache entries per content version <= pages (URLs sent, all new)"
    ]


def test_every_vendor_save_retiring_the_cache_fails():
    results = passing_results()
    results["load"]["phases"]["hostile"]["new_content_versions"] = 12 + 40
    assert failed_checks(results) == [
        "cache retirements in the hostile phase <= editor saves + vendor's 1 a minute"
    ]


def test_healthz_saying_ok_while_redis_is_stopped_fails():
    results = passing_results()
    results["load"]["phases"]["redis stopped"]["healthz"] = [
        {"status": 200, "body": {"database": "ok", "cache": "ok"}}
    ]
    assert failed_checks(results) == ["/healthz with Redis stopped: 200, cache degraded"]


def test_healthz_answering_200_without_its_database_fails():
    results = passing_results()
    results["database_down"] = {"status": 200, "body": {"database": "ok", "cache": "ok"}}
    assert failed_checks(results) == [
        "/healthz with PostgreSQL unreachable: 503, database unavailable"
    ]


def test_a_missing_phase_fails_rather_than_passes():
    results = passing_results()
    del results["load"]["phases"]["redis stopped"]
    assert "Redis stopped: visitors' answers 200 / sent (p95); one client alone" in failed_checks(
        results
    )


def slice_result(visitor_ms: list[float], hostile: bool, started: float) -> dict:
    visitor_samples = [("page", 200, ms, None, 200) for ms in visitor_ms]
    samples = [*visitor_samples, ("outbound click", 302, 1.0, None, 302)]
    junk = (
        {"urls": {f"/?x={started}"}, "pages": {"/"}} if hostile else {"urls": set(), "pages": set()}
    )
    return {
        "seconds": 10.0,
        "started_at": started,
        "ended_at": started + 10,
        "hostile": hostile,
        "redis_running": True,
        "quiet_wait_seconds": 0.0,
        "stragglers": 0,
        "crashes": [],
        "by_type": loadreport.summarize(samples),
        "samples": samples,
        "visitor_samples": visitor_samples,
        "junk_sent": junk,
        "surprises": [],
        "clicks_sent": {"1": 1},
        "clicks_unanswered": 0,
        "clicks_wrong_location": 0,
        "editor_saves": 4,
        "vendor_saves": 3 if hostile else 0,
        "redis_before": {"dbsize": int(started)},
        "redis_after": {"dbsize": int(started) + 5},
        "new_content_versions": 2,
        "new_cache_entries": 5,
        "healthz": [{"status": 200}],
        "cpu": {"app_and_db": 0.5, "harness": 0.1, "other": 0.2 if started else 0.4, "idle": 0.2},
    }


def test_slices_of_a_phase_add_up_with_percentiles_over_all_their_requests():
    first = slice_result([float(ms) for ms in range(1, 51)], hostile=True, started=0)
    second = slice_result([float(ms) for ms in range(51, 101)], hostile=True, started=20)
    phase = loadtest.merge_slices([first, second])
    assert phase["visitors"]["requests"] == 100
    assert phase["visitors"]["latency_ms"]["p95"] == 95  # not either slice's own p95
    assert phase["clicks_sent"] == {"1": 2}
    assert (phase["editor_saves"], phase["vendor_saves"], phase["new_content_versions"]) == (
        8,
        6,
        4,
    )
    assert phase["junk"]["distinct_urls"] == 2
    assert phase["span_seconds"] == 30  # the vendor's allowance runs on the clock
    assert phase["redis_before"] == {"dbsize": 0} and phase["redis_after"] == {"dbsize": 25}
    assert phase["cpu"]["other"] == 0.3


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


# Two-factor login: the editor and the vendor compute their codes as an authenticator app


class DjangoBrowser:
    """webclient.Client's interface (get, post_form, cookies) over Django's test client, so
    the load test's own login and save code runs against the real admin without a server."""

    def __init__(self):
        self.django = Client()

    @property
    def cookies(self) -> dict[str, str]:
        return {name: morsel.value for name, morsel in self.django.cookies.items() if morsel.value}

    def _response(self, response) -> "webclient.Response":
        headers = {name.lower(): value for name, value in response.headers.items()}
        return webclient.Response(response.status_code, headers, response.content, 0.0)

    def get(self, path, headers=None):
        return self._response(self.django.get(path, headers=headers or {}))

    def post_form(self, path, fields, referer):
        body, content_type = webclient.encode_multipart(fields)
        return self._response(self.django.generic("POST", path, body, content_type=content_type))


def enrolled_staff(username: str, *groups: str) -> tuple[User, str]:
    """A staff user enrolled by `manage.py enrol_two_factor`, and the secret it printed."""
    user = User.objects.create_user(username, password="synthetic-password", is_staff=True)
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    out = StringIO()
    call_command("enrol_two_factor", username, stdout=out)
    return user, webclient.totp_secret(out.getvalue())


def test_totp_code_matches_django_otps_devices(db):
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=User.objects.create_user("synthetic-staff"))
    secret = webclient.totp_secret(device.config_url)
    for at in (0, 59, 1_700_000_000, time.time()):
        totp = TOTP(device.bin_key)
        totp.time = at
        assert webclient.totp_code(secret, at) == f"{totp.token():06d}"
    # The RFC 6238 test vector (SHA-1, key "12345678901234567890", T=59): 94287082.
    rfc_key = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert webclient.totp_code(rfc_key, 59) == "287082"


def test_a_computed_code_is_one_the_enrolled_device_accepts(db):
    user, secret = enrolled_staff("synthetic-editor")
    device = user.totpdevice_set.get()
    assert device.verify_token(webclient.totp_code(secret))
    assert not device.verify_token(webclient.totp_code(secret, time.time() - 300))


def test_the_editors_login_form_with_a_computed_code_logs_in(db, settings):
    settings.STAFF_TWO_FACTOR = True
    _, secret = enrolled_staff("editor", EVIDENCE_EDITORS)
    browser = DjangoBrowser()
    rec = loadtest.Recorder()
    webclient.admin_login(browser, "editor", "synthetic-password", secret, rec.call)
    assert browser.get("/admin/").status == 200
    assert [s[1] for s in rec.samples] == [200, 302]


def test_a_login_with_a_stale_code_is_refused(db, settings):
    settings.STAFF_TWO_FACTOR = True
    _, secret = enrolled_staff("editor", EVIDENCE_EDITORS)
    browser = DjangoBrowser()
    stale = webclient.totp_code(secret, time.time() - 600)
    fields = webclient.parse_form(browser.get("/admin/login/").text, "login-form")
    fields = webclient.set_field(fields, "username", "editor")
    fields = webclient.set_field(fields, "password", "synthetic-password")
    fields = webclient.set_field(fields, "otp_token", stale)
    assert browser.post_form("/admin/login/", fields, referer="/admin/login/").status == 200
    assert browser.get("/admin/").status == 302  # still the login page's redirect


# The vendor-saving client, against the real admin


def test_the_vendor_client_re_saves_its_own_offer_with_a_real_change_each_time(catalogue, settings):
    settings.STAFF_TWO_FACTOR = True
    offer = Offer.objects.get(pk=catalogue["plan"]["offers"][0]["id"])
    user, secret = enrolled_staff("synthetic-vendor-account", VENDOR_ACCOUNTS)
    VendorAccount.objects.create(user=user, vendor=offer.vendor)
    saver = hostile.VendorSaver(0, offer.pk, 5, (user.username, "synthetic-password", secret))
    saver.client = DjangoBrowser()
    saver.rec = loadtest.Recorder()
    webclient.admin_login(saver.client, user.username, "synthetic-password", secret, saver.rec.call)
    stocked = offer.in_stock
    saver.save_once()
    offer.refresh_from_db()
    assert offer.in_stock is not stocked
    saver.save_once()
    offer.refresh_from_db()
    assert offer.in_stock is stocked
    assert saver.saves == {"made": 2, "failed": 0}
    assert Offer.history.filter(history_user=user, history_type="~").count() == 2


# The junk-parameter client


def test_junk_urls_are_all_new_and_use_no_parameter_a_page_reads():
    plan = {
        "pairs": [["synthetic-a", "goal-x"], ["synthetic-b", "goal-y"]],
        "goals": [{"slug": f"goal-{n}", "rated": 1} for n in "xyz"],
    }
    urls = hostile.JunkUrls(plan, random.Random(3), evidence_pages=2, builders=2)
    drawn = [urls.next() for _ in range(500)]
    assert len({url for url, _ in drawn}) == 500
    assert {base for _, base in drawn} == {urls.base_url(b) for b in urls.bases}
    for url, base in drawn:
        query = dict(pair.split("=") for pair in url.partition("?")[2].split("&"))
        real = {pair.split("=")[0] for pair in base.partition("?")[2].split("&") if pair}
        assert set(query) - real, url  # some junk in every URL
        assert not (set(query) - real) & hostile.KNOWN_PARAMS, url


def test_junk_urls_all_normalise_to_one_cache_entry_per_page(catalogue, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "test-loadtest-junk",
        }
    }
    local = caches["default"]
    local.clear()
    urls = hostile.JunkUrls(catalogue["plan"], random.Random(5), evidence_pages=2, builders=1)
    client = Client()
    sent = set()
    for _ in range(80):
        url, base = urls.next()
        sent.add(url)
        assert client.get(url).status_code == 200, url
    keys = set(local._cache)
    pages = redisserver.page_keys_by_version(keys)
    assert len(sent) == 80
    assert len(urls.bases) == 3
    assert sum(pages.values()) == len(urls.bases)  # one entry a page, 80 URLs notwithstanding
    local.clear()


def test_page_keys_are_counted_per_content_version():
    keys = {
        ":1:page:rel:11:aa",
        ":1:page:rel:11:bb",
        ":1:json:rel:12:aa",
        ":1:fragment:rel:12:cc",
        ":1:retired-by:4",
        ":1:healthz:abcd",
        ":1:click:offer:1:ff",
    }
    assert redisserver.page_keys_by_version(keys) == {"11": 2, "12": 2}


def test_the_junk_client_uses_the_apps_own_limits():
    # bench/hostile.py runs outside Django, so it restates two limits; they must not drift.
    from stacks import ranking

    assert (hostile.MAX_GOALS, hostile.MAX_LIMIT) == (ranking.MAX_GOALS, ranking.MAX_LIMIT)
