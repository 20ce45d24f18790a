"""`make loadtest`: the site under mixed load on loopback, with nothing lost; one table.

    .venv/bin/python bench/loadtest.py            # 45 + 45 + 20 s of load, in three phases
    .venv/bin/python bench/loadtest.py --quick    # 10 + 10 + 8 s: a smoke run

What it does:

1. Data. A dedicated PostgreSQL database (LOADTEST_DB, default loadtest; its name must start
   with "loadtest", since it is dropped; on 127.0.0.1:5432, user postgres, trust auth;
   LOADTEST_PG or BENCH_PG overrides the server) is dropped and created fresh, migrated, and
   filled with the demo data (`manage.py load_demo`) and the small synthetic preset
   (`bench/synthetic.py --preset small`). A staff user in the "Evidence editors"
   group (not a superuser) and a vendor account ("Vendor accounts", linked to the vendor of
   one of the offers the click loops follow) are created through `manage.py shell -c`, each
   with a random password the script keeps for the run, and enrolled for two-factor login
   with `manage.py enrol_two_factor` (production settings require a TOTP code from staff):
   the script keeps the secret from the printed otpauth URI and computes the codes with
   django-otp's own TOTP (django_otp.oath), as an authenticator app would.
2. The servers: its own redis-server on a free loopback port (bench/redisserver.py:
   LOADTEST_REDIS_MB, 256, with allkeys-lru as README's Deploy section says; no
   persistence), `collectstatic`, then gunicorn with REDIS_URL pointing at that Redis, the
   production config (config/gunicorn.py:
   access log, worker recycling after max_requests, 30 s worker timeout) and production
   settings (DJANGO_DEBUG=false, DJANGO_BEHIND_TLS_PROXY=true; every request carries
   X-Forwarded-Proto: https as the TLS proxy would add), LOADTEST_WORKERS sync workers (2) on a
   free port of 127.0.0.1. Shared with `make bench` through bench/common.py.
3. The load, in phases. In every phase, all at once:
   * LOADTEST_VISITORS visitors (24), each a loop of page views without pause, mixing every
     public page type with parameters drawn from the data: the builder with 1-3 goals and
     constraints, goal pages, compound index and searches that match, compound pages,
     evidence pages, vendors, methodology, the htmx fragments of the builder, goal page and
     search (HX-Request: true), and the API (goals, ranking, stack, compound).
   * LOADTEST_CLICKERS click loops (4) on /go/<id>/ over LOADTEST_OFFERS visible offers (8).
     A click counts as sent when it got its 302; the redirect, which leaves the machine, is
     never followed. Each click has a user agent of its own, as if from another visitor: the
     site counts one visitor's repeat clicks on an offer once (evidence/clicks.py).
   * One editor session: it logs in through the admin's login form (CSRF token from the page,
     django-axes in front, the password and a TOTP code it computes), then cycles through
     real admin change forms, each fetched, parsed (every control, inline management forms
     included), changed in one place and posted as a
     browser would: the demo rating's tier moved to another tier; a finding added to a demo
     study through the study's findings inline; that finding edited on its own change page;
     the finding deleted through the inline again. After each save it reads the public side
     back: the ranking API must show the new tier, the evidence page must show (or no longer
     show) the finding. The editor finishes its current cycle after the deadline, and keeps
     its session from phase to phase.

   The phases, on the same server:
   * baseline, LOADTEST_DURATION seconds (45; --quick 10): the clients above only;
   * hostile, as long: the same clients, and beside them LOADTEST_JUNK_CLIENTS
     junk-parameter clients (2) and one vendor re-saving its own offer through the admin in
     a loop, a real change each time (bench/hostile.py);
     the two alternate in LOADTEST_SLICES slices each (3; --quick 1: baseline 1, hostile 1,
     baseline 2...), so the machine's other work falls on both alike; each slice's visitors
     draw requests of their own from fixed seeds;
   * a junk probe with nothing else running: 300 junk URLs, every one new, over the junk
     clients' 9 pages; the cache entries they add are counted per content version;
   * Redis stopped (the harness stops its own redis-server): the junk probe again, 40 URLs
     (every one rendered now), then LOADTEST_OUTAGE_DURATION seconds (20; --quick 8) of the
     normal clients; then Redis is started again.
   /healthz is asked every 2 s during each phase, and once more after Redis is back. Last, a
   second gunicorn whose DATABASE_URL names a closed loopback port (PostgreSQL unreachable;
   the machine's own server is never touched) is asked for /healthz.
4. The checks, from the database and a fresh computation after the load:
   * no 5xx, no other unexpected status (visitors expect 200, clicks 302), no timeouts or
     connection errors; the gunicorn log holds no traceback and no worker timeout;
   * clicks: per offer, the 302s received equal the increase of its clicks (the sum of its
     OfferClicks rows, evidence_offerclicks);
   * every editor save succeeded, each read-back saw its edit, and the change history holds
     one row per save (the audit trail lost nothing either);
   * rankings reflect the edits: the ranking API shows the demo compound with the tier the
     editor set last and the score `stacks.refresh.score_rows` computes fresh, and the whole
     precomputed GoalScore table equals that fresh computation;
   * the hostile clients (loadreport.hardening_checks): normal visitors' p95 beside them at
     most 2x the baseline's; the junk probe's entries per content version at most one per
     page; Redis' peak used_memory within its maxmemory; the hostile phase's cache
     retirements (new content versions among the keys) at most the editor's saves plus the
     vendor's one a minute; every vendor save made, with its history row; the vendor's offer
     lost no click;
   * outages: with Redis stopped every visitor request answered 200 and /healthz 200 with
     {"database": "ok", "cache": "degraded"}; with Redis running and again after its
     restart, "cache": "ok"; with PostgreSQL unreachable /healthz 503, "database":
     "unavailable".

Why a thread pool of http.client rather than locust: locust's gevent monkey-patches the whole
process, while the editor's flow (parse the admin page, post the form, read back) is easiest
as plain sequential code, and its CSV stats give percentiles from a rounded histogram;
here every request's latency is recorded exactly (connect to last byte of the body) and the
percentiles are computed from all of them. No new dependency. One Python process drives the
load: with the server as the bottleneck the client threads mostly wait on sockets (the CPU
table shows the harness's share), but its own scheduling delay is part of the measured times.

Latency under this load is mostly queueing: the visitors never pause, so the two workers are
saturated and each request waits its turn in the listen backlog; p99 says how long the worst
waits get, not how fast one page renders (that is `make bench`'s job).

Before the load starts, the harness waits (up to LOADTEST_QUIET_WAIT s, 60) for other
processes to go quiet, as `make bench` does, and the report shows their share of the CPU
during the load: on a shared machine the latencies are the machine's, not the app's alone.

Environment: LOADTEST_DURATION (seconds of the baseline and of the hostile phase, 45; 10 with
--quick), LOADTEST_OUTAGE_DURATION (20; 8), LOADTEST_JUNK_CLIENTS (2), LOADTEST_REDIS_MB
(256), LOADTEST_SLICES (3; 1 with --quick), LOADTEST_VISITORS (24),
LOADTEST_CLICKERS (4), LOADTEST_OFFERS (8), LOADTEST_WORKERS (2), LOADTEST_TIMEOUT (the
client's per-request timeout, 60 s), LOADTEST_SEED (1: the same mix of requests each run),
LOADTEST_QUIET_WAIT (60), LOADTEST_DB (loadtest), LOADTEST_PG or BENCH_PG
(postgres://postgres@127.0.0.1:5432).

Output: the table on stdout, the same as JSON in bench-results/loadtest-<UTC time>.json,
gunicorn's log in bench-results/gunicorn-<db>.log, Redis' in bench-results/redis-loadtest.log.
Exit status 0 only when every check passes; 1 when one fails; 2 when the harness itself could
not run; 130 on Ctrl-C. gunicorn, redis-server and the load threads are stopped on every path.
`python bench/loadreport.py <json>` renders a saved run again.
"""

import argparse
import http.client
import itertools
import json
import os
import platform
import random
import re
import secrets
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import loadreport
import psycopg
from common import (
    PROXY_HEADERS,
    RESULTS_DIR,
    ROOT,
    BenchError,
    Server,
    app_env,
    env_int,
    fetch,
    free_port,
    manage,
    say,
    stop_on_signals,
)
from hostile import JunkUrls, VendorSaver, junk_client, new_sent
from psycopg import sql
from redisserver import RedisServer, page_keys_by_version
from webclient import (
    Client,
    Response,
    add_inline_row,
    admin_login,
    error_text,
    get_field,
    inline_row_with,
    parse_form,
    set_field,
    totp_secret,
    without_template_rows,
)

EDITOR_USERNAME = "loadtest-editor"
VENDOR_USERNAME = "loadtest-vendor"
EDITORS_GROUP = "Evidence editors"  # evidence/roles.py
# Production's worker timeout (config/gunicorn.py): a request the app cannot answer in time
# is killed and shows up as an error, as it would in production.
WORKER_TIMEOUT = 30
# The conditions the builder offers (stacks/forms.py VISITOR_CONDITIONS); the API takes them too.
CONDITIONS = ["pregnancy", "breastfeeding", "autoimmune_disease", "immunosuppressive_therapy"]
CURRENCY = "USD"
LOG_PROBLEMS = re.compile(r"Traceback|WORKER TIMEOUT| ERROR | CRITICAL |\[CRITICAL\]|\[ERROR\]")
ACCESS_STATUS = re.compile(r'" (\d{3}) ')
# A tier named in a rating's text; the admin refuses a bottom line naming another tier
# (evidence.models.TIER_NAMED, the same spellings; this client runs outside Django).
TIER_NAMED = re.compile(r"\btier[\s\-\u00a0]*(\d+)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Settings:
    duration: int
    visitors: int
    clickers: int
    offers: int
    workers: int
    timeout: int
    seed: int
    quick: bool
    pg: str
    database: str
    quiet_wait: int  # seconds to wait for other processes to go quiet before the load
    outage: int  # seconds of the phase with Redis stopped
    junk_clients: int
    redis_mb: int  # the test's Redis: maxmemory in MB
    slices: int  # the baseline and the hostile phase alternate in this many slices each

    @classmethod
    def from_env(cls, quick: bool) -> "Settings":
        database = os.environ.get("LOADTEST_DB", "loadtest")
        # Dropped on every run: only names of our own, never a bench_* or real database.
        if not re.fullmatch(r"loadtest[a-z0-9_]*", database):
            raise BenchError(
                f"LOADTEST_DB must start with 'loadtest' (it is dropped), not {database!r}"
            )
        pg = os.environ.get("LOADTEST_PG") or os.environ.get("BENCH_PG")
        return cls(
            duration=env_int("LOADTEST_DURATION", 10 if quick else 45),
            visitors=env_int("LOADTEST_VISITORS", 24),
            clickers=env_int("LOADTEST_CLICKERS", 4),
            offers=env_int("LOADTEST_OFFERS", 8),
            workers=env_int("LOADTEST_WORKERS", 2),
            timeout=env_int("LOADTEST_TIMEOUT", 60),
            seed=env_int("LOADTEST_SEED", 1, minimum=0),
            quick=quick,
            pg=(pg or "postgres://postgres@127.0.0.1:5432").rstrip("/"),
            database=database,
            quiet_wait=env_int("LOADTEST_QUIET_WAIT", 60, minimum=0),
            outage=env_int("LOADTEST_OUTAGE_DURATION", 8 if quick else 20),
            junk_clients=env_int("LOADTEST_JUNK_CLIENTS", 2),
            redis_mb=env_int("LOADTEST_REDIS_MB", 256, minimum=8),
            slices=env_int("LOADTEST_SLICES", 1 if quick else 3),
        )

    @property
    def url(self) -> str:
        return f"{self.pg}/{self.database}"

    def public(self) -> dict:
        return {
            "duration": self.duration,
            "visitors": self.visitors,
            "clickers": self.clickers,
            "offers": self.offers,
            "workers": self.workers,
            "worker_class": "sync",
            "worker_timeout": WORKER_TIMEOUT,
            "client_timeout": self.timeout,
            "seed": self.seed,
            "quick": self.quick,
            "database": self.database,
            "quiet_wait": self.quiet_wait,
            "outage": self.outage,
            "junk_clients": self.junk_clients,
            "redis_mb": self.redis_mb,
            "slices": self.slices,
        }


# --- data ----------------------------------------------------------------------------------

CREATE_EDITOR = """
import os
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
user = get_user_model().objects.create_user(
    os.environ["LOADTEST_EDITOR_USERNAME"],
    password=os.environ["LOADTEST_EDITOR_PASSWORD"],
    is_staff=True,
)
user.groups.add(Group.objects.get(name=os.environ["LOADTEST_EDITORS_GROUP"]))
"""


CREATE_VENDOR = """
import json, os
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from evidence.models import Offer, VendorAccount
from evidence.roles import VENDOR_ACCOUNTS
# The first of the clicked offers the admin's form would save as it stands (its address on
# the vendor's own host, its amounts plausible): the vendor account re-saves it in a loop.
for offer_id in json.loads(os.environ["LT_OFFERS"]):
    offer = Offer.objects.select_related("vendor").get(pk=offer_id)
    try:
        offer.full_clean()
    except ValidationError:
        continue
    break
else:
    raise SystemExit("no clicked offer passes the admin form's validation")
user = get_user_model().objects.create_user(
    os.environ["LT_USERNAME"], password=os.environ["LT_PASSWORD"], is_staff=True
)
user.groups.add(Group.objects.get(name=VENDOR_ACCOUNTS))
VendorAccount.objects.create(user=user, vendor=offer.vendor)
print("LOADTEST_JSON " + json.dumps({"offer_id": offer.pk, "vendor": offer.vendor.slug}))
"""


def create_vendor_account(settings: Settings, plan: dict, password: str) -> dict:
    """A vendor account (staff, "Vendor accounts", linked to its vendor) for the vendor of
    one of the offers the click loops follow; returns that offer's id and the vendor."""
    offers = json.dumps([offer["id"] for offer in plan["offers"]])
    env = {"LT_OFFERS": offers, "LT_USERNAME": VENDOR_USERNAME, "LT_PASSWORD": password}
    return json_line(django_shell(CREATE_VENDOR, settings.url, env))


def django_shell(code: str, database_url: str, extra_env: dict[str, str] | None = None) -> str:
    """Run Python inside the app (`manage.py shell -c`); returns its stdout."""
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT,
        env={**app_env(database_url), **(extra_env or {})},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BenchError(f"manage.py shell failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def json_line(output: str, marker: str = "LOADTEST_JSON ") -> dict:
    """The one line of JSON a shell script printed (the app also logs to stdout)."""
    line = next((ln for ln in output.splitlines() if ln.startswith(marker)), None)
    if line is None:
        raise BenchError(f"no {marker.strip()} line in the output:\n{output[-2000:]}")
    return json.loads(line.removeprefix(marker))


def prepare_database(settings: Settings, password: str) -> dict:
    """Drop and create the database, migrate, load the demo and small synthetic data, and
    create the editor."""
    started = time.monotonic()
    say(f"== {settings.database}: fresh database (drop, create, migrate)")
    with psycopg.connect(f"{settings.pg}/postgres", autocommit=True) as conn:
        name = sql.Identifier(settings.database)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
    manage("migrate", "--no-input", "-v0", database_url=settings.url)
    say("== demo data and the small synthetic preset")
    manage("load_demo", database_url=settings.url)
    done = subprocess.run(
        [sys.executable, "bench/synthetic.py", "--preset=small"],
        cwd=ROOT,
        env=app_env(settings.url),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # progress bars
        text=True,
        check=True,
    )
    say(done.stdout.rstrip())
    say(f"== editor {EDITOR_USERNAME} ({EDITORS_GROUP}, staff, not superuser)")
    django_shell(
        CREATE_EDITOR,
        settings.url,
        {
            "LOADTEST_EDITOR_USERNAME": EDITOR_USERNAME,
            "LOADTEST_EDITOR_PASSWORD": password,
            "LOADTEST_EDITORS_GROUP": EDITORS_GROUP,
        },
    )
    with psycopg.connect(settings.url) as conn:
        sizes = {
            table: conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(f"evidence_{table}"))
            ).fetchone()[0]
            for table in ("compound", "goal", "rating", "study", "finding", "vendor", "offer")
        }
    return {
        "database": settings.database,
        "sizes": sizes,
        "setup_seconds": round(time.monotonic() - started, 1),
    }


def enrol_two_factor(settings: Settings, username: str) -> str:
    """Enrol the staff user's authenticator (`manage.py enrol_two_factor`); returns the TOTP
    secret from the otpauth URI it prints."""
    done = subprocess.run(
        [sys.executable, "manage.py", "enrol_two_factor", username],
        cwd=ROOT,
        env=app_env(settings.url),
        capture_output=True,
        text=True,
    )
    uri = next((ln for ln in done.stdout.splitlines() if ln.startswith("otpauth://")), None)
    if done.returncode != 0 or uri is None:
        raise BenchError(f"enrol_two_factor {username} failed:\n{done.stderr[-2000:]}")
    try:
        return totp_secret(uri)
    except ValueError as exc:
        raise BenchError(f"enrol_two_factor {username}: {exc}") from exc


def plan_from_data(url: str, settings: Settings) -> dict:
    """Everything the load draws from: slugs, search terms, offers, the editor's targets."""
    rng = random.Random(settings.seed)
    with psycopg.connect(url) as conn:

        def rows(query: str, params=()):
            return conn.execute(query, params).fetchall()

        goals = rows(
            """
            SELECT g.slug, count(c.id) AS rated
            FROM evidence_goal g
            LEFT JOIN evidence_rating r ON r.goal_id = g.id
            LEFT JOIN evidence_compound c ON c.id = r.compound_id AND c.published
            GROUP BY g.id ORDER BY rated DESC, g.slug
            """
        )
        compounds = rows("SELECT slug FROM evidence_compound WHERE published ORDER BY slug")
        pairs = rows(
            """
            SELECT DISTINCT c.slug, g.slug FROM (
                SELECT compound_id, goal_id FROM evidence_rating
                UNION SELECT compound_id, goal_id FROM evidence_finding
            ) p
            JOIN evidence_compound c ON c.id = p.compound_id AND c.published
            JOIN evidence_goal g ON g.id = p.goal_id
            ORDER BY 1, 2
            """
        )
        names = [n for (n,) in rows("SELECT name FROM evidence_compound WHERE published")]
        aliases = rows(
            """
            SELECT a.name FROM evidence_compoundalias a
            JOIN evidence_compound c ON c.id = a.compound_id AND c.published ORDER BY a.name
            """
        )
        kinds = rows("SELECT DISTINCT kind FROM evidence_compound WHERE published ORDER BY 1")
        tiers = rows("SELECT id, number, label, means_no_effect FROM evidence_tier ORDER BY number")
        vendors = rows("SELECT slug FROM evidence_vendor WHERE active ORDER BY slug")
        offers = rows(
            """
            SELECT o.id, o.url FROM evidence_offer o
            JOIN evidence_vendor v ON v.id = o.vendor_id AND v.active
            JOIN evidence_compound c ON c.id = o.compound_id AND c.published
            ORDER BY o.id
            """
        )
        # The editor works on the demo data: its one rating, and a study with findings for it.
        target = conn.execute(
            """
            SELECT r.id, c.id, c.slug, c.name, g.id, g.slug, t.number
            FROM evidence_rating r
            JOIN evidence_compound c ON c.id = r.compound_id AND c.published
            JOIN evidence_goal g ON g.id = r.goal_id
            JOIN evidence_tier t ON t.id = r.tier_id
            WHERE c.slug NOT LIKE 'synthetic-%%'
            ORDER BY r.id LIMIT 1
            """
        ).fetchone()
        if target is None:
            raise BenchError("no rating of a published demo compound: did load_demo run?")
        study = conn.execute(
            """
            SELECT s.id, s.slug FROM evidence_study s
            WHERE EXISTS (SELECT 1 FROM evidence_finding f WHERE f.study_id = s.id
                          AND f.compound_id = %s AND f.goal_id = %s)
            ORDER BY s.id LIMIT 1
            """,
            [target[1], target[4]],
        ).fetchone()
        if study is None:
            raise BenchError("no demo study with findings for the demo rating")
    if len(offers) < settings.offers:
        raise BenchError(f"only {len(offers)} visible offers, LOADTEST_OFFERS={settings.offers}")
    # Search terms that match: names cut short (a prefix of "Synthetic compound 00421" matches
    # ten or so), first words ("Thymosin"), and aliases, which search also covers.
    terms = set()
    for name in names:
        terms.add(name.split()[0].lower())
        if name[-1].isdigit():
            terms.add(name[:-2])
    terms |= {name for (name,) in aliases[:40]}
    chosen_offers = sorted(rng.sample(offers, settings.offers))
    tier_rows = [
        {"id": i, "number": n, "label": label, "means_no_effect": no} for i, n, label, no in tiers
    ]
    return {
        "goals": [{"slug": s, "rated": r} for s, r in goals],
        "compounds": [s for (s,) in compounds],
        "pairs": [[c, g] for c, g in pairs],
        "search_terms": sorted(terms),
        "kinds": [k for (k,) in kinds],
        "min_tiers": [t["number"] for t in tier_rows if not t["means_no_effect"]],
        "vendors": [s for (s,) in vendors],
        "offers": [{"id": i, "url": u} for i, u in chosen_offers],
        "tiers": tier_rows,
        "editor": {
            "rating_id": target[0],
            "compound_id": target[1],
            "compound_slug": target[2],
            "compound_name": target[3],
            "goal_id": target[4],
            "goal_slug": target[5],
            "initial_tier": target[6],
            "study_id": study[0],
            "study_slug": study[1],
        },
    }


def click_counts(url: str, offer_ids: list[int]) -> dict[int, int]:
    """Each offer's clicks over all days (OfferClicks: one row per offer and day)."""
    with psycopg.connect(url) as conn:
        found = conn.execute(
            "SELECT o.id, COALESCE(SUM(c.count), 0) FROM evidence_offer o"
            " LEFT JOIN evidence_offerclicks c ON c.offer_id = o.id"
            " WHERE o.id = ANY(%s) GROUP BY o.id",
            [offer_ids],
        ).fetchall()
    return {offer_id: int(total) for offer_id, total in found}


# --- what visitors ask for -----------------------------------------------------------------

# Endpoint types and how often a visitor asks for each (relative weights).
MIX = {
    "builder": 10,
    "builder (htmx)": 8,
    "goal page": 10,
    "goal page (htmx)": 6,
    "compound index": 3,
    "search": 6,
    "search (htmx)": 6,
    "compound page": 10,
    "evidence page": 10,
    "vendor index": 3,
    "vendor page": 4,
    "methodology": 3,
    "API goals": 2,
    "API ranking": 8,
    "API stack": 6,
    "API compound": 5,
}
HTMX_HEADERS = {"HX-Request": "true", "HX-Target": "results"}


class Mix:
    """Draws the next request of a visitor: (endpoint type, path, extra headers)."""

    def __init__(self, plan: dict, rng: random.Random):
        self.plan = plan
        self.rng = rng
        self.kinds = list(MIX)
        self.weights = list(MIX.values())
        # Popular goals are asked for more often, as the synthetic data's skew intends.
        self.goal_slugs = [g["slug"] for g in plan["goals"]]
        self.goal_weights = [1 + g["rated"] for g in plan["goals"]]

    def goals(self, most: int = 3) -> list[str]:
        count = self.rng.randint(1, min(most, len(self.goal_slugs)))
        chosen: list[str] = []
        while len(chosen) < count:
            slug = self.rng.choices(self.goal_slugs, self.goal_weights)[0]
            if slug not in chosen:
                chosen.append(slug)
        return chosen

    def constraints(self, api: bool) -> list[tuple[str, str]]:
        """None, or one to three of the constraints, as the form or the API spells them."""
        yes = "true" if api else "on"
        options = [
            lambda: [("condition", self.rng.choice(CONDITIONS))],
            lambda: [("no_injections", yes)],
            lambda: [("exclude_kind", self.rng.choice(self.plan["kinds"]))],
            lambda: [("min_tier", str(self.rng.choice(self.plan["min_tiers"])))],
            lambda: [("in_stock", yes)],
            lambda: [("budget", str(self.rng.choice([20, 50, 100, 250]))), ("currency", CURRENCY)],
        ]
        if self.rng.random() < 0.4:
            return []
        params = []
        for option in self.rng.sample(options, self.rng.randint(1, 3)):
            params += option()
        return params

    def next(self) -> tuple[str, str, dict[str, str]]:
        kind = self.rng.choices(self.kinds, self.weights)[0]
        path, htmx = self.path(kind)
        return kind, path, HTMX_HEADERS if htmx else {}

    def path(self, kind: str) -> tuple[str, bool]:
        rng, plan = self.rng, self.plan
        htmx = kind.endswith("(htmx)")
        base = kind.removesuffix(" (htmx)")
        if base == "builder":
            if not htmx and rng.random() < 0.2:
                return "/", False  # the landing page, nothing chosen yet
            params = [("goals", g) for g in self.goals()] + self.constraints(api=False)
            return "/?" + urlencode(params), htmx
        if base == "goal page":
            slug = rng.choices(self.goal_slugs, self.goal_weights)[0]
            query = urlencode(self.constraints(api=False))
            return f"/goals/{slug}/" + (f"?{query}" if query else ""), htmx
        if base == "compound index":
            return "/compounds/", False
        if base == "search":
            return "/compounds/?" + urlencode({"q": rng.choice(plan["search_terms"])}), htmx
        if base == "compound page":
            return f"/compounds/{rng.choice(plan['compounds'])}/", False
        if base == "evidence page":
            compound, goal = rng.choice(plan["pairs"])
            return f"/compounds/{compound}/evidence/{goal}/", False
        if base == "vendor index":
            return "/vendors/", False
        if base == "vendor page":
            return f"/vendors/{rng.choice(plan['vendors'])}/", False
        if base == "methodology":
            return "/methodology/", False
        if base == "API goals":
            return "/api/goals/", False
        if base == "API ranking":
            slug = rng.choices(self.goal_slugs, self.goal_weights)[0]
            query = urlencode(self.constraints(api=True))
            return f"/api/goals/{slug}/ranking/" + (f"?{query}" if query else ""), False
        if base == "API stack":
            goals = self.goals()
            params = [("goals", g) for g in goals] + self.constraints(api=True)
            if len(goals) > 1 and rng.random() < 0.5:
                params.append(("priority", f"{goals[0]}:2"))
            return "/api/stack/?" + urlencode(params), False
        if base == "API compound":
            return f"/api/compounds/{rng.choice(plan['compounds'])}/", False
        raise ValueError(kind)


# --- recording -----------------------------------------------------------------------------


@dataclass
class Recorder:
    """One thread's requests as (endpoint type, status or None when no answer came,
    milliseconds, error, the status expected), and the first few surprises in full. Each
    thread has its own: no lock on the hot path."""

    samples: list[tuple[str, int | None, float, str | None, int]] = field(default_factory=list)
    surprises: list[dict] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def call(
        self,
        kind: str,
        send,
        path: str,
        expect: int,
    ) -> Response | None:
        """Send (a callable doing the request), record it; None when no answer came."""
        try:
            response = send()
        except (OSError, http.client.HTTPException) as exc:  # timeouts, resets, bad answers
            error = type(exc).__name__
            self.samples.append((kind, None, 0.0, error, expect))
            self.surprise(kind, path, None, f"{error}: {exc}")
            return None
        self.samples.append((kind, response.status, response.seconds * 1000, None, expect))
        if response.status != expect:
            self.surprise(kind, path, response.status, response.text[:300])
        return response

    def surprise(self, kind: str, path: str, status: int | None, detail: str) -> None:
        if len(self.surprises) < 20:
            self.surprises.append(
                {
                    "kind": kind,
                    "path": path,
                    "status": status,
                    "at_second": round(time.monotonic() - self.started, 1),
                    "detail": detail,
                }
            )


def visitor(
    port: int, plan: dict, settings: Settings, index: int, stop, rec: Recorder, stream: str = ""
) -> None:
    """Page views without pause; `stream` names the slice, so each slice draws requests of
    its own (the same ones every run)."""
    mix = Mix(plan, random.Random(f"{settings.seed}:{stream}:{index}"))
    client = Client(port, settings.timeout, {**PROXY_HEADERS, "User-Agent": "loadtest-visitor"})
    while not stop.is_set():
        kind, path, headers = mix.next()
        rec.call(kind, lambda p=path, h=headers: client.get(p, h), path, expect=200)


def clicker(
    port: int,
    plan: dict,
    settings: Settings,
    index: int,
    stop,
    rec: Recorder,
    sent: Counter,
    phase: str = "",
) -> None:
    """Clicks outbound links; `sent[offer_id]` counts the clicks answered with their 302.

    Each click loop has its own counter (`+=` on a shared dict could lose an update between
    threads); run_load adds them up at the end.
    """
    rng = random.Random(settings.seed * 1000 + 500 + index)
    client = Client(port, settings.timeout, PROXY_HEADERS)
    for n in itertools.count():
        if stop.is_set():
            break
        offer = rng.choice(plan["offers"])
        path = f"/go/{offer['id']}/"
        # Each click from a visitor of its own: the site counts one visitor's repeats once.
        agent = {"User-Agent": f"loadtest-clicker {phase}.{index}.{n}"}
        response = rec.call(
            "outbound click", lambda p=path, h=agent: client.get(p, h), path, expect=302
        )
        if response is None:
            sent["unanswered"] += 1
        elif response.status == 302:
            sent[offer["id"]] += 1
            if response.location != offer["url"]:
                rec.surprise("outbound click", path, 302, f"redirected to {response.location}")
                sent["wrong_location"] += 1


# --- the editor ----------------------------------------------------------------------------


class EditorFailed(Exception):
    """One admin step went wrong; the message says how."""


class Editor:
    """One staff session saving evidence through the admin's own forms, as a person would."""

    def __init__(
        self, port: int, plan: dict, settings: Settings, login: tuple[str, str], rec: Recorder
    ):
        self.client = Client(
            port, settings.timeout, {**PROXY_HEADERS, "User-Agent": "loadtest-editor"}
        )
        self.plan = plan
        self.target = plan["editor"]
        self.password, self.totp_secret = login
        self.rec = rec
        self.saves: dict[str, dict[str, int]] = defaultdict(lambda: {"made": 0, "failed": 0})
        self.failures: list[str] = []
        self.readbacks = {"checked": 0, "stale": 0, "details": []}
        self.last_tier: int | None = None
        self.last_tier_score: float | None = None
        self.cycles = 0
        self.logged_in = False
        # Tiers to cycle through, never the starting one: the last edit always shows.
        self.tiers = [t for t in plan["tiers"] if t["number"] != self.target["initial_tier"]]

    # The HTTP steps, each recorded like any other request.

    def get(self, kind: str, path: str, expect: int = 200) -> Response:
        response = self.rec.call(kind, lambda: self.client.get(path), path, expect)
        if response is None or response.status != expect:
            status = None if response is None else response.status
            raise EditorFailed(f"GET {path} answered {status}, not {expect}")
        return response

    def form(self, path: str, form_id: str) -> list[tuple[str, str]]:
        return parse_form(self.get("admin page (GET)", path).text, form_id)

    def save(self, what: str, path: str, fields: list[tuple[str, str]], button="_save") -> None:
        fields = [*fields, (button, "Save")]
        response = self.rec.call(
            "admin form (POST)",
            lambda: self.client.post_form(path, fields, referer=path),
            path,
            expect=302,
        )
        if response is not None and response.status == 302:
            self.saves[what]["made"] += 1
            return
        self.saves[what]["failed"] += 1
        if response is None:
            detail = "no answer"
        elif response.status == 200:
            detail = f"form refused: {error_text(response.text)}"
        else:
            detail = f"answered {response.status}"
        raise EditorFailed(f"{what}: POST {path}: {detail}")

    def login(self) -> None:
        """Through the admin's two-factor login form, once (a session lasts every phase)."""
        if self.logged_in:
            return
        try:
            admin_login(
                self.client, EDITOR_USERNAME, self.password, self.totp_secret, self.rec.call
            )
        except ValueError as exc:
            raise EditorFailed(str(exc)) from exc
        self.logged_in = True

    # The edits.

    def change_tier(self, _outcome: str) -> None:
        """Move the demo rating to the next tier (the outcome is the finding steps')."""
        tier = self.tiers[self.cycles % len(self.tiers)]
        path = f"/admin/evidence/rating/{self.target['rating_id']}/change/"
        fields = set_field(self.form(path, "rating_form"), "tier", str(tier["id"]))
        # As an editor must: a public reason, and a bottom line naming no other tier.
        fields = set_field(fields, "public_reason", "Load test: a synthetic tier change.")
        bottom_line = TIER_NAMED.sub(f"Tier {tier['number']}", get_field(fields, "bottom_line"))
        fields = set_field(fields, "bottom_line", bottom_line)
        self.save("rating tier", path, fields)
        self.last_tier = tier["number"]
        entry = self.ranking_entry()
        shown = entry["tier"] if entry else None
        self.readback(shown == tier["number"], f"ranking API shows tier {shown}, set {tier}")
        self.last_tier_score = entry["score"] if entry else None

    def add_finding(self, outcome: str) -> None:
        path = f"/admin/evidence/study/{self.target['study_id']}/change/"
        fields, _ = add_inline_row(
            self.form(path, "study_form"),
            "findings",
            {
                "compound": str(self.target["compound_id"]),
                "goal": str(self.target["goal_id"]),
                "outcome": outcome,
                "comparator": "placebo",
                "measure": "mean_difference",
                "value": "1.5",
                "ci_low": "0.5",
                "ci_high": "2.5",
                "p_value": "0.01",
            },
        )
        self.save("finding added (inline)", path, fields)
        self.readback(self.evidence_page_shows(outcome), f"evidence page lacks new {outcome!r}")

    def edit_finding(self, outcome: str) -> None:
        study = f"/admin/evidence/study/{self.target['study_id']}/change/"
        fields = self.form(study, "study_form")
        index = inline_row_with(fields, "findings", "outcome", outcome)
        finding_id = get_field(fields, f"findings-{index}-id") if index is not None else None
        if not finding_id:
            raise EditorFailed(f"the study's inline has no finding {outcome!r}")
        path = f"/admin/evidence/finding/{finding_id}/change/"
        # The desirable direction turned round ("a rise is the desirable direction": Yes to
        # No, or back), so the same result now favours the other arm: a real change, which
        # writes a history row (a save that changes nothing writes none).
        fields = self.form(path, "finding_form")
        flipped = "false" if get_field(fields, "higher_is_better") == "true" else "true"
        fields = set_field(fields, "higher_is_better", flipped)
        self.save("finding edited", path, fields)

    def delete_finding(self, outcome: str) -> None:
        path = f"/admin/evidence/study/{self.target['study_id']}/change/"
        fields = without_template_rows(self.form(path, "study_form"))
        index = inline_row_with(fields, "findings", "outcome", outcome)
        if index is None:
            raise EditorFailed(f"the study's inline has no finding {outcome!r} to delete")
        fields = set_field(fields, f"findings-{index}-DELETE", "on")
        self.save("finding deleted (inline)", path, fields)
        self.readback(
            not self.evidence_page_shows(outcome), f"evidence page still shows {outcome!r}"
        )

    # Reading the public side back.

    def ranking_entry(self) -> dict | None:
        path = f"/api/goals/{self.target['goal_slug']}/ranking/?limit=200"
        data = json.loads(self.get("API ranking", path).body)
        for entry in data["ranked"] + data["no_effect"]:
            if entry["slug"] == self.target["compound_slug"]:
                return entry
        return None

    def evidence_page_shows(self, text: str) -> bool:
        path = f"/compounds/{self.target['compound_slug']}/evidence/{self.target['goal_slug']}/"
        return text in self.get("evidence page", path).text

    def readback(self, ok: bool, problem: str) -> None:
        self.readbacks["checked"] += 1
        if not ok:
            self.readbacks["stale"] += 1
            if len(self.readbacks["details"]) < 10:
                self.readbacks["details"].append(problem)

    def run(self, stop: threading.Event) -> None:
        try:
            self.login()
        except (EditorFailed, ValueError) as exc:
            self.failures.append(str(exc))
            return
        while not stop.is_set():
            self.cycles += 1
            outcome = f"Load test outcome {self.cycles}"
            steps = (self.change_tier, self.add_finding, self.edit_finding, self.delete_finding)
            for step in steps:
                try:
                    step(outcome)
                except (EditorFailed, ValueError, KeyError) as exc:
                    self.failures.append(f"cycle {self.cycles}: {exc}")
                    break  # the rest of the cycle depends on this step

    def public(self) -> dict:
        return {
            "cycles": self.cycles,
            "saves": dict(self.saves),
            "saves_made": sum(s["made"] for s in self.saves.values()),
            "saves_failed": sum(s["failed"] for s in self.saves.values()),
            "failures": self.failures[:20],
            "readbacks": self.readbacks,
            "last_tier": self.last_tier,
            "last_tier_score": self.last_tier_score,
        }


# --- after the load ------------------------------------------------------------------------

FRESH_CHECK = """
import json, os
from decimal import Decimal
from evidence.models import Finding, Rating
from stacks.models import GoalScore
from stacks.refresh import score_rows

FIELDS = ["group", "score", "tier_number", "tier_label", "study_count",
          "randomised_study_count", "participants", "design_weighted_studies", "bottom_line",
          "name", "sort_name", "slug", "kind", "mechanism_class", "injection_only",
          "milligrams_per_month",
          "components"]

def facts(row):
    out = {}
    for name in FIELDS:
        value = getattr(row, name)
        if isinstance(value, Decimal):
            value = str(value.quantize(Decimal("0.000001")))
        out[name] = value
    return out

fresh = {(r.goal_id, r.compound_id): facts(r) for r in score_rows()}
stored = {(r.goal_id, r.compound_id): facts(r) for r in GoalScore.objects.all()}
differences = []
# Compared as Python values, not as JSON text: a fresh component may hold -0.0 points, which
# jsonb stores as 0, and -0.0 == 0.0.
for key in sorted(fresh.keys() | stored.keys()):
    a, b = fresh.get(key), stored.get(key)
    if a is None or b is None:
        differences.append({"pair": key, "fresh": a is not None, "stored": b is not None})
        continue
    def differs(n):
        if n == "score" and a[n] is not None and b[n] is not None:
            return abs(a[n] - b[n]) > 1e-9
        return a[n] != b[n]
    changed = [n for n in FIELDS if differs(n)]
    if changed:
        differences.append({"pair": key, "fields": changed})
goal, compound = int(os.environ["LT_GOAL"]), int(os.environ["LT_COMPOUND"])
target = fresh.get((goal, compound))
editor = os.environ["LT_EDITOR"]
def by_editor(model, kind):
    return model.history.filter(history_user__username=editor, history_type=kind).count()
from evidence.models import Offer
vendor_changes = Offer.history.filter(
    history_user__username=os.environ["LT_VENDOR"], history_type="~"
).count()
history = {
    "rating changed": by_editor(Rating, "~"),
    "finding added": by_editor(Finding, "+"),
    "finding changed": by_editor(Finding, "~"),
    "finding deleted": by_editor(Finding, "-"),
}
print("LOADTEST_JSON " + json.dumps({
    "pairs": len(fresh),
    "stored": len(stored),
    "differences": differences[:20],
    "difference_count": len(differences),
    "target": target and {k: target[k] for k in ("group", "score", "tier_number", "tier_label")},
    "history": history,
    "vendor_history": vendor_changes,
}))
"""


def fresh_check(settings: Settings, plan: dict) -> dict:
    """The precomputed scores against a fresh computation, and the editor's history rows."""
    target = plan["editor"]
    return json_line(
        django_shell(
            FRESH_CHECK,
            settings.url,
            {
                "LT_GOAL": str(target["goal_id"]),
                "LT_COMPOUND": str(target["compound_id"]),
                "LT_EDITOR": EDITOR_USERNAME,
                "LT_VENDOR": VENDOR_USERNAME,
            },
        )
    )


def final_ranking(port: int, settings: Settings, plan: dict) -> dict:
    """The demo compound's entry in its goal's ranking API, read once the load is over."""
    target = plan["editor"]
    path = f"/api/goals/{target['goal_slug']}/ranking/?limit=200"
    status, body, _ = fetch(port, path, timeout=settings.timeout)
    if status != 200:
        return {"path": path, "status": status, "entry": None}
    data = json.loads(body)
    entry = next(
        (
            {"group": group, "tier": e["tier"], "score": e["score"], "position": i + 1}
            for group in ("ranked", "no_effect")
            for i, e in enumerate(data[group])
            if e["slug"] == target["compound_slug"]
        ),
        None,
    )
    return {"path": path, "status": status, "entry": entry}


def log_problems(path: Path) -> dict:
    """Tracebacks, errors and worker timeouts in gunicorn's log, and its access log's count."""
    text = path.read_text(errors="replace") if path.exists() else ""
    lines = text.splitlines()
    problems = [i for i, line in enumerate(lines) if LOG_PROBLEMS.search(line)]
    statuses: dict[str, int] = defaultdict(int)
    for line in lines:
        if line.startswith("127.0.0.1 ") and (match := ACCESS_STATUS.search(line)):
            statuses[match[1][0] + "xx"] += 1
    excerpt = []
    if problems:
        first = problems[0]
        excerpt = lines[max(0, first - 2) : first + 40]
    return {
        "log": str(path.relative_to(ROOT)),
        "problem_lines": len(problems),
        "first_problem": "\n".join(excerpt),
        "access_log": dict(sorted(statuses.items())),
        "worker_boots": sum("Booting worker" in line for line in lines),
    }


# --- the run -------------------------------------------------------------------------------


def machine(settings: Settings) -> dict:
    def output(*command: str) -> str:
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        return (done.stdout or done.stderr).strip()

    with psycopg.connect(f"{settings.pg}/postgres") as conn:
        postgres = conn.execute("SHOW server_version").fetchone()[0]
    meminfo = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(int(meminfo[1]) / 1024 / 1024, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "postgres": postgres,
        "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
        "git_commit": output("git", "rev-parse", "--short", "HEAD"),
        "git_dirty": bool(output("git", "status", "--porcelain")),
    }


JUNK_PROBE_REQUESTS = 300
# The same probe with Redis stopped: every request rendered, so fewer of them.
OUTAGE_PROBE_REQUESTS = 40


def healthz_probe(port: int, timeout: float) -> dict:
    """One GET /healthz: its status and JSON body (None when it sent none)."""
    try:
        status, body, seconds = fetch(port, "/healthz", timeout=timeout)
    except OSError as exc:
        return {"status": None, "body": None, "error": type(exc).__name__}
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    return {"status": status, "body": data, "ms": round(seconds * 1000, 1)}


def prober(port: int, timeout: float, stop: threading.Event, probes: list) -> None:
    """/healthz every 2 s while a phase runs, as a load balancer would ask."""
    while not stop.wait(2):
        probes.append(healthz_probe(port, timeout))


@dataclass
class Actors:
    """Who takes part in more than one phase; the editor and the vendor keep their sessions."""

    editor: "Editor"
    vendor: VendorSaver
    junk: JunkUrls


def run_phase(
    name: str,
    stream: str,
    server: Server,
    redis_server: RedisServer,
    plan: dict,
    settings: Settings,
    actors: Actors,
    seconds: int,
    hostile: bool,
) -> dict:
    """One phase (or one slice of one) of the load: the normal visitors, click loops and
    editor, and with `hostile` the junk-parameter clients and the vendor-saving client beside
    them. `stream` names the slice: its visitors' requests and its clicks' user agents are
    its own."""
    stop = threading.Event()
    threads: list[threading.Thread] = []
    crashes: list[str] = []
    visitor_recs: list[Recorder] = []
    other_recs: list[Recorder] = []
    sent: list[Counter] = []
    junk_sent = new_sent()
    probes: list[dict] = []

    def guarded(target, *args) -> None:
        """A bug in the harness must show in the report, not end a thread silently."""
        try:
            target(*args)
        except Exception:  # noqa: BLE001 - reported as a failed check
            crashes.append(traceback.format_exc(limit=8))

    def thread(target, *args) -> None:
        threads.append(threading.Thread(target=guarded, args=(target, *args), daemon=True))

    def recorder(group: list[Recorder]) -> Recorder:
        group.append(rec := Recorder())
        return rec

    for i in range(settings.visitors):
        thread(visitor, server.port, plan, settings, i, stop, recorder(visitor_recs), stream)
    for i in range(settings.clickers):
        sent.append(counter := Counter())
        rec = recorder(other_recs)
        thread(clicker, server.port, plan, settings, i, stop, rec, counter, stream)
    editor, vendor = actors.editor, actors.vendor
    editor.rec = recorder(other_recs)
    thread(editor.run, stop)
    if hostile:
        for _ in range(settings.junk_clients):
            rec = recorder(other_recs)
            thread(junk_client, server.port, actors.junk, settings.timeout, stop, rec, junk_sent)
        vendor.rec = recorder(other_recs)
        thread(vendor.run, stop)
    thread(prober, server.port, settings.timeout, stop, probes)

    clients = f"{settings.visitors} visitors, {settings.clickers} click loops, one editor"
    if hostile:
        clients += f", {settings.junk_clients} junk-parameter clients, one vendor re-saving"
    say(f"== {stream}: {clients} for {seconds} s")
    # Only before the first slice: between slices, waiting would let the machine's other
    # work fall on one kind of slice more than on the other.
    waited = server.wait_quiet(settings.quiet_wait) if stream == "baseline 1" else 0.0
    if waited > 1.5:
        say(f"   waited {waited:.0f} s for other processes to go quiet")
    redis_before = redis_server.stats() if redis_server.running else None
    keys_before = redis_server.keys() if redis_server.running else set()
    editor_before, vendor_before = editor.public()["saves_made"], vendor.saves["made"]
    mark = server.cpu_mark()
    started = time.monotonic()
    for t in threads:
        t.start()
    try:
        while (left := started + seconds - time.monotonic()) > 0:
            stop.wait(min(left, 10))
            if left > 10:
                done = sum(len(r.samples) for r in visitor_recs + other_recs)
                say(f"   {time.monotonic() - started:4.0f} s: {done:,} requests")
    finally:
        stop.set()
    deadline = time.monotonic() + settings.timeout + 30
    for t in threads:
        t.join(timeout=max(0.1, deadline - time.monotonic()))
    elapsed = time.monotonic() - started
    cpu = server.cpu_since(mark)
    redis_after = redis_server.stats() if redis_server.running else None
    new_keys = redis_server.keys() - keys_before if redis_server.running else set()
    old_versions = set(page_keys_by_version(keys_before))
    new_versions = set(page_keys_by_version(new_keys)) - old_versions
    clicks = sum(sent, Counter())
    samples = [s for r in visitor_recs + other_recs for s in r.samples]
    by_type = loadreport.summarize(samples)
    visitors_summary = loadreport.summarize([s for r in visitor_recs for s in r.samples])
    say(f"== {stream} done: {len(samples):,} requests in {elapsed:.1f} s")
    return {
        "name": name,
        "slice": stream,
        "started_at": started,
        "ended_at": started + elapsed,
        "seconds": round(elapsed, 1),
        "hostile": hostile,
        "redis_running": redis_server.running,
        "quiet_wait_seconds": waited,
        "stragglers": sum(t.is_alive() for t in threads),
        "crashes": crashes[:5],
        "by_type": by_type,
        "samples": samples,  # dropped before saving; merge_slices adds them up
        "visitor_samples": [s for r in visitor_recs for s in r.samples],
        "junk_sent": junk_sent,
        "visitors": visitors_summary[loadreport.TOTAL],
        "surprises": [s for r in visitor_recs + other_recs for s in r.surprises][:20],
        "clicks_sent": {str(k): clicks[k] for k in sorted(k for k in clicks if isinstance(k, int))},
        "clicks_unanswered": clicks["unanswered"],
        "clicks_wrong_location": clicks["wrong_location"],
        "editor_saves": editor.public()["saves_made"] - editor_before,
        "vendor_saves": vendor.saves["made"] - vendor_before,
        "junk": {
            "requests": by_type.get("junk-parameter page", {}).get("requests", 0),
            "distinct_urls": len(junk_sent["urls"]),
            "pages": len(junk_sent["pages"]),
        },
        "redis_before": redis_before,
        "redis_after": redis_after,
        "new_content_versions": len(new_versions),
        "new_cache_entries": sum(page_keys_by_version(new_keys).values()),
        "healthz": probes,
        "cpu": cpu,
    }


def junk_probe(
    server: Server,
    redis_server: RedisServer,
    urls: JunkUrls,
    settings: Settings,
    requests: int = JUNK_PROBE_REQUESTS,
) -> dict:
    """With every other client stopped: `requests` junk URLs, each new, over the junk
    client's few pages, one at a time. The entries they add, counted per content version (a
    vendor's deferred retirement may fall due meanwhile), may be at most one per page. With
    Redis stopped the same requests show what a page costs when every one is rendered."""
    say(f"== junk probe: {requests} junk URLs, nothing else running")
    rec = Recorder()
    sent = new_sent()
    client = Client(server.port, settings.timeout, {**PROXY_HEADERS, "User-Agent": "loadtest-junk"})
    running = redis_server.running
    keys_before = redis_server.keys() if running else set()
    stats_before = redis_server.stats() if running else {}
    for _ in range(requests):
        url, base = urls.next()
        sent["urls"].add(url)
        sent["pages"].add(base)
        rec.call("junk-parameter page", lambda u=url: client.get(u), url, 200)
    stats_after = redis_server.stats() if running else {}
    added = page_keys_by_version(redis_server.keys() - keys_before) if running else Counter()
    summary = loadreport.summarize(rec.samples)[loadreport.TOTAL]
    return {
        "redis_running": running,
        "requests": len(rec.samples),
        "answered_200": summary["2xx"],
        "latency_ms": summary["latency_ms"],
        "distinct_urls": len(sent["urls"]),
        "pages": len(sent["pages"]),
        "new_entries": sum(added.values()),
        "versions": len(added),
        "most_entries_per_version": max(added.values(), default=0),
        "used_memory_before": stats_before.get("used_memory"),
        "used_memory_after": stats_after.get("used_memory"),
        "dbsize_before": stats_before.get("dbsize"),
        "dbsize_after": stats_after.get("dbsize"),
        "surprises": rec.surprises[:5],
    }


def merge_slices(parts: list[dict]) -> dict:
    """One phase from its slices: requests, clicks, saves and probes added up, percentiles
    over every request of every slice, Redis as before the first and after the last."""
    samples = [s for part in parts for s in part.pop("samples")]
    visitor_samples = [s for part in parts for s in part.pop("visitor_samples")]
    urls = set().union(*(part["junk_sent"]["urls"] for part in parts))
    pages = set().union(*(part["junk_sent"]["pages"] for part in parts))
    for part in parts:
        del part["junk_sent"]
    clicks: Counter = Counter()
    for part in parts:
        clicks.update({int(k): v for k, v in part["clicks_sent"].items()})
    seconds = sum(part["seconds"] for part in parts)
    by_type = loadreport.summarize(samples)

    def total(key: str):
        return sum(part[key] for part in parts)

    return {
        "seconds": round(seconds, 1),
        "slices": len(parts),
        "span_seconds": round(parts[-1]["ended_at"] - parts[0]["started_at"], 1),
        "hostile": parts[0]["hostile"],
        "redis_running": all(part["redis_running"] for part in parts),
        "quiet_wait_seconds": total("quiet_wait_seconds"),
        "stragglers": total("stragglers"),
        "crashes": [c for part in parts for c in part["crashes"]][:5],
        "by_type": by_type,
        "samples": samples,
        "visitors": loadreport.summarize(visitor_samples)[loadreport.TOTAL],
        "surprises": [s for part in parts for s in part["surprises"]][:20],
        "clicks_sent": {str(k): clicks[k] for k in sorted(clicks)},
        "clicks_unanswered": total("clicks_unanswered"),
        "clicks_wrong_location": total("clicks_wrong_location"),
        "editor_saves": total("editor_saves"),
        "vendor_saves": total("vendor_saves"),
        "junk": {
            "requests": by_type.get("junk-parameter page", {}).get("requests", 0),
            "distinct_urls": len(urls),
            "pages": len(pages),
        },
        "redis_before": parts[0]["redis_before"],
        "redis_after": parts[-1]["redis_after"],
        "new_content_versions": total("new_content_versions"),
        "new_cache_entries": total("new_cache_entries"),
        "healthz": [p for part in parts for p in part["healthz"]],
        "cpu": {
            key: round(sum(part["cpu"][key] * part["seconds"] for part in parts) / seconds, 3)
            for key in ("app_and_db", "harness", "other", "idle")
        }
        if seconds
        else {},
    }


def run_load(
    server: Server,
    redis_server: RedisServer,
    plan: dict,
    settings: Settings,
    login: tuple[str, str],
    vendor_login: tuple[str, str, str],
) -> dict:
    """The phases in order: baseline (normal clients only) and hostile (the same plus the
    junk and vendor clients) in alternating slices, so the machine's other work falls on
    both alike; a junk probe alone; then Redis stopped (normal clients only) and started
    again. Returns every slice, every phase and their sum, which the checks read."""
    actors = Actors(
        editor=Editor(server.port, plan, settings, login, Recorder()),
        vendor=VendorSaver(server.port, plan["vendor"]["offer_id"], settings.timeout, vendor_login),
        junk=JunkUrls(plan, random.Random(settings.seed * 7919)),
    )
    mark = server.cpu_mark()
    started = time.monotonic()
    parts: dict[str, list[dict]] = {"baseline": [], "hostile": []}
    seconds = max(1, round(settings.duration / settings.slices))
    for n in range(1, settings.slices + 1):
        for name in ("baseline", "hostile"):
            parts[name].append(
                run_phase(
                    name,
                    f"{name} {n}",
                    server,
                    redis_server,
                    plan,
                    settings,
                    actors,
                    seconds,
                    hostile=name == "hostile",
                )
            )
    probe = junk_probe(server, redis_server, actors.junk, settings)

    say("== Redis stopped mid-run (the test's own redis-server)")
    healthz_before_stop = healthz_probe(server.port, settings.timeout)
    redis_server.stop()
    outage_probe = junk_probe(
        server, redis_server, actors.junk, settings, requests=OUTAGE_PROBE_REQUESTS
    )
    parts["redis stopped"] = [
        run_phase(
            "redis stopped",
            "redis stopped",
            server,
            redis_server,
            plan,
            settings,
            actors,
            settings.outage,
            hostile=False,
        )
    ]
    say("== Redis started again")
    redis_server.start()
    recovery = []
    for _ in range(20):  # the app reconnects on its next cache call
        recovery.append(healthz_probe(server.port, settings.timeout))
        if (recovery[-1].get("body") or {}).get("cache") == "ok":
            break
        time.sleep(0.5)

    elapsed = time.monotonic() - started
    cpu = server.cpu_since(mark)
    slices = [
        {k: v for k, v in part.items() if k not in ("samples", "visitor_samples", "junk_sent")}
        | {"by_type": {loadreport.TOTAL: part["by_type"][loadreport.TOTAL]}}
        for name in ("baseline", "hostile", "redis stopped")
        for part in parts[name]
    ]
    slices.sort(key=lambda part: part["started_at"])
    phases = {name: merge_slices(group) for name, group in parts.items()}
    samples = [s for phase in phases.values() for s in phase.pop("samples")]
    clicks: Counter = Counter()
    for phase in phases.values():
        clicks.update({int(k): v for k, v in phase["clicks_sent"].items()})
    return {
        "seconds": round(elapsed, 1),
        "slices": slices,
        "phases": phases,
        "junk_probe": probe,
        "outage_probe": outage_probe,
        "healthz_before_redis_stop": healthz_before_stop,
        "healthz_after_redis_restart": recovery,
        "stragglers": sum(p["stragglers"] for p in phases.values()),
        "crashes": [c for p in phases.values() for c in p["crashes"]][:5],
        "by_type": loadreport.summarize(samples),
        "surprises": [s for p in phases.values() for s in p["surprises"]][:20],
        "clicks_sent": {str(k): clicks[k] for k in sorted(clicks)},
        "clicks_unanswered": sum(p["clicks_unanswered"] for p in phases.values()),
        "clicks_wrong_location": sum(p["clicks_wrong_location"] for p in phases.values()),
        "editor": actors.editor.public(),
        "vendor": actors.vendor.public(),
        "cpu": {k: cpu[k] for k in ("app_and_db", "harness", "other", "idle")},
    }


def database_down_check(settings: Settings) -> dict:
    """A second gunicorn, same settings, whose DATABASE_URL names a loopback port nothing
    listens on (PostgreSQL unreachable; the machine's own server is never touched): /healthz
    must answer 503 and say so."""
    closed = free_port()  # bound and released: nothing listens there now
    dataset = {"database": "loadtest_nodb", "url": f"postgres://postgres@127.0.0.1:{closed}/x"}
    say(f"== PostgreSQL unreachable: gunicorn with DATABASE_URL on closed port {closed}")
    with Server(
        dataset, workers=1, timeout=WORKER_TIMEOUT, extra_args=["--config=config/gunicorn.py"]
    ) as server:
        probe = healthz_probe(server.port, settings.timeout)
    return {"database_port": closed, **probe}


def save(results: dict) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = results["started"].replace(":", "").replace("-", "")
    path = RESULTS_DIR / f"loadtest-{stamp}.json"
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return path


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 s of load: a smoke run")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)

    stop_on_signals()
    started = datetime.now(UTC)
    results: dict = {"started": started.isoformat(timespec="seconds"), "problems": []}
    password = secrets.token_urlsafe(18)
    try:
        settings = Settings.from_env(args.quick)
        results["settings"] = settings.public()
        try:
            results["machine"] = machine(settings)
        except psycopg.OperationalError as exc:
            raise BenchError(f"PostgreSQL does not answer at {settings.pg}: {exc}") from exc
        results["dataset"] = prepare_database(settings, password)
        results["plan"] = plan = plan_from_data(settings.url, settings)
        vendor_password = secrets.token_urlsafe(18)
        say(f"== vendor account {VENDOR_USERNAME} (Vendor accounts, its own offer only)")
        plan["vendor"] = create_vendor_account(settings, plan, vendor_password)
        say(f"== two-factor enrolment of {EDITOR_USERNAME} and {VENDOR_USERNAME}")
        login = (password, enrol_two_factor(settings, EDITOR_USERNAME))
        vendor_login = (
            VENDOR_USERNAME,
            vendor_password,
            enrol_two_factor(settings, VENDOR_USERNAME),
        )
        say("== collectstatic")
        manage("collectstatic", "--no-input", "-v0", database_url=settings.url)
        offer_ids = [o["id"] for o in plan["offers"]]
        before = click_counts(settings.url, offer_ids)
        dataset = {"database": settings.database, "url": settings.url}
        with (
            RedisServer(settings.redis_mb) as redis_server,
            Server(
                dataset,
                workers=settings.workers,
                timeout=WORKER_TIMEOUT,
                extra_args=["--config=config/gunicorn.py"],
                env={"REDIS_URL": redis_server.url},
            ) as server,
        ):
            results["load"] = run_load(server, redis_server, plan, settings, login, vendor_login)
            after = click_counts(settings.url, offer_ids)
            results["ranking_after"] = final_ranking(server.port, settings, plan)
            results["memory"] = {
                "worker_peak_mb": round(max(server.peaks_kb.values(), default=0) / 1024, 1)
            }
            log_path = server.log_path
        results["clicks_counted"] = {str(i): after[i] - before[i] for i in offer_ids}
        results["database_down"] = database_down_check(settings)
        results["fresh"] = fresh_check(settings, plan)
        results["gunicorn"] = log_problems(log_path)
    except KeyboardInterrupt:
        say("!! interrupted; the load stopped and gunicorn was stopped")
        results["problems"].append("interrupted")
        save(results)
        return 130
    except (BenchError, subprocess.CalledProcessError, psycopg.Error) as exc:
        say(f"!! the load test could not run: {exc}")
        results["problems"].append(str(exc))
        path = save(results)
        say(f"   partial results: {path.relative_to(ROOT)}")
        return 2
    finally:
        results["seconds"] = round((datetime.now(UTC) - started).total_seconds(), 1)
    results["checks"] = loadreport.evaluate(results)
    results["passed"] = all(check["pass"] for check in results["checks"])
    path = save(results)
    print(loadreport.render(results))
    print(f"\nSaved {path.relative_to(ROOT)}")
    return 0 if results["passed"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
