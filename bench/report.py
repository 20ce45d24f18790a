"""The benchmark's targets and its one plain-text table, from the results bench/run.py gathers.

Pure functions over the results dict (the same dict that is written as JSON), so a saved
bench-results/*.json can be rendered again: `python bench/report.py bench-results/latest.json`.
"""

import json
import sys
from pathlib import Path

from common import FLOOR_PATH

P95_LIMIT_MS = 100.0
RATIO_TO_FLOOR_MIN = 0.40
GROWTH_MAX = 2.0
WORKER_RSS_LIMIT_MB = 250.0
# Fewer completed requests than this and the percentiles say little; the table says so.
FEW_SAMPLES = 30
# The cold mix (distinct URLs, each once, from an empty cache; bench/coldmix.py).
COLD_MIX_MIN = 0.05  # the mixed run's throughput, as a share of the floor's
COLD_CLASS_MIN = 0.02  # each class alone
REPLAY_MIN = 0.30  # the mixed run's URLs again, the shared cache warm
HTML_GZIP_LIMIT_BYTES = 100_000  # every HTML page, gzip-compressed (level 6)
COLD_GROWTH_MAX = 1.3  # each class's cold p50, large preset over small


def evaluate(results: dict) -> list[dict]:
    """One entry per target: name, limit, measured value (None when not measured), pass."""
    targets = []
    for endpoint in results.get("endpoints", []):
        name = endpoint["name"]
        measured = endpoint.get("load")
        p95 = measured["latency_ms"]["p95"] if measured and measured["requests"] else None
        targets.append(
            {
                "name": f"p95 < {P95_LIMIT_MS:g} ms: {name}",
                "limit": P95_LIMIT_MS,
                "value": p95,
                "unit": "ms",
                "pass": p95 is not None and p95 < P95_LIMIT_MS,
            }
        )
        bad = None
        if measured:
            bad = measured["non2xx"] + sum(measured["errors"].values())
        targets.append(
            {
                "name": f"every response 2xx, no socket errors: {name}",
                "limit": 0,
                "value": bad,
                "unit": "",
                "pass": endpoint.get("precheck", {}).get("ok", False) and bad == 0,
            }
        )
        if endpoint.get("is_floor"):
            continue
        ratio = endpoint.get("ratio_to_floor")
        targets.append(
            {
                "name": f"throughput >= {RATIO_TO_FLOOR_MIN:.0%} of floor: {name}",
                "limit": RATIO_TO_FLOOR_MIN,
                "value": ratio,
                "unit": "x",
                "pass": ratio is not None and ratio >= RATIO_TO_FLOOR_MIN,
            }
        )
    growth = results.get("growth")
    if growth is not None:
        value = growth.get("large_over_small")
        targets.append(
            {
                "name": f"ranking API p50 large/small <= {GROWTH_MAX:g}x",
                "limit": GROWTH_MAX,
                "value": value,
                "unit": "x",
                "pass": value is not None and value <= GROWTH_MAX,
            }
        )
    targets += _cold_targets(results.get("cold"))
    memory = results.get("memory")
    if memory is not None:
        value = memory.get("worker_peak_mb")
        targets.append(
            {
                "name": f"worker peak RSS < {WORKER_RSS_LIMIT_MB:g} MB",
                "limit": WORKER_RSS_LIMIT_MB,
                "value": value,
                "unit": "MB",
                "pass": value is not None and value < WORKER_RSS_LIMIT_MB,
            }
        )
    for page in results.get("proxy", {}).get("pages", []):
        bad = page["gunicorn"]["non2xx"] + page["nginx"]["non2xx"]
        targets.append(
            {
                "name": f"every response 2xx, straight and through nginx: {page['name']}",
                "limit": 0,
                "value": bad,
                "unit": "",
                "pass": bad == 0,
            }
        )
    return targets


def _target(name: str, limit: float, value, unit: str, passed: bool) -> dict:
    return {"name": name, "limit": limit, "value": value, "unit": unit, "pass": passed}


def _cold_targets(cold: dict | None) -> list[dict]:
    if not cold:
        return []
    main = cold["presets"].get(cold["main"])
    if not main:
        return []
    where = f"cold mix at {main['preset']}"
    targets = []
    runs = [*main["classes"], main["mixed"], main["replay"]]
    bad = sum(
        run["load"]["non2xx"] + sum(run["load"]["errors"].values())
        for run in runs
        if run.get("load")
    )
    targets.append(_target(f"every response 2xx, no socket errors: {where}", 0, bad, "", bad == 0))
    for run, minimum in [
        *((run, COLD_CLASS_MIN) for run in main["classes"]),
        (main["mixed"], COLD_MIX_MIN),
        (main["replay"], REPLAY_MIN),
    ]:
        ratio = run.get("ratio_to_floor")
        targets.append(
            _target(
                f"throughput >= {minimum:.0%} of floor: {where}, {run['name']}",
                minimum,
                ratio,
                "x",
                ratio is not None and ratio >= minimum,
            )
        )
    for kind, sizes in main.get("gzip", {}).items():
        value = round(sizes["largest"]["gzip_bytes"] / 1000, 1) if sizes["sampled"] else None
        targets.append(
            _target(
                f"largest HTML page gzipped < {HTML_GZIP_LIMIT_BYTES / 1000:g} KB: {kind}",
                HTML_GZIP_LIMIT_BYTES / 1000,
                value,
                "KB",
                value is not None and sizes["over_limit"] == 0,
            )
        )
    targets += growth_targets(cold.get("growth", {}))
    return targets


def growth_targets(growth: dict) -> list[dict]:
    """Each class's cold p50 growth small -> large within COLD_GROWTH_MAX: the time in the
    workers (without the listen backlog, which depends on the class's number of URLs), in
    units of each server's floor when both were measured (bench/run.py cold_growth); wrk's
    p50 when the access log gave no times."""
    targets = []
    for kind, entry in growth.items():
        ratio = next(
            (
                entry[name]
                for name in (
                    "server_floor_adjusted_ratio",
                    "server_ratio",
                    "floor_adjusted_ratio",
                    "ratio",
                )
                if entry.get(name) is not None
            ),
            None,
        )
        targets.append(
            _target(
                f"cold p50 {entry['preset']}/small (floor units) <= {COLD_GROWTH_MAX:g}x: {kind}",
                COLD_GROWTH_MAX,
                ratio,
                "x",
                ratio is not None and ratio <= COLD_GROWTH_MAX,
            )
        )
    return targets


def render_cold(cold: dict) -> list[str]:
    out = []
    for preset, entry in cold["presets"].items():
        sizes = entry.get("sizes") or {}
        out.append(
            f"Cold mix at {preset} ({entry['database']}: {sizes.get('compounds', 0):,} "
            f"compounds, {sizes.get('goals', 0):,} goals): {sum(entry['urls'].values()):,} "
            "distinct URLs drawn (bench/coldmix.py), each requested once; gunicorn -c "
            "config/gunicorn.py with its own Redis as the shared cache; every class and the "
            "mixed run start from an empty cache (FLUSHDB), the replay does not"
        )
        rows, notes = [], []
        gzip = entry.get("gzip", {})
        for run in [*entry["classes"], entry["mixed"], entry["replay"]]:
            load = run.get("load")
            if not load:
                rows.append([run["name"], "NOT MEASURED", *[""] * 11])
                notes.append(f"{run['name']}: {run.get('error', 'no result')}")
                continue
            latency = load["latency_ms"]
            has = load["requests"] > 0
            largest = gzip.get(run["name"], {}).get("largest", {})
            if 0 < load["requests"] < FEW_SAMPLES:
                notes.append(f"{run['name']}: only {load['requests']} requests, percentiles rough")
            rows.append(
                [
                    run["name"],
                    f"{load['requests']:,}/{load['urls']:,}" + ("" if load["exhausted"] else "+"),
                    _number(load["rps"], 1),
                    _number(run.get("ratio_to_floor"), 3),
                    _number(latency["p50"] if has else None),
                    _number(latency["p95"] if has else None),
                    _number(latency["p99"] if has else None),
                    str(load["non2xx"] + sum(load["errors"].values())),
                    _number(load["bytes_per_request"] / 1000 if has else None, 1),
                    f"{load['hit_share']:.0%}" if load["hit_share"] is not None else "-",
                    _number(largest["gzip_bytes"] / 1000, 1) if largest.get("gzip_bytes") else "",
                    str(run.get("worker_boots", "-")),
                    f"{run['cpu']['other']:.0%}" if run.get("cpu") else "-",
                ]
            )
        headers = [
            "class",
            "answered/URLs",
            "req/s",
            "x floor",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "non-2xx",
            "KB/resp",
            "hits",
            "max gz KB",
            "boots",
            "other CPU",
        ]
        out += _table(headers, rows, right=set(range(1, 13)))
        out.append("")
        floor = entry.get("floor")
        if floor:
            out.append(
                f"  floor ({FLOOR_PATH} on this server, one database round trip) before and "
                f"after: {_number(floor['before'])} and {_number(floor['after'])} req/s"
                + (f" (drift {floor['drift']:+.0%})" if floor.get("drift") is not None else "")
                + "; ratios use the mean"
            )
        beside = entry.get("floor_beside_mixed")
        if beside:
            out.append(
                f"  the mixed run's ratio uses the floor measured just before and after it: "
                f"{_number(beside['before'])} and {_number(beside['after'])} req/s (to the "
                f"mean of the run's first and last floors it is "
                f"{_number(entry['mixed'].get('ratio_to_run_floor'), 3)})"
            )
        out.append(
            "  answered/URLs: requests answered of the class's distinct URLs (+: the duration "
            "ended first); hits: X-Cache: hit share; max gz KB: the largest of a sample of "
            "bodies, gzip level 6; boots: gunicorn workers booted during the run (max_requests "
            "recycling)"
        )
        out.append(
            f"  workers booted after start-up: {entry.get('worker_boots_total', '-')} "
            f"(log: {entry.get('gunicorn_log', '-')}); URL files: {entry['url_files']}/"
        )
        redis = entry.get("redis")
        if redis:
            out.append(
                f"  Redis after the replay: {redis['dbsize']:,} keys, "
                f"{redis['used_memory'] / 2**20:,.0f} MB of {redis['maxmemory'] / 2**20:,.0f} MB, "
                f"{redis['evicted_keys']:,} evicted"
            )
        for kind, sizes in gzip.items():
            largest = sizes["largest"]
            if largest.get("path"):
                packed, raw = largest["gzip_bytes"] / 1000, largest["bytes"] / 1000
                out.append(
                    f"  largest {kind} of {sizes['sampled']} sampled: {packed:,.1f} KB gzipped "
                    f"({raw:,.0f} KB raw; {sizes['over_limit']} over the limit) {largest['path']}"
                    + (" (htmx)" if largest["htmx"] else "")
                )
        out += [f"  note: {note}" for note in notes]
        out.append("")
    growth = cold.get("growth")
    if growth:
        parts = [
            f"{kind} {_number(g['small_p50_ms'])} -> {_number(g['large_p50_ms'])} ms"
            + (f" ({g['ratio']:.2f}x" if g.get("ratio") is not None else "")
            + (
                f", {g['floor_adjusted_ratio']:.2f}x in floor units)"
                if g.get("floor_adjusted_ratio") is not None
                else (")" if g.get("ratio") is not None else "")
            )
            for kind, g in growth.items()
        ]
        out.append("Cold growth, p50 small -> " + cold["main"] + ": " + "; ".join(parts))
        in_workers = [
            f"{kind} {_number(g['small_server_p50_ms'])} -> {_number(g['large_server_p50_ms'])}"
            f" ms ({g['server_ratio']:.2f}x"
            + (
                f", {g['server_floor_adjusted_ratio']:.2f}x in floor units)"
                if g.get("server_floor_adjusted_ratio") is not None
                else ")"
            )
            for kind, g in growth.items()
            if g.get("server_ratio") is not None
        ]
        if in_workers:
            out.append(
                "Cold growth of the time in the workers (gunicorn's access log; without the "
                "listen backlog, which grows with a class's URLs), p50 small -> "
                + cold["main"]
                + ", what the target reads: "
                + "; ".join(in_workers)
            )
        out.append("")
    return out


def _number(value, places: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:,.{places}f}"


def _table(headers: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells):
        return "  ".join(
            str(cell).rjust(width) if i in right else str(cell).ljust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(row) for row in rows)]


def render(results: dict) -> str:
    settings = results["settings"]
    dataset = results.get("dataset") or {}
    out = [
        f"Evidence Stack Builder benchmark, {results['started']}"
        + (" (QUICK: smoke run, numbers are rough)" if settings["quick"] else ""),
        f"wrk {settings['duration']}s per endpoint after {settings['warmup']}s warm-up, "
        f"{settings['connections']} connections, {settings['threads']} threads; gunicorn "
        f"{settings['workers']} {settings['worker_class']} workers; "
        f"{results['machine']['cpus']} CPUs shared by wrk, gunicorn and PostgreSQL",
    ]
    if dataset:
        sizes = dataset["sizes"]
        out.append(
            f"Data: {dataset['database']} = {dataset['preset']} preset, seed {dataset['seed']} "
            f"({sizes['compounds']:,} compounds, {sizes['goals']:,} goals, "
            f"{sizes['studies']:,} studies, {sizes['findings']:,} findings, "
            f"{sizes['offers']:,} offers), "
            + ("generated now" if dataset.get("generated_now") else "reused")
            + f"; load took {dataset['load_seconds']:.1f}s"
            + (
                f" (rows {dataset['generate_seconds']:.1f}s, scores "
                f"{dataset['rescore_seconds']:.1f}s)"
                if dataset.get("generate_seconds") and dataset.get("rescore_seconds")
                else ""
            )
            + (
                f"; scores rebuilt now for changed code in {dataset['rescored_now_seconds']:.1f}s"
                if dataset.get("rescored_now_seconds")
                else ""
            )
        )
    out.append("")

    endpoints = results.get("endpoints", [])
    if endpoints:
        rows, notes = [], []
        for endpoint in endpoints:
            precheck = endpoint.get("precheck", {})
            load = endpoint.get("load")
            first = _number(precheck.get("ms"), 0) if precheck.get("status") else "-"
            if not precheck.get("ok"):
                rows.append([endpoint["name"], "PRECHECK FAILED", *[""] * 6, first, "", ""])
                notes.append(f"{endpoint['name']}: {endpoint['path']}: {precheck.get('error')}")
                continue
            if not load:
                rows.append([endpoint["name"], "NOT MEASURED", *[""] * 9])
                notes.append(f"{endpoint['name']}: {endpoint.get('error', 'no result')}")
                continue
            latency = load["latency_ms"]
            requests = load["requests"]
            if endpoint.get("attempts", 1) > 1:
                notes.append(
                    f"{endpoint['name']}: measured {endpoint['attempts']} times (other processes "
                    "were busy); the least disturbed attempt is shown"
                )
            has = requests > 0
            if 0 < requests < FEW_SAMPLES:
                notes.append(f"{endpoint['name']}: only {requests} requests, percentiles rough")
            if requests == 0:
                notes.append(f"{endpoint['name']}: no request completed within the duration")
            rows.append(
                [
                    endpoint["name"],
                    _number(load["rps"], 1),
                    _number(endpoint.get("ratio_to_floor"), 2),
                    _number(latency["p50"] if has else None),
                    _number(latency["p90"] if has else None),
                    _number(latency["p95"] if has else None),
                    _number(latency["p99"] if has else None),
                    str(load["non2xx"] + sum(load["errors"].values())),
                    first,
                    f"{requests:,}",
                    f"{endpoint['cpu']['other']:.0%}" if endpoint.get("cpu") else "-",
                ]
            )
        headers = [
            "endpoint",
            "req/s",
            "x floor",
            "p50 ms",
            "p90 ms",
            "p95 ms",
            "p99 ms",
            "non-2xx",
            "1st ms",
            "requests",
            "other CPU",
        ]
        out += _table(headers, rows, right=set(range(1, 11)))
        out.append("")
        for endpoint in endpoints:
            out.append(f"  {endpoint['name']:<14} {endpoint['path']}")
        floor = results.get("floor")
        if floor and floor.get("drift") is not None:
            out.append(
                f"  floor measured before and after the others: {_number(floor['before'])} and "
                f"{_number(floor['after'])} req/s (drift {floor['drift']:+.0%}); ratios use "
                "the mean"
            )
        out.append(
            "  1st ms: the pre-check's single request; other CPU: share of the machine used by "
            "processes other than the app, PostgreSQL's backends for it, wrk and this harness"
        )
        out += [f"  note: {note}" for note in notes]
        out.append("")

    if proxied := results.get("proxy"):
        out.append(
            f"Caching proxy (nginx proxy_cache in front of gunicorn, {proxied['preset']} preset): "
            "req/s through nginx / straight at gunicorn"
        )
        for page in proxied["pages"]:
            bad = page["gunicorn"]["non2xx"] + page["nginx"]["non2xx"]
            out.append(
                f"  {page['name']:<14} {_number(page['gunicorn']['rps'], 0):>8} -> "
                f"{_number(page['nginx']['rps'], 0):>8} req/s  {_number(page['ratio'], 1)}x"
                f"  nginx: {', '.join(str(s) for s in page['first_statuses'])}"
                + (f"  ({bad} non-2xx!)" if bad else "")
            )
        out.append("")

    growth = results.get("growth")
    if growth:
        parts = [
            f"{preset} {_number(growth['presets'][preset].get('p50_ms'))} ms"
            for preset in ("small", "medium", "large")
            if preset in growth["presets"]
        ]
        parts = [
            part
            + (f" ({entry['rated_compounds']:,} rated)" if entry.get("rated_compounds") else "")
            for part, entry in zip(parts, growth["presets"].values(), strict=True)
        ]
        ratio = growth.get("large_over_small")
        out.append(
            "Growth, ranking API p50 of the most-rated goal: "
            + ", ".join(parts)
            + (f"; large/small {ratio:.1f}x" if ratio is not None else "")
        )
        for preset, entry in growth["presets"].items():
            if entry.get("error"):
                out.append(f"  note: {preset}: {entry['error']}")
    memory = results.get("memory")
    if memory:
        workers = ", ".join(f"{mb:.0f}" for mb in memory.get("workers_mb", {}).values())
        out.append(
            f"Memory: worker peak RSS {_number(memory.get('worker_peak_mb'), 0)} MB "
            f"(VmHWM of every worker seen: {workers or '-'} MB)"
        )
    out.append("")
    if results.get("cold"):
        out += render_cold(results["cold"])

    targets = results.get("targets", [])
    rows = []
    for target in targets:
        value = target["value"]
        # A ratio under 0.1 gets a third decimal, so 0.019 against a 0.02 target reads so.
        places = 3 if target["unit"] == "x" and value is not None and abs(value) < 0.1 else 2
        shown = "-" if value is None else f"{value:,.{places}f}{target['unit']}"
        rows.append([target["name"], shown, "PASS" if target["pass"] else "FAIL"])
    out += _table(["target", "measured", "result"], rows, right={1})
    passed = sum(t["pass"] for t in targets)
    out.append("")
    out.append(f"{passed} of {len(targets)} targets met.")
    for warning in results.get("warnings", []):
        out.append(f"WARNING: {warning}")
    for problem in results.get("problems", []):
        out.append(f"PROBLEM: {problem}")
    return "\n".join(out)


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "bench-results/latest.json")
    print(render(json.loads(path.read_text(encoding="utf-8"))))
