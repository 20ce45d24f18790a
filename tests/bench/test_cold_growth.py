"""The cold mix's growth small -> large is read in units of each server's own floor, so a
machine that slows down between the two runs does not pass for an app that grows."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

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
