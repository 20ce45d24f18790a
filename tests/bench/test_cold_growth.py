"""The cold mix's growth small -> large is read in units of each server's own floor, so a
machine that slows down between the two runs does not pass for an app that grows."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import common  # noqa: E402
import report  # noqa: E402
import run  # noqa: E402


def preset(floor: float, **p50s: float) -> dict:
    return {
        "floor": {"mean": floor},
        "classes": [
            {"name": name, "load": {"requests": 100, "latency_ms": {"p50": p50}}}
            for name, p50 in p50s.items()
        ],
    }


def test_a_machine_slower_by_half_during_the_large_run_is_cancelled_by_its_floor():
    small = preset(2000, builder=100)
    large = preset(1000, builder=240)  # 2.4x as measured, the floor halved meanwhile

    growth = run.cold_growth(small, large, "large")["builder"]

    assert growth["ratio"] == 2.4
    assert growth["floor_adjusted_ratio"] == 1.2


def test_the_target_reads_the_floor_adjusted_ratio_and_the_report_shows_both():
    cold = {
        "main": "large",
        "presets": {},
        "growth": run.cold_growth(
            preset(2000, builder=100, search=50), preset(1000, builder=240, search=150), "large"
        ),
    }

    verdicts = {t["name"]: t["pass"] for t in report.growth_targets(cold["growth"])}
    text = "\n".join(report.render_cold(cold))

    assert verdicts["cold p50 large/small (floor units) <= 1.3x: builder"]
    assert not verdicts["cold p50 large/small (floor units) <= 1.3x: search"]
    assert "builder 100.0 -> 240.0 ms (2.40x, 1.20x in floor units)" in text


def test_without_both_floors_the_ratio_is_the_measured_one():
    small, large = preset(2000, builder=100), preset(1000, builder=120)
    del large["floor"]

    growth = run.cold_growth(small, large, "large")["builder"]

    assert growth["floor_adjusted_ratio"] is None
    verdicts = {t["name"]: t["pass"] for t in report.growth_targets({"builder": growth})}
    assert verdicts["cold p50 large/small (floor units) <= 1.3x: builder"]


# The time in the workers, from gunicorn's access log (config/gunicorn.py's format).

ACCESS_LOG = """[2026-12-01 11:00:00 +0000] [41] [INFO] Booting worker with pid: 41
127.0.0.1 - - [01/Dec/2026:11:00:01 +0000] "GET /compounds/ HTTP/1.1" 200 5123 "-" 41250us
127.0.0.1 - - [01/Dec/2026:11:00:01 +0000] "GET /goals/x/ HTTP/1.1" 404 179 "wrk 4" 7000us
127.0.0.1 - - [01/Dec/2026:11:00:02 +0000] "GET / HTTP/1.1" 200 - "Mozilla/5.0 (X11)" 120500us
a line without a time 12000us"""


def test_each_logged_request_gives_the_time_it_took_in_its_worker():
    assert common.request_times(ACCESS_LOG) == [41.25, 7.0, 120.5]
    assert common.request_times("") == []


def test_the_fillers_wrk_asks_for_when_a_connection_runs_out_are_left_out():
    log = ACCESS_LOG + '\n1.2.3.4 - - [x] "GET /robots.txt HTTP/1.1" 200 90 "-" 900us'
    assert common.request_times(log, leaving_out=[run.FILLER_PATH]) == [41.25, 7.0, 120.5]
    lua = Path(__file__).resolve().parents[2].joinpath("bench", "wrk_urls.lua").read_text()
    assert f'wrk.format("GET", "{run.FILLER_PATH}")' in lua


def test_gunicorns_access_log_format_is_the_one_read():
    text = Path(__file__).resolve().parents[2].joinpath("config", "gunicorn.py").read_text()
    assert '%(s)s %(b)s "%(a)s" %(D)sus\'' in text


def with_server_p50(entry: dict, **p50s: float) -> dict:
    for measured in entry["classes"]:
        measured["server_ms"] = {"requests": 100, "p50": p50s[measured["name"]]}
    return entry


def test_the_target_reads_the_workers_time_not_the_backlog_a_small_class_never_has():
    # Two URLs at small: wrk's p50 is one request's time; at large 8 connections queue.
    small = with_server_p50(preset(1000, index=30), index=28)
    large = with_server_p50(preset(1000, index=150), index=33)

    growth = run.cold_growth(small, large, "large")

    assert growth["index"]["floor_adjusted_ratio"] == 5.0
    assert growth["index"]["server_floor_adjusted_ratio"] == 1.18
    verdicts = {t["name"]: t for t in report.growth_targets(growth)}
    target = verdicts["cold p50 large/small (floor units) <= 1.3x: index"]
    assert target["value"] == 1.18 and target["pass"]
    text = "\n".join(report.render_cold({"main": "large", "presets": {}, "growth": growth}))
    assert "index 30.0 -> 150.0 ms (5.00x, 5.00x in floor units)" in text
    assert "index 28.0 -> 33.0 ms (1.18x, 1.18x in floor units)" in text


def test_a_worker_that_grows_fails_whatever_wrk_saw():
    small = with_server_p50(preset(1000, builder=200), builder=50)
    large = with_server_p50(preset(1000, builder=220), builder=90)

    verdicts = {t["name"]: t for t in report.growth_targets(run.cold_growth(small, large, "l"))}

    assert not verdicts["cold p50 l/small (floor units) <= 1.3x: builder"]["pass"]
