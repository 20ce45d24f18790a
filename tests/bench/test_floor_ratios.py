"""The cold mix's ratios to the floor: every run's to the mean of the run's first and last
floors, the mixed run's (the one the 5% target reads) to the floors measured right beside it."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import report  # noqa: E402
import run  # noqa: E402


def floor(rps: float) -> dict:
    return {"load": {"rps": rps}}


def load(rps: float) -> dict:
    measured = {
        "rps": rps,
        "requests": 100,
        "urls": 100,
        "exhausted": True,
        "non2xx": 0,
        "errors": {},
        "latency_ms": {"p50": 40, "p95": 90, "p99": 120},
        "bytes_per_request": 20_000,
        "hit_share": 0.0,
    }
    return {"load": measured}


def cold_entry() -> dict:
    return {
        "preset": "large",
        "classes": [{"name": "builder", **load(30)}],
        "mixed": {"name": "mixed", **load(50)},
        "replay": {"name": "replay", **load(500)},
    }


def test_the_mixed_run_is_read_against_the_floors_measured_beside_it():
    entry = cold_entry()
    # The machine was fast at the start and end of the run, slow around the mixed run.
    assert run.floor_ratios(entry, [floor(1200), floor(1000)], [floor(800), floor(1200)])

    assert entry["floor"]["mean"] == 1100
    assert entry["classes"][0]["ratio_to_floor"] == round(30 / 1100, 4)
    assert entry["replay"]["ratio_to_floor"] == round(500 / 1100, 4)
    assert entry["floor_beside_mixed"] == {"before": 800, "after": 1200, "mean": 1000}
    assert entry["mixed"]["ratio_to_floor"] == 0.05
    assert entry["mixed"]["ratio_to_run_floor"] == round(50 / 1100, 4)


def test_without_both_floors_beside_it_the_mixed_run_uses_the_runs_floor():
    entry = cold_entry()
    assert run.floor_ratios(entry, [floor(1000), floor(1000)], [floor(800), {"error": "x"}])

    assert entry["mixed"]["ratio_to_floor"] == 0.05
    assert "ratio_to_run_floor" not in entry["mixed"]
    assert "floor_beside_mixed" not in entry


def test_a_floor_beside_it_that_measured_nothing_leaves_the_mixed_run_on_the_runs_floor():
    entry = cold_entry()
    assert run.floor_ratios(entry, [floor(1000), floor(1000)], [floor(0), floor(1200)])

    assert entry["mixed"]["ratio_to_floor"] == 0.05
    assert "floor_beside_mixed" not in entry


def test_a_first_floor_of_nothing_gives_no_drift_and_no_division_by_zero():
    assert run.floor_summary([0.0, 900.0]) == {
        "before": 0.0,
        "after": 900.0,
        "mean": 450.0,
        "drift": None,
    }
    assert run.floor_summary([1000.0, 900.0])["drift"] == -0.1
    assert run.floor_summary([1000.0])["drift"] is None


def test_no_floor_at_all_is_a_problem_and_no_ratio_is_made_up():
    entry = cold_entry()
    assert not run.floor_ratios(entry, [{"error": "refused"}], [])
    assert all("ratio_to_floor" not in r for r in [*entry["classes"], entry["mixed"]])


def test_the_target_reads_the_mixed_ratio_and_the_report_names_both_floors():
    entry = cold_entry() | {
        "database": "bench_large",
        "urls": {"builder": 1},
        "url_files": "bench-results/cold-large",
        "gzip": {},
    }
    run.floor_ratios(entry, [floor(1200), floor(1000)], [floor(800), floor(1200)])
    cold = {"main": "large", "presets": {"large": entry}}

    verdicts = {t["name"]: t for t in report._cold_targets(cold)}
    mixed = verdicts["throughput >= 5% of floor: cold mix at large, mixed"]
    assert mixed["value"] == 0.05 and mixed["pass"]
    text = "\n".join(report.render_cold(cold))
    assert "the floor measured just before and after it: 800.0 and 1,200.0 req/s" in text
