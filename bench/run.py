"""`make bench`: the app under load on loopback, measured end to end; one table, saved as JSON.

    .venv/bin/python bench/run.py              # everything: endpoints, growth, memory, cold mix
    .venv/bin/python bench/run.py --quick      # the same, 3 s per endpoint: a smoke run
    .venv/bin/python bench/run.py --endpoints  # only the endpoint table (--preset, default large)
    .venv/bin/python bench/run.py --growth     # only the ranking API's p50 at small, medium, large
    .venv/bin/python bench/run.py --cold       # only the cold mix at --preset (large) and small

What it does:

1. Data. Each preset lives in its own PostgreSQL database, bench_<preset>, on 127.0.0.1:5432
   (user postgres, trust auth; BENCH_PG overrides the server). The database is created,
   migrated and filled by `bench/synthetic.py --preset <preset>` once; a row in its
   table bench_dataset records the preset, the seed and a hash of bench/synthetic.py, and
   later runs reuse the data (migrating it first) while those match. A changed generator, seed
   or --regenerate drops and rebuilds the database.
2. The server: `collectstatic`, then gunicorn on a free port of 127.0.0.1 with config.wsgi and
   production settings (DJANGO_DEBUG=false), 2 sync workers, as behind a TLS-terminating proxy
   (DJANGO_BEHIND_TLS_PROXY=true, and every request carries X-Forwarded-Proto: https; without
   it production settings answer 301 to https). Sync, not gthread: one request per
   worker at a time, like gunicorn's default; this app's views are CPU-bound Python, and on 2
   cores threads only add GIL contention. With more connections than workers, requests wait in
   the listen backlog, and that wait is part of the latency, as it is in production.
   --timeout 120 so a slow baseline request is measured rather than killed.
3. The endpoints, with parameters picked from the data: the floor (/healthz/database, one
   database round trip: common.FLOOR_PATH), the most-rated goal's page and ranking API, a stack
   of the three most-rated goals, the evidence page of the compound with the most findings for
   that goal, and a compound search that matches. Each is pre-checked (200 and an expected text
   in the body, no redirects; a failure is reported and the others still run), warmed up, then
   loaded by wrk for a fixed duration with bench/wrk_report.lua (p50/p90/p95/p99 and responses
   by status class). After each wrk run the harness waits until the workers are idle, so
   requests wrk left queued do not leak into the next measurement. The floor is measured first
   and last; ratios use the mean of both.
4. Growth: the ranking API of each preset's most-rated goal, same settings, one server per
   preset (the large figure is the endpoint table's own when both run).
5. Memory: VmHWM (peak RSS) of every gunicorn worker, sampled from /proc while it runs.

6. The cold mix (--cold; bench/coldmix.py draws the URLs, bench/wrk_urls.lua requests them).
   wrk above repeats one URL per endpoint, so it measures the cache. Here about
   BENCH_COLD_URLS distinct URLs are drawn reproducibly (BENCH_SEED) from the preset's data:
   goals with Zipf-like popularity (by rated compounds), 1-5 per builder or stack request,
   filters mixed in, every page type and the API. Gunicorn runs with the production config
   (-c config/gunicorn.py; the command line sets bind and workers) and its own Redis
   (bench/redisserver.py, REDIS_URL), as production shares its cache. Each class is requested
   alone, each URL once, from an empty cache (FLUSHDB), for at most BENCH_COLD_DURATION s;
   then all classes interleaved by their weights (BENCH_MIX_DURATION s), from an empty cache;
   then the URLs that run answered, again, the cache warm (the replay). Per run: req/s and its
   ratio to the floor (FLOOR_PATH before and after, on this server; for the mixed run, the
   floor measured just before and after it), p50/p95/p99, non-2xx,
   bytes per response, the X-Cache hit share, gunicorn workers booted (max_requests
   recycling); per HTML class, the largest of a sample of bodies gzip-compressed (level 6).
   At small too, unless --preset small: each class's cold p50, large over small.

7. A shared machine: during every measurement the harness accounts for the CPU time of the
   whole machine and of its own processes (gunicorn, PostgreSQL's backends for the bench
   database, wrk, itself). It waits up to BENCH_QUIET_WAIT s for other processes to go quiet
   before measuring, measures again (BENCH_RETRIES times) when they took more than 10% of the
   machine meanwhile, keeps the cleanest attempt, and shows their share per endpoint.

Environment: BENCH_DURATION (seconds per endpoint, default 15, 3 with --quick), BENCH_WARMUP
(3, 1 with --quick), BENCH_CONNECTIONS (8; the cold mix runs as many wrk threads, one
connection each), BENCH_THREADS (2), BENCH_TIMEOUT (wrk's request timeout, 60), BENCH_SEED (1),
BENCH_RETRIES (2), BENCH_QUIET_WAIT (30), BENCH_PG (postgres://postgres@127.0.0.1:5432),
BENCH_COLD_DURATION (20, 5 with --quick), BENCH_MIX_DURATION (60, 10 with --quick),
BENCH_COLD_URLS (30000), BENCH_REDIS_MB (1024). The cold runs are not repeated when other
processes were busy (each would need its cache emptied again); their share is shown.

Output: the table on stdout, the same as JSON in bench-results/bench-<UTC time>.json and
bench-results/latest.json (git-ignored), gunicorn's log in bench-results/gunicorn-<db>.log
(-cold.log for the cold mix), the cold mix's URL files and answers in bench-results/cold-<preset>/.
Exit status 0 only when every target is met; 1 when some target fails or an endpoint failed
its pre-check; 2 when the harness itself could not run; 130 on Ctrl-C. Gunicorn is stopped
on every path.

Caveat: wrk, gunicorn and PostgreSQL share the machine's cores, so absolute req/s are the
machine's, not the app's; the ratio to the floor measured in the same run is the robust number.
wrk is closed-loop (each connection waits for its answer), so latencies at saturation include
queueing but not the coordinated-omission correction wrk2 would add.
"""

import argparse
import gzip
import hashlib
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import coldmix
import proxy
import psycopg
import report
from common import (
    FLOOR_PATH,
    GUNICORN_TIMEOUT,
    OTHER_CPU_LIMIT,
    PROXY_HEADERS,
    RESULTS_DIR,
    ROOT,
    WORKER_CLASS,
    WORKERS,
    BenchError,
    Server,
    app_env,
    env_int,
    fetch,
    manage,
    say,
    stop_on_signals,
)
from psycopg import sql
from redisserver import RedisServer

LUA_SCRIPT = Path(__file__).resolve().with_name("wrk_report.lua")
COLD_LUA_SCRIPT = Path(__file__).resolve().with_name("wrk_urls.lua")
# What wrk_urls.lua asks for on a connection whose URLs ran out (its "fillers"): not the class.
FILLER_PATH = "/robots.txt"
GENERATOR = ROOT / "bench" / "synthetic.py"
PRESETS = ("small", "medium", "large")
TABLES = {
    "compounds": "evidence_compound",
    "goals": "evidence_goal",
    "studies": "evidence_study",
    "findings": "evidence_finding",
    "offers": "evidence_offer",
    "ratings": "evidence_rating",
}


@dataclass(frozen=True)
class Settings:
    duration: int
    warmup: int
    connections: int
    threads: int
    timeout: int
    seed: int
    quick: bool
    pg: str
    retries: int  # measurements repeated when other processes took CPU meanwhile
    quiet_wait: int  # seconds to wait for a quiet machine before each measurement
    cold_duration: int  # the cold mix: at most this many seconds per class
    mix_duration: int  # the cold mix: at most this many seconds for the mixed run
    cold_urls: int  # the cold mix: distinct URLs drawn (fewer when a class runs out)
    redis_mb: int  # the cold mix's Redis: its memory limit

    @classmethod
    def from_env(cls, quick: bool) -> "Settings":
        settings = cls(
            duration=env_int("BENCH_DURATION", 3 if quick else 15),
            warmup=env_int("BENCH_WARMUP", 1 if quick else 3),
            connections=env_int("BENCH_CONNECTIONS", 8),
            threads=env_int("BENCH_THREADS", 2),
            timeout=env_int("BENCH_TIMEOUT", 60),
            seed=env_int("BENCH_SEED", 1),
            quick=quick,
            pg=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/"),
            retries=env_int("BENCH_RETRIES", 2, minimum=0),
            quiet_wait=env_int("BENCH_QUIET_WAIT", 30, minimum=0),
            cold_duration=env_int("BENCH_COLD_DURATION", 5 if quick else 20),
            mix_duration=env_int("BENCH_MIX_DURATION", 10 if quick else 60),
            cold_urls=env_int("BENCH_COLD_URLS", 30_000),
            redis_mb=env_int("BENCH_REDIS_MB", 1024),
        )
        if settings.threads > settings.connections:
            raise BenchError("BENCH_THREADS cannot exceed BENCH_CONNECTIONS (wrk needs that)")
        return settings

    def public(self) -> dict:
        return {
            "duration": self.duration,
            "warmup": self.warmup,
            "connections": self.connections,
            "threads": self.threads,
            "timeout": self.timeout,
            "seed": self.seed,
            "quick": self.quick,
            "retries": self.retries,
            "quiet_wait": self.quiet_wait,
            "cold_duration": self.cold_duration,
            "mix_duration": self.mix_duration,
            "cold_urls": self.cold_urls,
            "redis_mb": self.redis_mb,
            "workers": WORKERS,
            "worker_class": WORKER_CLASS,
            "gunicorn_timeout": GUNICORN_TIMEOUT,
        }


# --- data ----------------------------------------------------------------------------------


def generator_fingerprint() -> str:
    return hashlib.sha256(GENERATOR.read_bytes()).hexdigest()[:16]


def code_fingerprint() -> str:
    """All Python of the two apps: when it changes, precomputed scores may be stale."""
    digest = hashlib.sha256()
    for path in sorted(p for app in ("evidence", "stacks") for p in (ROOT / app).rglob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def read_marker(url: str) -> dict | None:
    try:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT info FROM bench_dataset").fetchone()
    except (psycopg.errors.UndefinedTable, psycopg.OperationalError):
        return None
    return row[0] if row else None


def write_marker(url: str, marker: dict) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_dataset (info jsonb NOT NULL)")
        conn.execute("DELETE FROM bench_dataset")
        conn.execute("INSERT INTO bench_dataset (info) VALUES (%s)", [json.dumps(marker)])


def rescore(name: str, url: str) -> float:
    """Rebuild the precomputed scores, then VACUUM ANALYZE."""
    say(f"== {name}: the apps' code changed since the scores were computed; rescoring")
    started = time.monotonic()
    manage("rescore", database_url=url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return round(time.monotonic() - started, 1)


def ensure_dataset(preset: str, settings: Settings, regenerate: bool) -> dict:
    """The database holding `preset`: reused when its marker matches, else rebuilt.

    Reused data is migrated first, and its precomputed scores rebuilt when the code of the
    apps changed since they were computed; if migrating fails, the data is rebuilt.
    """
    name = f"bench_{preset}"
    url = f"{settings.pg}/{name}"
    wanted = {"preset": preset, "seed": settings.seed, "generator": generator_fingerprint()}
    with psycopg.connect(f"{settings.pg}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    marker = read_marker(url) if exists else None
    if marker and name in _generated_this_run:  # --regenerate rebuilds once per run
        return {**marker, "database": name, "url": url, "generated_now": True}
    reason = None
    if regenerate:
        reason = "--regenerate"
    elif not exists:
        reason = "new database"
    elif not marker:
        reason = "no marker"
    elif changed := [k for k, v in wanted.items() if marker.get(k) != v]:
        reason = "changed: " + ", ".join(changed)
    if reason is None:
        say(f"== {name}: reusing the {preset} preset (seed {settings.seed}); migrating")
        try:
            manage("migrate", "--no-input", "-v0", database_url=url)
        except subprocess.CalledProcessError:
            reason = "migrate failed on the existing data"
    if reason is None:
        rescored = None
        if marker.get("code") != code_fingerprint():
            rescored = rescore(name, url)
            marker["code"] = code_fingerprint()
            write_marker(url, marker)
        return {
            **marker,
            "database": name,
            "url": url,
            "generated_now": False,
            "rescored_now_seconds": rescored,
        }

    say(f"== {name}: generating the {preset} preset, seed {settings.seed} ({reason})")
    with psycopg.connect(f"{settings.pg}/postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    manage("migrate", "--no-input", "-v0", database_url=url)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(GENERATOR), f"--preset={preset}", f"--seed={settings.seed}"],
        cwd=ROOT,
        env=app_env(url),
        stdout=subprocess.PIPE,  # the progress bars go to stderr, straight to the terminal
        text=True,
        check=True,
    )
    seconds = time.monotonic() - started
    say(done.stdout.rstrip())
    generated = re.search(r"Generated synthetic data: .* in ([0-9.]+) s", done.stdout)
    rescored = re.search(r"Precomputed scores in ([0-9.]+) s", done.stdout)
    with psycopg.connect(url) as conn:
        sizes = {
            key: conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            ).fetchone()[0]
            for key, table in TABLES.items()
        }
    marker = {
        **wanted,
        "sizes": sizes,
        "load_seconds": round(seconds, 1),  # the whole command, Django start-up included
        "generate_seconds": float(generated[1]) if generated else None,
        "rescore_seconds": float(rescored[1]) if rescored else None,
        "code": code_fingerprint(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    write_marker(url, marker)
    _generated_this_run.add(name)
    say(f"== {name}: loaded in {seconds:.1f}s (bench/synthetic.py, including Django start-up)")
    return {**marker, "database": name, "url": url, "generated_now": True}


_generated_this_run: set[str] = set()


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    # What a right answer holds, so a 200 of the wrong or an empty page does not count: a text
    # the body must contain, or a check of the decoded JSON returning what is wrong (or None).
    expect: str | Callable[[Any], str | None]
    is_floor: bool = False

    def problem(self, body: bytes) -> str | None:
        if isinstance(self.expect, str):
            return None if self.expect.encode() in body else f"the body lacks {self.expect!r}"
        try:
            data = json.loads(body)
        except ValueError:
            return "the body is not JSON"
        return self.expect(data)


def ranking_of(goal_slug: str) -> Callable[[Any], str | None]:
    def check(data) -> str | None:
        if data.get("goal", {}).get("slug") != goal_slug:
            return f"not the ranking of {goal_slug}"
        if not data.get("ranked"):
            return "no ranked compound (precomputed scores missing?)"
        return None

    return check


def stack_with_picks(data) -> str | None:
    return None if data.get("picks") else "a stack without picks (precomputed scores missing?)"


def pick_parameters(url: str) -> dict:
    """The goals, compound and search text the endpoints use, chosen from the data."""
    with psycopg.connect(url) as conn:
        goals = conn.execute(
            """
            SELECT g.slug, g.name, count(*) AS rated
            FROM evidence_rating r
            JOIN evidence_goal g ON g.id = r.goal_id
            JOIN evidence_compound c ON c.id = r.compound_id AND c.published
            GROUP BY g.id ORDER BY rated DESC, g.slug LIMIT 3
            """
        ).fetchall()
        if len(goals) < 3:
            raise BenchError(f"{url} has fewer than 3 goals with published ratings")
        compound = conn.execute(
            """
            SELECT c.slug, c.name, count(f.id) AS findings
            FROM evidence_rating r
            JOIN evidence_compound c ON c.id = r.compound_id AND c.published
            LEFT JOIN evidence_finding f ON f.compound_id = r.compound_id AND f.goal_id = r.goal_id
            WHERE r.goal_id = (SELECT id FROM evidence_goal WHERE slug = %s)
            GROUP BY c.id ORDER BY findings DESC, c.slug LIMIT 1
            """,
            [goals[0][0]],
        ).fetchone()
        # "Synthetic compound 0421" matches compounds 04210-04219: a search with results.
        term = re.sub(r"\d$", "", compound[1])
        matches = conn.execute(
            "SELECT count(*) FROM evidence_compound WHERE published AND name ILIKE %s",
            [f"%{term}%"],
        ).fetchone()[0]
    return {
        "goal": {"slug": goals[0][0], "name": goals[0][1], "rated_compounds": goals[0][2]},
        "stack_goals": [{"slug": s, "name": n, "rated_compounds": r} for s, n, r in goals],
        "compound": {"slug": compound[0], "name": compound[1], "findings": compound[2]},
        "search": {"q": term, "published_matches": matches},
    }


def endpoints_for(parameters: dict) -> list[Endpoint]:
    goal = parameters["goal"]
    compound = parameters["compound"]
    stack = urlencode([("goals", g["slug"]) for g in parameters["stack_goals"]])
    search = urlencode({"q": parameters["search"]["q"]})
    return [
        Endpoint("floor", FLOOR_PATH, "ok", is_floor=True),
        Endpoint("goal page", f"/goals/{goal['slug']}/", goal["name"]),
        Endpoint("ranking API", f"/api/goals/{goal['slug']}/ranking/", ranking_of(goal["slug"])),
        Endpoint("stack API", f"/api/stack/?{stack}", stack_with_picks),
        Endpoint(
            "evidence page",
            f"/compounds/{compound['slug']}/evidence/{goal['slug']}/",
            compound["name"],
        ),
        Endpoint("search", f"/compounds/?{search}", compound["name"]),
    ]


# --- load ----------------------------------------------------------------------------------


def wrk(port: int, path: str, seconds: int, settings: Settings) -> dict:
    command = [
        "wrk",
        f"--threads={settings.threads}",
        f"--connections={settings.connections}",
        f"--duration={seconds}s",
        f"--timeout={settings.timeout}s",
        f"--script={LUA_SCRIPT}",
        *(f"--header={name}: {value}" for name, value in PROXY_HEADERS.items()),
        f"http://127.0.0.1:{port}{path}",
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + settings.timeout + 60
    )
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stdout}{done.stderr}")
    raw = json.loads(line.removeprefix("BENCH_RESULT "))
    status = raw["status"]
    # wrk's own "status" error counts 4xx/5xx, already in the status classes: leave it out.
    errors = {k: v for k, v in raw["errors"].items() if k != "status"}
    seconds_run = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "seconds": round(seconds_run, 3),
        "rps": round(raw["requests"] / seconds_run, 2) if seconds_run else 0.0,
        "bytes_per_request": round(raw["bytes"] / raw["requests"]) if raw["requests"] else None,
        "latency_ms": {k: round(v / 1000, 2) for k, v in raw["latency_us"].items()},
        "status": status,
        "non2xx": status["3xx"] + status["4xx"] + status["5xx"] + status["other"],
        "errors": errors,
    }


def precheck(server: Server, endpoint: Endpoint, settings: Settings) -> dict:
    try:
        status, body, seconds = fetch(server.port, endpoint.path, timeout=settings.timeout)
    except OSError as exc:
        return {"ok": False, "status": None, "error": f"no answer: {exc}"}
    result = {"status": status, "ms": round(seconds * 1000, 1), "bytes": len(body)}
    if status != 200:
        return {**result, "ok": False, "error": f"answered {status}, not 200"}
    if problem := endpoint.problem(body):
        return {**result, "ok": False, "error": f"200, but {problem}"}
    return {**result, "ok": True}


def measure(server: Server, endpoint: Endpoint, settings: Settings) -> dict:
    result = {"name": endpoint.name, "path": endpoint.path, "is_floor": endpoint.is_floor}
    result["precheck"] = check = precheck(server, endpoint, settings)
    if not check["ok"]:
        say(f"!! PRECHECK FAILED {endpoint.name} {endpoint.path}: {check['error']}")
        return result
    say(f"-- {endpoint.name}: {endpoint.path} (first answer {check['ms']:.0f} ms)")
    wrk(server.port, endpoint.path, settings.warmup, settings)
    server.wait_idle()
    # On a shared machine: wait for quiet, and measure again when something else took CPU
    # meanwhile, keeping the cleanest attempt.
    attempts = []
    for attempt in range(1 + settings.retries):
        waited = server.wait_quiet(settings.quiet_wait)
        mark = server.cpu_mark()
        load = wrk(server.port, endpoint.path, settings.duration, settings)
        cpu = server.cpu_since(mark)
        drained = server.wait_idle()
        attempts.append({"load": load, "cpu": cpu, "quiet_wait": waited, "drain": drained})
        if cpu["other"] <= OTHER_CPU_LIMIT:
            break
        if attempt < settings.retries:
            say(f"   other processes used {cpu['other']:.0%} of the machine; measuring again")
    best = min(attempts, key=lambda a: a["cpu"]["other"])
    result["load"] = load = best["load"]
    result["cpu"] = cpu = best["cpu"]
    result["attempts"] = len(attempts)
    result["drain_seconds"] = round(best["drain"], 1)
    result["quiet_wait_seconds"] = best["quiet_wait"]
    latency = load["latency_ms"]
    say(
        f"   {load['rps']:.1f} req/s, p50 {latency['p50']:.1f} ms, p95 {latency['p95']:.1f} ms, "
        f"{load['requests']} requests, {load['non2xx']} non-2xx; CPU: app+db "
        f"{cpu['app_and_db']:.0%}, wrk {cpu['wrk']:.0%}, other processes {cpu['other']:.0%}"
    )
    if cpu["other"] > OTHER_CPU_LIMIT:
        say(f"!! other processes used {cpu['other']:.0%} of the machine during {endpoint.name}")
    return result


def run_endpoints(results: dict, settings: Settings, preset: str, regenerate: bool) -> None:
    dataset = ensure_dataset(preset, settings, regenerate)
    results["dataset"] = {k: v for k, v in dataset.items() if k != "url"}
    results["parameters"] = parameters = pick_parameters(dataset["url"])
    endpoints = endpoints_for(parameters)
    measured = results["endpoints"] = []
    with Server(dataset) as server:
        for endpoint in endpoints:
            measured.append(measure(server, endpoint, settings))
        floor_again = measure(server, endpoints[0], settings)
        results["memory"] = memory_of(server)
    floor = measured[0]
    rates = [e["load"]["rps"] for e in (floor, floor_again) if e.get("load")]
    if rates:
        results["floor"] = floor_summary(rates)
        mean, drift = results["floor"]["mean"], results["floor"]["drift"]
        if drift is not None and abs(drift) > 0.15:
            results["warnings"].append(
                f"the floor drifted {drift:+.0%} during the run: the machine "
                "was busy with something else, or the run is too short; ratios are shaky"
            )
        for endpoint in measured:
            if endpoint.get("load") and mean:
                endpoint["ratio_to_floor"] = round(endpoint["load"]["rps"] / mean, 3)
    else:
        results["problems"].append("the floor was not measured: no ratios")


def memory_of(server: Server) -> dict:
    peaks = {str(pid): round(kb / 1024, 1) for pid, kb in sorted(server.peaks_kb.items())}
    return {
        "workers_mb": peaks,
        "worker_peak_mb": max(peaks.values()) if peaks else None,
        "database": server.dataset["database"],
    }


def run_growth(results: dict, settings: Settings, regenerate: bool) -> None:
    growth = results["growth"] = {"presets": {}, "runs": []}
    ranking = next((e for e in results.get("endpoints", []) if e["name"] == "ranking API"), None)
    for preset in PRESETS:
        entry = growth["presets"][preset] = {}
        reuse = (
            preset == "large"
            and results.get("dataset", {}).get("preset") == "large"
            and ranking is not None
            and ranking.get("load")
        )
        if reuse:
            entry.update(
                database=results["dataset"]["database"],
                goal=results["parameters"]["goal"]["slug"],
                rated_compounds=results["parameters"]["goal"]["rated_compounds"],
                other_cpu=ranking.get("cpu", {}).get("other"),
                path=ranking["path"],
                p50_ms=ranking["load"]["latency_ms"]["p50"],
                requests=ranking["load"]["requests"],
                source="the endpoint table's ranking API",
            )
            continue
        dataset = ensure_dataset(preset, settings, regenerate)
        parameters = pick_parameters(dataset["url"])
        goal = parameters["goal"]
        endpoint = next(e for e in endpoints_for(parameters) if e.name == "ranking API")
        entry.update(
            database=dataset["database"],
            goal=goal["slug"],
            rated_compounds=goal["rated_compounds"],
            path=endpoint.path,
        )
        with Server(dataset) as server:
            measured = measure(server, endpoint, settings)
        measured["name"] = f"ranking API at {preset}"
        growth["runs"].append(measured)
        entry["other_cpu"] = measured.get("cpu", {}).get("other")
        if not measured.get("load") or not measured["load"]["requests"]:
            entry["error"] = measured["precheck"].get("error") or "no request completed"
            continue
        entry.update(
            p50_ms=measured["load"]["latency_ms"]["p50"], requests=measured["load"]["requests"]
        )
    small = growth["presets"]["small"].get("p50_ms")
    large = growth["presets"]["large"].get("p50_ms")
    growth["large_over_small"] = round(large / small, 2) if small and large else None


# --- the cold mix --------------------------------------------------------------------------

# HTML bodies gzip-compressed per class (level 6, like nginx): the heaviest-looking URLs and a
# seeded random sample of the rest.
GZIP_HEAVIEST = 10
GZIP_SAMPLE = 20


def wrk_urls(
    port: int, url_file: Path, urls: list[coldmix.Url], seconds: int, settings: Settings
) -> tuple[dict, list[coldmix.Answer]]:
    """wrk over a URL file, each URL once (bench/wrk_urls.lua), for at most `seconds`, ended
    as soon as every thread has had all its URLs answered: the summary, and every answer."""
    # One connection per thread: the script then times each answer itself (see its notes).
    threads = max(1, min(settings.connections, len(urls)))
    answers_file = url_file.with_suffix(".answers.tsv")
    command = [
        "wrk",
        f"--threads={threads}",
        f"--connections={threads}",
        f"--duration={seconds}s",
        f"--timeout={settings.timeout}s",
        f"--script={COLD_LUA_SCRIPT}",
        *(f"--header={name}: {value}" for name, value in PROXY_HEADERS.items()),
        f"http://127.0.0.1:{port}/",
        "--",
        str(url_file),
        str(threads),
        str(answers_file),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines, finished = [], 0
    try:
        for line in process.stdout:
            lines.append(line)
            if line.startswith("BENCH_THREAD_DONE"):
                finished += 1
                if finished == threads:  # wrk would otherwise sleep out its whole duration
                    process.send_signal(signal.SIGINT)
        stderr = process.stderr.read()
        process.wait(timeout=settings.timeout + 60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    line = next((ln for ln in lines if ln.startswith("BENCH_RESULT ")), None)
    if process.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({process.returncode}): {''.join(lines)}{stderr}")
    raw = json.loads(line.removeprefix("BENCH_RESULT "))
    answers = coldmix.read_answers(answers_file)
    # The URLs' own time (first request sent to last answer), not wrk's, which is longer when
    # it was ended early.
    seconds_run = (raw["elapsed_us"] or raw["duration_us"]) / 1e6
    load = {
        "urls": len(urls),
        "sent": sum(raw["sent"]),
        "fillers": raw["fillers"],  # /robots.txt asked by threads done before the others
        "threads": threads,
        "exhausted": len(answers) >= len(urls),
        **coldmix.summarise(answers, urls, seconds_run),
        # wrk's own "status" error counts 4xx/5xx, already in the status classes: left out.
        "errors": {k: v for k, v in raw["errors"].items() if k != "status"},
    }
    return load, answers


def worker_boots(server: Server) -> int:
    """gunicorn's "Booting worker" lines so far: the first workers, then each one recycled
    (max_requests in config/gunicorn.py) or restarted."""
    text = server.log_path.read_text(errors="replace") if server.log_path.exists() else ""
    return sum("Booting worker" in line for line in text.splitlines())


def cold_run(
    server: Server,
    redis_server: RedisServer,
    name: str,
    urls: list[coldmix.Url],
    url_file: Path,
    seconds: int,
    settings: Settings,
    flush: bool = True,
    by_class: bool = False,
) -> dict:
    """One wrk run over distinct URLs, from an empty cache unless `flush` is False."""
    result: dict = {"name": name, "file": str(url_file.relative_to(ROOT)), "flushed": flush}
    if not urls:
        result["error"] = "no URL of this class could be drawn from the data"
        say(f"!! cold mix {name}: no URLs")
        return result
    if flush:
        redis_server.client().flushdb()
    result["quiet_wait_seconds"] = server.wait_quiet(settings.quiet_wait)
    boots = worker_boots(server)
    mark = server.cpu_mark()
    log_start = server.log_size()
    result["load"], answers = wrk_urls(server.port, url_file, urls, seconds, settings)
    load = result["load"]
    result["cpu"] = cpu = server.cpu_since(mark)
    result["drain_seconds"] = round(server.wait_idle(), 1)
    # The time each request took in its worker, from gunicorn's access log: unlike wrk's
    # latency it leaves out the wait in the listen backlog, which depends on how many URLs
    # a class has (a class of two URLs at small never queues behind 8 connections).
    times = server.request_times_since(log_start, leaving_out=[FILLER_PATH])
    result["server_ms"] = {
        "requests": len(times),
        "p50": round(statistics.median(times), 2) if times else None,
    }
    result["worker_boots"] = worker_boots(server) - boots
    if by_class:
        load["by_class"] = coldmix.summarise_by_class(answers, urls, load["seconds"])
    result["answered"] = [urls[answer.line] for answer in answers]
    latency = load["latency_ms"]
    say(
        f"-- cold {name}: {load['rps']:.1f} req/s, p50 {latency.get('p50', 0):.1f} ms, p95 "
        f"{latency.get('p95', 0):.1f} ms, {load['requests']} of {len(urls)} URLs "
        f"({'all' if load['exhausted'] else 'duration ended'}), {load['non2xx']} non-2xx, "
        f"hits {load['cache']['hit']}, workers booted {result['worker_boots']}; CPU: app+db "
        f"{cpu['app_and_db']:.0%}, other processes {cpu['other']:.0%}"
    )
    return result


def heaviness(url: coldmix.Url) -> tuple:
    """How large a page looks from its URL: more goals, more entries, every study."""
    query = url.path.partition("?")[2]
    goals = query.count("goals=")
    limit = max(
        [int(v) for k, _, v in (p.partition("=") for p in query.split("&")) if k == "limit"] or [0]
    )
    return (goals * coldmix.DEFAULT_LIMIT + limit, "studies=all" in query, url.path)


def compressed_sizes(
    server: Server,
    kind: str,
    urls: list[coldmix.Url],
    largest_seen: dict | None,
    seed: int,
    settings: Settings,
) -> dict:
    """The largest of a sample of a class's HTML bodies, gzip-compressed at level 6: the
    largest body its cold run saw, the heaviest-looking URLs and a seeded random sample."""
    heaviest = sorted(urls, key=heaviness, reverse=True)[:GZIP_HEAVIEST]
    if largest_seen:
        heaviest.insert(0, coldmix.Url(kind, largest_seen["path"], largest_seen["htmx"]))
    rest = [url for url in urls if url not in heaviest]
    sample = heaviest + random.Random(f"{seed}:gzip:{kind}").sample(
        rest, min(GZIP_SAMPLE, len(rest))
    )
    largest: dict = {"gzip_bytes": 0}
    over = 0
    for url in sample:
        headers = {"HX-Request": "true"} if url.htmx else {}
        status, body, _ = fetch(server.port, url.path, timeout=settings.timeout, headers=headers)
        packed = len(gzip.compress(body, compresslevel=6))
        over += packed > report.HTML_GZIP_LIMIT_BYTES
        if packed > largest["gzip_bytes"]:
            largest = {
                "gzip_bytes": packed,
                "bytes": len(body),
                "path": url.path,
                "htmx": url.htmx,
                "status": status,
            }
    return {"sampled": len(sample), "over_limit": over, "largest": largest}


def run_cold(results: dict, settings: Settings, preset: str, regenerate: bool) -> dict:
    """The cold mix at one preset: every class alone from an empty cache, then the classes
    mixed from an empty cache, then the mixed run's URLs again with the cache warm; the floor
    before and after; gunicorn with config/gunicorn.py and its own Redis, as in production."""
    dataset = ensure_dataset(preset, settings, regenerate)
    with psycopg.connect(dataset["url"]) as conn, conn.cursor() as cursor:
        catalogue = coldmix.read_catalogue(cursor)
    mix = coldmix.generate(catalogue, settings.seed, settings.cold_urls)
    mixed = coldmix.interleave(mix, settings.seed)
    folder = RESULTS_DIR / f"cold-{preset}"
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for kind, urls in mix.items():
        files[kind] = folder / f"{kind.replace(' ', '-')}.txt"
        coldmix.write_urls(urls, files[kind])
    coldmix.write_urls(mixed, folder / "mixed.txt")
    entry: dict = {
        "preset": preset,
        "database": dataset["database"],
        "sizes": dataset.get("sizes"),
        "urls": {kind: len(urls) for kind, urls in mix.items()},
        "url_files": str(folder.relative_to(ROOT)),
        "classes": [],
    }
    say(f"== cold mix at {preset}: {len(mixed):,} distinct URLs ({folder.relative_to(ROOT)})")
    floor = Endpoint("floor", FLOOR_PATH, "ok", is_floor=True)
    redis_server = RedisServer(settings.redis_mb, name=f"bench-{preset}")
    server = Server(
        dataset,
        timeout=None,  # production's, from the config file
        extra_args=["--config=config/gunicorn.py"],
        env={"REDIS_URL": redis_server.url},
    )
    server.log_path = RESULTS_DIR / f"gunicorn-{dataset['database']}-cold.log"
    with redis_server, server:
        entry["worker_boots_at_start"] = worker_boots(server)
        floors = [measure(server, floor, settings)]
        for kind, urls in mix.items():
            run = cold_run(
                server, redis_server, kind, urls, files[kind], settings.cold_duration, settings
            )
            run.pop("answered", None)
            entry["classes"].append(run)
        # The floor again just before and after the mixed run: a shared machine's speed
        # drifts within a run (by up to 40% seen here), and the target reads the mixed run.
        beside_mixed = [measure(server, floor, settings)]
        entry["mixed"] = cold_run(
            server,
            redis_server,
            "mixed",
            mixed,
            folder / "mixed.txt",
            settings.mix_duration,
            settings,
            by_class=True,
        )
        beside_mixed.append(measure(server, floor, settings))
        # The replay: the URLs the mixed run had answered, again, the cache as it left it.
        replay = entry["mixed"].pop("answered", [])
        coldmix.write_urls(replay, folder / "replay.txt")
        entry["replay"] = cold_run(
            server,
            redis_server,
            "replay",
            replay,
            folder / "replay.txt",
            settings.mix_duration,
            settings,
            flush=False,
            by_class=True,
        )
        entry["replay"].pop("answered", None)
        entry["redis"] = redis_server.stats()
        floors.append(measure(server, floor, settings))
        say("-- gzip sizes of sampled HTML pages")
        largest_seen = {
            run["name"]: run["load"].get("largest") for run in entry["classes"] if run.get("load")
        }
        entry["gzip"] = {
            kind: compressed_sizes(
                server, kind, mix[kind], largest_seen.get(kind), settings.seed, settings
            )
            for kind in coldmix.HTML_CLASSES
            if mix.get(kind)
        }
        entry["worker_boots_total"] = worker_boots(server) - entry["worker_boots_at_start"]
        entry["gunicorn_log"] = str(server.log_path.relative_to(ROOT))
        entry["memory"] = memory_of(server)
    entry["floor_runs"] = floors
    entry["floor_beside_mixed_runs"] = beside_mixed
    if not floor_ratios(entry, floors, beside_mixed):
        results["problems"].append(f"cold mix at {preset}: the floor was not measured")
    return entry


def floor_summary(rates: list[float]) -> dict:
    """The floor's req/s measured before and after (one or two measurements): both, their
    mean, and how far the second drifted from the first (None without two, or a first of 0)."""
    return {
        "before": rates[0],
        "after": rates[-1],
        "mean": round(sum(rates) / len(rates), 2),
        "drift": round(rates[-1] / rates[0] - 1, 3) if len(rates) == 2 and rates[0] else None,
    }


def floor_ratios(entry: dict, floors: list[dict], beside_mixed: list[dict]) -> bool:
    """Each run's throughput as a share of the floor's: the mean of the run's first and last
    floors; the mixed run's, the mean of the floors measured just before and after it (its
    ratio to the run's floors kept as ratio_to_run_floor). False when no floor was measured."""
    rates = [f["load"]["rps"] for f in floors if f.get("load")]
    if not rates:
        return False
    entry["floor"] = floor_summary(rates)
    mean = entry["floor"]["mean"]
    for run in [*entry["classes"], entry["mixed"], entry["replay"]]:
        if run.get("load") and mean:
            run["ratio_to_floor"] = round(run["load"]["rps"] / mean, 4)
    beside = [f["load"]["rps"] for f in beside_mixed if f.get("load")]
    mixed = entry["mixed"]
    if len(beside) == 2 and all(beside) and mixed.get("load"):
        beside_mean = sum(beside) / 2
        entry["floor_beside_mixed"] = {
            "before": beside[0],
            "after": beside[1],
            "mean": round(beside_mean, 2),
        }
        mixed["ratio_to_run_floor"] = mixed.get("ratio_to_floor")
        mixed["ratio_to_floor"] = round(mixed["load"]["rps"] / beside_mean, 4)
    return True


def run_cold_mix(results: dict, settings: Settings, preset: str, regenerate: bool) -> None:
    """The cold mix at `preset`, and at small too for the growth of each class's p50."""
    cold = results["cold"] = {"main": preset, "presets": {}}
    presets = [preset] if preset == "small" else ["small", preset]
    for name in presets:
        cold["presets"][name] = run_cold(results, settings, name, regenerate)
    if preset == "small":
        return
    cold["growth"] = cold_growth(cold["presets"]["small"], cold["presets"][preset], preset)


def cold_growth(small: dict, large: dict, preset: str) -> dict:
    """Each class's cold p50 at `preset` over small's: wrk's (what a visitor waits, the listen
    backlog included) and the workers' own (gunicorn's access log), each as measured and in
    units of its own server's floor (p50 x the floor's req/s); the target reads the workers'
    in floor units. The two presets run minutes apart, on separate servers; a shared
    machine's speed drifts between them (the floor itself moved 14% within one run), and the
    floor measured beside each cancels it. wrk's p50 grows with the backlog too, and the
    backlog with the class's URLs: a class of fewer URLs than connections (the A-Z index at
    small has two) never queues, the same class at large always does."""
    floors = [entry.get("floor", {}).get("mean") for entry in (small, large)]
    machine_speed = floors[1] / floors[0] if all(floors) else None

    def in_floor_units(ratio: float | None) -> float | None:
        return round(ratio * machine_speed, 2) if ratio is not None and machine_speed else None

    growth = {}
    by_name = {c["name"]: c for c in small["classes"]}
    for run in large["classes"]:
        runs = (by_name.get(run["name"], {}), run)
        p50s = [
            r["load"]["latency_ms"]["p50"] if r.get("load") and r["load"]["requests"] else None
            for r in runs
        ]
        server_p50s = [(r.get("server_ms") or {}).get("p50") for r in runs]
        ratio = p50s[1] / p50s[0] if all(p50s) else None
        server_ratio = server_p50s[1] / server_p50s[0] if all(server_p50s) else None
        growth[run["name"]] = {
            "small_p50_ms": p50s[0],
            "large_p50_ms": p50s[1],
            "preset": preset,
            "ratio": round(ratio, 2) if ratio is not None else None,
            "floor_adjusted_ratio": in_floor_units(ratio),
            "small_server_p50_ms": server_p50s[0],
            "large_server_p50_ms": server_p50s[1],
            "server_ratio": round(server_ratio, 2) if server_ratio is not None else None,
            "server_floor_adjusted_ratio": in_floor_units(server_ratio),
        }
    return growth


# --- the run -------------------------------------------------------------------------------


def machine(settings: Settings) -> dict:
    def output(*command: str) -> str:
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        return (done.stdout or done.stderr).strip()

    with psycopg.connect(f"{settings.pg}/postgres") as conn:
        postgres = conn.execute("SHOW server_version").fetchone()[0]
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "postgres": postgres,
        "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
        "wrk": output("wrk", "--version").splitlines()[0],
        # Settings the app inherits from this environment, besides the ones set here.
        "inherited_env": {
            k: v
            for k, v in os.environ.items()
            if k.startswith(("DJANGO_", "DATABASE_", "REDIS_")) and "SECRET" not in k
        },
        "git_commit": output("git", "rev-parse", "--short", "HEAD"),
        "git_dirty": bool(output("git", "status", "--porcelain")),
    }


def save(results: dict, latest: bool) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = results["started"].replace(":", "").replace("-", "")
    path = RESULTS_DIR / f"bench-{stamp}.json"
    text = json.dumps(results, indent=2) + "\n"
    path.write_text(text, encoding="utf-8")
    if latest:
        (RESULTS_DIR / "latest.json").write_text(text, encoding="utf-8")
    return path


def run_proxy(results: dict, settings: Settings, preset: str, regenerate: bool) -> None:
    """The endpoint table's pages straight at gunicorn and through nginx's proxy_cache
    (bench/proxy.py): what an HTTP cache in front adds, as a ratio."""
    dataset = ensure_dataset(preset, settings, regenerate)
    parameters = pick_parameters(dataset["url"])
    paths = {e.name: e.path for e in endpoints_for(parameters) if not e.is_floor}
    results["proxy"] = proxy.measure_proxy(
        dataset, paths, lambda port, path: wrk(port, path, settings.duration, settings)
    )
    results["proxy"]["preset"] = preset


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 s per endpoint: a smoke run")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--endpoints", action="store_true", help="only the endpoint table")
    only.add_argument("--growth", action="store_true", help="only the growth measurement")
    only.add_argument(
        "--cold", action="store_true", help="only the cold mix (at --preset, and at small)"
    )
    only.add_argument(
        "--proxy", action="store_true", help="only the caching-proxy scenario (nginx)"
    )
    parser.add_argument(
        "--preset",
        choices=PRESETS,
        default="large",
        help="data for the endpoint table and the cold mix",
    )
    parser.add_argument(
        "--regenerate", action="store_true", help="rebuild the bench databases used"
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)

    stop_on_signals()
    started = datetime.now(UTC)
    results: dict = {
        "started": started.isoformat(timespec="seconds"),
        "problems": [],  # the run is not valid: exit status 1
        "warnings": [],  # the numbers deserve doubt
    }
    complete = False
    try:
        settings = Settings.from_env(args.quick)
        results["settings"] = settings.public()
        if shutil.which("wrk") is None:
            raise BenchError("wrk is not installed: apt-get install -y wrk")
        try:
            results["machine"] = machine(settings)
        except psycopg.OperationalError as exc:
            raise BenchError(f"PostgreSQL does not answer at {settings.pg}: {exc}") from exc
        RESULTS_DIR.mkdir(exist_ok=True)
        say("== collectstatic")
        manage("collectstatic", "--no-input", "-v0", database_url=f"{settings.pg}/postgres")
        everything = not (args.endpoints or args.growth or args.cold or args.proxy)
        if everything or args.endpoints:
            run_endpoints(results, settings, args.preset, args.regenerate)
        if everything or args.growth:
            run_growth(results, settings, args.regenerate)
        if everything or args.cold:
            if shutil.which("redis-server") is None:
                raise BenchError("the cold mix needs redis-server: apt-get install redis-server")
            run_cold_mix(results, settings, args.preset, args.regenerate)
        if everything or args.proxy:
            run_proxy(results, settings, args.preset, args.regenerate)
        complete = True
    except KeyboardInterrupt:
        say("!! interrupted; gunicorn was stopped")
        results["problems"].append("interrupted")
        save(results, latest=False)
        return 130
    except (BenchError, subprocess.CalledProcessError, psycopg.Error) as exc:
        say(f"!! the benchmark could not run: {exc}")
        results["problems"].append(str(exc))
        path = save(results, latest=False)
        say(f"   partial results: {path.relative_to(ROOT)}")
        return 2
    finally:
        results["seconds"] = round((datetime.now(UTC) - started).total_seconds(), 1)
    cold_runs = [
        {**run, "name": f"cold {run['name']} at {preset}"}
        for preset, entry in results.get("cold", {}).get("presets", {}).items()
        for run in [*entry["classes"], entry["mixed"], entry["replay"]]
    ]
    busy = [
        f"{e['name']} ({e['cpu']['other']:.0%})"
        for e in [
            *results.get("endpoints", []),
            *results.get("growth", {}).get("runs", []),
            *cold_runs,
        ]
        if e.get("cpu", {}).get("other", 0) > OTHER_CPU_LIMIT
    ]
    if busy:
        results["warnings"].append(
            "other processes used more than "
            f"{OTHER_CPU_LIMIT:.0%} of the machine's CPU during: {', '.join(busy)}; "
            "those numbers are too low; rerun on a quiet machine"
        )
    for endpoint in results.get("endpoints", []):
        if not endpoint["precheck"]["ok"]:
            results["problems"].append(
                f"{endpoint['name']} failed its pre-check: {endpoint['precheck']['error']}"
            )
    results["targets"] = report.evaluate(results)
    results["passed"] = (
        complete and not results["problems"] and all(t["pass"] for t in results["targets"])
    )
    path = save(results, latest=True)
    print(report.render(results))
    print(f"\nSaved {path.relative_to(ROOT)} and bench-results/latest.json")
    return 0 if results["passed"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
