"""The load test's checks and its one plain-text table, from the results bench/loadtest.py
gathers.

Pure functions over the results dict (the same dict that is written as JSON), so a saved run
can be rendered again: `python bench/loadreport.py bench-results/loadtest-<time>.json`.
"""

import json
import math
import sys
from collections import defaultdict
from pathlib import Path

from common import OTHER_CPU_LIMIT
from report import _number, _table

TOTAL = "all requests"


def percentile(ordered: list[float], q: float) -> float | None:
    """The nearest-rank percentile of an ascending list: the smallest value with at least q%
    of the values at or below it (p100 is the maximum)."""
    if not ordered:
        return None
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def latency(ms: list[float]) -> dict:
    ordered = sorted(ms)
    return {
        "p50": percentile(ordered, 50),
        "p95": percentile(ordered, 95),
        "p99": percentile(ordered, 99),
        "max": ordered[-1] if ordered else None,
        "mean": sum(ordered) / len(ordered) if ordered else None,
    }


def summarize(samples: list[tuple]) -> dict:
    """Per endpoint type and over all requests: counts by status class, answers other than
    the one expected, requests without an answer, and latency percentiles of every answered
    request (exact: computed from all of them, not from a histogram or samples).

    A sample is (endpoint type, status or None, milliseconds, error or None, expected status).
    """
    groups: dict[str, list[tuple]] = defaultdict(list)
    for sample in samples:
        groups[sample[0]].append(sample)
    groups[TOTAL] = list(samples)
    out = {}
    for kind, rows in groups.items():
        classes = {"2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0}
        statuses: dict[str, int] = defaultdict(int)
        errors: dict[str, int] = defaultdict(int)
        unexpected = 0
        for _, status, _, error, expected in rows:
            if status is None:
                errors[error or "unknown"] += 1
                continue
            statuses[str(status)] += 1
            key = f"{status // 100}xx"
            if key in classes:
                classes[key] += 1
            if status != expected:
                unexpected += 1
        out[kind] = {
            "requests": len(rows),
            "answered": len(rows) - sum(errors.values()),
            **classes,
            "statuses": dict(sorted(statuses.items())),
            "unexpected": unexpected,
            "no_answer": sum(errors.values()),
            "errors": dict(errors),
            "latency_ms": latency([ms for _, status, ms, _, _ in rows if status is not None]),
        }
    return out


def _check(name: str, value, passed: bool) -> dict:
    return {"name": name, "value": value, "pass": bool(passed)}


def evaluate(results: dict) -> list[dict]:
    """Every check of the run, each with what was measured and whether it passed."""
    load = results.get("load") or {}
    total = load.get("by_type", {}).get(TOTAL, {})
    gunicorn = results.get("gunicorn") or {}
    access_5xx = gunicorn.get("access_log", {}).get("5xx", 0)
    checks = [
        _check(
            "5xx responses (client; gunicorn access log)",
            f"{total.get('5xx', '-')}; {access_5xx}",
            total and total["5xx"] == 0 and access_5xx == 0,
        ),
        _check(
            "other unexpected answers (4xx, a 200 where a 302 was due...)",
            total["unexpected"] - total["5xx"] if total else "-",
            total and total["unexpected"] - total["5xx"] == 0,
        ),
        _check(
            "requests without an answer (timeouts, resets)",
            total.get("no_answer", "-"),
            total and total["no_answer"] == 0,
        ),
    ]
    sent = load.get("clicks_sent", {})
    counted = results.get("clicks_counted", {})
    sent_total, counted_total = sum(sent.values()), sum(counted.values())
    per_offer_equal = bool(counted) and all(sent.get(k, 0) == v for k, v in counted.items())
    checks.append(
        _check(
            "clicks sent (302) = clicks counted (OfferClicks delta), every offer",
            f"{sent_total:,} = {counted_total:,}" if counted else "-",
            per_offer_equal
            and sent_total == counted_total > 0
            and load.get("clicks_unanswered") == 0
            and load.get("clicks_wrong_location") == 0,
        )
    )
    editor = load.get("editor") or {}
    saves = editor.get("saves", {})
    checks.append(
        _check(
            "editor saves through the admin: made / failed",
            f"{editor.get('saves_made', 0)} / {editor.get('saves_failed', 0)}",
            editor
            and editor["saves_failed"] == 0
            and not editor["failures"]
            and len(saves) == 4
            and all(s["made"] > 0 for s in saves.values()),
        )
    )
    readbacks = editor.get("readbacks", {})
    checks.append(
        _check(
            "public pages read back right after each save showed it (stale)",
            f"{readbacks.get('checked', 0) - readbacks.get('stale', 0)} of "
            f"{readbacks.get('checked', 0)} ({readbacks.get('stale', 0)})",
            readbacks.get("checked", 0) > 0 and readbacks.get("stale") == 0,
        )
    )
    fresh = results.get("fresh") or {}
    history = fresh.get("history", {})
    made = {kind: s["made"] for kind, s in saves.items()}
    pairs = [
        ("rating changed", "rating tier"),
        ("finding added", "finding added (inline)"),
        ("finding changed", "finding edited"),
        ("finding deleted", "finding deleted (inline)"),
    ]
    checks.append(
        _check(
            "change history rows by the editor = saves",
            " ".join(f"{history.get(h, '-')}/{made.get(s, 0)}" for h, s in pairs),
            history and all(history[h] == made.get(s, 0) for h, s in pairs),
        )
    )
    after = (results.get("ranking_after") or {}).get("entry") or {}
    target = fresh.get("target") or {}
    initial = (results.get("plan") or {}).get("editor", {}).get("initial_tier")
    last = editor.get("last_tier")
    checks.append(
        _check(
            "ranking API after the edits: tier set last (was)",
            f"Tier {after.get('tier', '-')} (Tier {initial})",
            after and last is not None and after["tier"] == last != initial,
        )
    )
    checks.append(
        _check(
            "ranking API score = fresh stacks.refresh.score_rows",
            f"{_number(after.get('score'), 2)} = {_number(target.get('score'), 2)}",
            after
            and target
            and abs(after["score"] - target["score"]) < 1e-6
            and after["group"] == target["group"]
            and target["tier_number"] == last,
        )
    )
    checks.append(
        _check(
            "precomputed GoalScore rows differing from a fresh computation",
            f"{fresh.get('difference_count', '-')} of {fresh.get('pairs', '-')}",
            fresh and fresh["difference_count"] == 0 and fresh["pairs"] == fresh["stored"],
        )
    )
    checks += hardening_checks(results)
    checks.append(
        _check(
            "gunicorn log: tracebacks, errors, worker timeouts",
            gunicorn.get("problem_lines", "-"),
            gunicorn and gunicorn["problem_lines"] == 0,
        )
    )
    checks.append(
        _check(
            "load threads crashed / still running at the end",
            f"{len(load.get('crashes', []))} / {load.get('stragglers', '-')}",
            load and load["stragglers"] == 0 and not load["crashes"],
        )
    )
    return checks


# Normal visitors' p95 beside the hostile clients may be at most this many times their p95
# without them (issue 13).
HOSTILE_P95_FACTOR = 2.0
MB = 1024 * 1024
MAX_ENTRY_BYTES = 1024 * 1024  # evidence.cache.MAX_ENTRY_BYTES
RETIRE_INTERVAL = 60  # evidence.cache.RETIRE_INTERVAL, seconds


def _p95(phase: dict) -> float | None:
    return ((phase.get("visitors") or {}).get("latency_ms") or {}).get("p95")


def _mb(value) -> str:
    return "-" if value is None else f"{value / MB:,.1f} MB"


def hardening_checks(results: dict) -> list[dict]:
    """The checks of the hostile phase, the junk probe, the Redis outage and the database
    outage (issue 13); each fails when its part of the run is missing."""
    load = results.get("load") or {}
    phases = load.get("phases") or {}
    baseline, hostile = phases.get("baseline") or {}, phases.get("hostile") or {}
    stopped = phases.get("redis stopped") or {}
    checks = []

    base_p95, hostile_p95 = _p95(baseline), _p95(hostile)
    ratio = hostile_p95 / base_p95 if base_p95 and hostile_p95 is not None else None
    checks.append(
        _check(
            f"visitors' p95 beside the hostile clients <= {HOSTILE_P95_FACTOR:g}x without them",
            f"{_number(hostile_p95)} vs {_number(base_p95)} ms"
            + (f" ({ratio:.2f}x)" if ratio is not None else ""),
            ratio is not None
            and ratio <= HOSTILE_P95_FACTOR
            and hostile.get("junk", {}).get("requests", 0) > 0
            and hostile.get("vendor_saves", 0) > 0,
        )
    )

    probe = load.get("junk_probe") or {}
    pages = probe.get("pages", 0)
    grown = (probe.get("used_memory_after") or 0) - (probe.get("used_memory_before") or 0)
    checks.append(
        _check(
            "junk probe: cache entries per content version <= pages (URLs sent, all new)",
            f"{probe.get('most_entries_per_version', '-')} <= {pages} "
            f"({probe.get('distinct_urls', 0):,} URLs)",
            bool(probe)
            and probe["distinct_urls"] == probe["requests"] > pages > 0
            and probe["answered_200"] == probe["requests"]
            and probe["most_entries_per_version"] <= pages
            and grown <= (probe["new_entries"] + 1) * MAX_ENTRY_BYTES,
        )
    )

    redis_stats = [
        stats
        for phase in (baseline, hostile)
        for stats in (phase.get("redis_before"), phase.get("redis_after"))
        if stats
    ]
    peak = max((s["used_memory_peak"] for s in redis_stats), default=None)
    limit = redis_stats[-1]["maxmemory"] if redis_stats else None
    checks.append(
        _check(
            "Redis memory: peak used_memory <= maxmemory (allkeys-lru)",
            f"{_mb(peak)} <= {_mb(limit)}",
            bool(redis_stats) and limit and peak <= limit,
        )
    )

    versions = hostile.get("new_content_versions")
    editor_saves = hostile.get("editor_saves", 0)
    # The vendor's limit runs on the clock, over the whole span of the hostile slices.
    span = hostile.get("span_seconds", hostile.get("seconds", 0))
    vendor_allowance = math.ceil(span / RETIRE_INTERVAL) + 1
    checks.append(
        _check(
            "cache retirements in the hostile phase <= editor saves + vendor's 1 a minute",
            f"{versions if versions is not None else '-'} <= {editor_saves} + "
            f"{vendor_allowance} ({hostile.get('vendor_saves', 0)} vendor saves)",
            versions is not None
            and hostile.get("vendor_saves", 0) > vendor_allowance
            and versions <= editor_saves + vendor_allowance,
        )
    )

    vendor = load.get("vendor") or {}
    history = (results.get("fresh") or {}).get("vendor_history")
    checks.append(
        _check(
            "vendor saves of its own offer: made / failed (history rows)",
            f"{vendor.get('made', 0)} / {vendor.get('failed', 0)} ({history})",
            vendor.get("made", 0) > 0
            and vendor.get("failed") == 0
            and not vendor.get("failures")
            and history == vendor["made"],
        )
    )
    offer = str(vendor.get("offer_id"))
    sent = (load.get("clicks_sent") or {}).get(offer)
    counted = (results.get("clicks_counted") or {}).get(offer)
    checks.append(
        _check(
            "clicks on the offer the vendor kept saving: sent = counted",
            f"{sent} = {counted}",
            sent is not None and sent == counted and sent > 0,
        )
    )

    visitors = stopped.get("visitors") or {}
    outage_probe = load.get("outage_probe") or {}
    checks.append(
        _check(
            "Redis stopped: visitors' answers 200 / sent (p95); one client alone",
            f"{visitors.get('2xx', 0):,} / {visitors.get('requests', 0):,} "
            f"({_number(_p95(stopped))} ms); "
            f"{outage_probe.get('answered_200', 0)} / {outage_probe.get('requests', 0)}",
            not stopped.get("redis_running", True)
            and visitors.get("requests", 0) > 0
            and visitors["2xx"] == visitors["requests"]
            and outage_probe.get("requests", 0) > 0
            and outage_probe["answered_200"] == outage_probe["requests"],
        )
    )

    def healthz_ok(probes: list[dict], cache: str) -> bool:
        return bool(probes) and all(
            p.get("status") == 200 and p.get("body") == {"database": "ok", "cache": cache}
            for p in probes
        )

    running = [*baseline.get("healthz", []), *hostile.get("healthz", [])]
    before_stop = load.get("healthz_before_redis_stop")
    checks.append(
        _check(
            "/healthz with Redis running: 200, cache ok",
            f"{sum(p.get('status') == 200 for p in running)} of {len(running)}",
            healthz_ok([*running, *([before_stop] if before_stop else [])], "ok"),
        )
    )
    down = stopped.get("healthz", [])
    checks.append(
        _check(
            "/healthz with Redis stopped: 200, cache degraded",
            f"{sum((p.get('body') or {}).get('cache') == 'degraded' for p in down)} of {len(down)}",
            healthz_ok(down, "degraded"),
        )
    )
    recovery = load.get("healthz_after_redis_restart") or []
    checks.append(
        _check(
            "/healthz after Redis started again: cache ok",
            f"after {len(recovery)} probe(s)" if recovery else "-",
            healthz_ok(recovery[-1:], "ok"),
        )
    )
    database = results.get("database_down") or {}
    checks.append(
        _check(
            "/healthz with PostgreSQL unreachable: 503, database unavailable",
            f"{database.get('status', '-')} {json.dumps(database.get('body'))}",
            database.get("status") == 503
            and (database.get("body") or {}).get("database") == "unavailable",
        )
    )
    return checks


def phase_table(results: dict) -> list[str]:
    """One row per slice, in the order they ran, with what the cache held before and after;
    then one row per phase, its slices added up (percentiles over all their requests)."""
    load = results.get("load") or {}
    rows = []

    def row(label: str, phase: dict, redis: bool) -> list[str]:
        visitors = phase.get("visitors") or {}
        lat = visitors.get("latency_ms") or {}
        total = (phase.get("by_type") or {}).get(TOTAL, {})
        before, after = phase.get("redis_before") or {}, phase.get("redis_after") or {}
        if not redis:
            memory = keys = ""
        elif before and after:
            memory = f"{_mb(before.get('used_memory'))} -> {_mb(after.get('used_memory'))}"
            keys = f"{before.get('dbsize', 0):,} -> {after.get('dbsize', 0):,}"
        else:
            memory, keys = "stopped", "-"
        return [
            label,
            f"{phase.get('seconds', 0):.0f}",
            f"{total.get('requests', 0):,}",
            f"{total.get('5xx', 0):,}",
            f"{visitors.get('requests', 0):,}",
            _number(lat.get("p50")),
            _number(lat.get("p95")),
            _number(lat.get("p99")),
            f"{phase.get('junk', {}).get('requests', 0):,}",
            f"{phase.get('vendor_saves', 0):,}",
            f"{phase.get('editor_saves', 0):,}",
            f"{phase.get('new_content_versions', 0):,}" if redis else "",
            memory,
            keys,
            f"{phase.get('cpu', {}).get('other', 0):.0%}",
        ]

    for part in load.get("slices") or []:
        rows.append(row(part.get("slice", part.get("name", "?")), part, redis=True))
    phases = load.get("phases") or {}
    if rows and phases:
        rows.append(["--"] + [""] * 14)
    for name, phase in phases.items():
        slices = phase.get("slices", 1)
        label = f"{name}, all {slices} slices" if slices > 1 else f"{name}, all"
        rows.append(row(label, phase, redis=False))
    headers = [
        "slice / phase",
        "s",
        "requests",
        "5xx",
        "visitor reqs",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "junk reqs",
        "vendor saves",
        "editor saves",
        "new versions",
        "Redis used_memory",
        "Redis DBSIZE",
        "other CPU",
    ]
    return _table(headers, rows, right=set(range(1, 15)))


def render(results: dict) -> str:
    settings = results["settings"]
    machine = results.get("machine", {})
    dataset = results.get("dataset", {})
    load = results.get("load", {})
    sizes = dataset.get("sizes", {})
    out = [
        f"Evidence Stack Builder load test, {results['started']}"
        + (" (QUICK: smoke run)" if settings["quick"] else ""),
        f"{load.get('seconds', '-')} s in three phases ({settings['duration']} s baseline and "
        f"{settings['duration']} s hostile, alternating in {settings.get('slices', 1)} slices "
        f"each, then {settings.get('outage', '-')} s with Redis stopped): "
        f"{settings['visitors']} visitors, {settings['clickers']} "
        f"click loops on {settings['offers']} offers, 1 admin editor in each; "
        f"{settings.get('junk_clients', '-')} junk-parameter clients and 1 vendor re-saving "
        "its offer in the hostile phase; gunicorn "
        f"{settings['workers']} {settings['worker_class']} workers (config/gunicorn.py), "
        f"PostgreSQL {machine.get('postgres', '?')}, its own redis-server "
        f"({settings.get('redis_mb', '-')} MB, allkeys-lru); {machine.get('cpus', '?')} CPUs, "
        f"{machine.get('memory_gb', '?')} GB, shared by the load, gunicorn and PostgreSQL",
        f"Data: {dataset.get('database', '?')} = demo + small synthetic preset "
        f"({sizes.get('compound', 0):,} compounds, {sizes.get('goal', 0):,} goals, "
        f"{sizes.get('study', 0):,} studies, {sizes.get('finding', 0):,} findings, "
        f"{sizes.get('offer', 0):,} offers), fresh this run",
        "",
    ]
    by_type = load.get("by_type", {})
    if by_type:
        rows = []
        kinds = sorted(k for k in by_type if k != "all requests")
        for kind in [*kinds, TOTAL]:
            entry = by_type[kind]
            lat = entry["latency_ms"]
            rows.append(
                [
                    kind,
                    f"{entry['requests']:,}",
                    f"{entry['2xx']:,}",
                    f"{entry['3xx']:,}",
                    f"{entry['4xx']:,}",
                    f"{entry['5xx']:,}",
                    f"{entry['no_answer']:,}",
                    _number(lat["p50"]),
                    _number(lat["p95"]),
                    _number(lat["p99"]),
                    _number(lat["max"]),
                ]
            )
        headers = [
            "endpoint type",
            "requests",
            "2xx",
            "3xx",
            "4xx",
            "5xx",
            "no answer",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "max ms",
        ]
        table = _table(headers, rows, right=set(range(1, 11)))
        out += [*table[:-1], table[1], table[-1]]  # a rule above the total
        total = by_type[TOTAL]
        seconds = load.get("seconds") or 0
        out.append("")
        out.append(
            f"Served {total['answered']:,} requests in {seconds} s "
            f"({total['answered'] / seconds if seconds else 0:,.1f}/s); percentiles over every "
            "answered request, timed by the client from connect to the last byte"
        )
        cpu = load.get("cpu") or {}
        if cpu:
            out.append(
                f"CPU of the machine: app+db {cpu['app_and_db']:.0%}, load generator "
                f"{cpu['harness']:.0%}, other processes {cpu['other']:.0%}, idle {cpu['idle']:.0%}"
            )
        gunicorn = results.get("gunicorn") or {}
        if gunicorn:
            access = ", ".join(f"{k} {v:,}" for k, v in gunicorn.get("access_log", {}).items())
            out.append(
                f"gunicorn access log: {access or '-'}; worker boots "
                f"{gunicorn.get('worker_boots', '-')} ({settings['workers']} at start, any more "
                "replaced a recycled or lost worker); "
                f"worker peak RSS {_number((results.get('memory') or {}).get('worker_peak_mb'), 0)}"
                " MB"
            )
        out += [
            "",
            "By slice, in the order they ran, then by phase (p50/p95/p99: the normal visitors' "
            "requests only; new versions: content versions that appeared among the cache keys, "
            "each a retirement of every cached page):",
        ]
        out += phase_table(results)
        probe = load.get("junk_probe") or {}
        if probe:
            out.append(
                f"Junk probe, nothing else running: {probe['distinct_urls']:,} distinct URLs "
                f"over {probe['pages']} pages added {probe['new_entries']} cache entries in "
                f"{probe['versions']} content version(s); Redis used_memory "
                f"{_mb(probe['used_memory_before'])} -> {_mb(probe['used_memory_after'])}, "
                f"DBSIZE {probe['dbsize_before']:,} -> {probe['dbsize_after']:,}"
            )
        outage = load.get("outage_probe") or {}
        if probe and outage:
            cached, rendered = probe.get("latency_ms") or {}, outage.get("latency_ms") or {}
            out.append(
                f"One client alone over those pages, one request at a time: p50 "
                f"{_number(cached.get('p50'))} ms, p95 {_number(cached.get('p95'))} ms with "
                f"Redis ({probe['requests']} requests, cached but for the first of each page); "
                f"p50 {_number(rendered.get('p50'))} ms, p95 {_number(rendered.get('p95'))} ms "
                f"with Redis stopped ({outage['requests']} requests, every one rendered)"
            )
        database = results.get("database_down") or {}
        if database:
            out.append(
                f"PostgreSQL unreachable (a second gunicorn, DATABASE_URL on closed port "
                f"{database.get('database_port')}): /healthz {database.get('status')} "
                f"{json.dumps(database.get('body'))}"
            )
        editor = load.get("editor") or {}
        if editor:
            kinds_made = ", ".join(
                f"{kind} {s['made']}" + (f" ({s['failed']} failed)" if s["failed"] else "")
                for kind, s in editor.get("saves", {}).items()
            )
            out.append(f"Editor: {editor.get('cycles', 0)} cycles; saves: {kinds_made or '-'}")
        out.append("")

    checks = results.get("checks", [])
    rows = [[c["name"], str(c["value"]), "PASS" if c["pass"] else "FAIL"] for c in checks]
    out += _table(["check", "measured", "result"], rows, right={1})
    out.append("")
    passed = sum(c["pass"] for c in checks)
    out.append(f"{passed} of {len(checks)} checks passed.")
    other = (load.get("cpu") or {}).get("other", 0)
    if other > OTHER_CPU_LIMIT:
        out.append(
            f"WARNING: other processes used {other:.0%} of the machine during the load; the "
            "throughput and latencies are the machine's, shared (the checks still hold)"
        )
    for surprise in load.get("surprises", [])[:5]:
        out.append(
            f"  surprise: {surprise['kind']} {surprise['path']} -> {surprise['status']} "
            f"at {surprise['at_second']} s: {surprise['detail'][:160]!r}"
        )
    for failure in (load.get("editor") or {}).get("failures", [])[:5]:
        out.append(f"  editor: {failure}")
    for detail in (load.get("editor") or {}).get("readbacks", {}).get("details", [])[:5]:
        out.append(f"  stale read-back: {detail}")
    for difference in (results.get("fresh") or {}).get("differences", [])[:5]:
        out.append(f"  score difference: {difference}")
    for crash in load.get("crashes", [])[:2]:
        out.append("  harness thread crashed:")
        out += [f"    {line}" for line in crash.splitlines()]
    first = (results.get("gunicorn") or {}).get("first_problem")
    if first:
        out.append("  first problem in the gunicorn log:")
        out += [f"    {line}" for line in first.splitlines()[:40]]
    for problem in results.get("problems", []):
        out.append(f"PROBLEM: {problem}")
    return "\n".join(out)


if __name__ == "__main__":
    print(render(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))))
