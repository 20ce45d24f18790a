"""Random-effects pooling through statsmodels, checked against statsmodels itself, on the page
and in the API."""

import math
import re

import numpy as np
import pytest
from scipy.stats import norm
from statsmodels.stats.meta_analysis import combine_effects

from evidence.models import Finding
from evidence.pooling import pool
from tests.factories import (
    SYNTHETIC_HAZARD_RATIOS,
    SYNTHETIC_POOLED_OUTCOME,
    make_compound,
    make_finding,
    make_goal,
    make_pooled_trials,
    make_study,
)

pytestmark = pytest.mark.django_db


def expected() -> dict[str, float]:
    """The pooled estimate computed here from the published inputs: log hazard ratios and
    standard errors read off their 95% CIs, Paule-Mandel random effects, back-transformed."""
    z = norm.ppf(0.975)
    effects = [math.log(float(v)) for v, _, _, _ in SYNTHETIC_HAZARD_RATIOS]
    ses = [
        (math.log(float(hi)) - math.log(float(lo))) / (2 * z)
        for _, lo, hi, _ in SYNTHETIC_HAZARD_RATIOS
    ]
    result = combine_effects(np.array(effects), np.array(ses) ** 2, method_re="pm")
    low, high = result.conf_int(use_t=False)[1]
    return {
        "estimate": math.exp(result.mean_effect_re),
        "ci_low": math.exp(low),
        "ci_high": math.exp(high),
        "tau2": result.tau2,
        "i2": max(0.0, result.i2),
        "q": result.q,
    }


@pytest.fixture
def trials():
    compound, goal = make_compound(published=True), make_goal()
    make_pooled_trials(compound, goal)
    return compound, goal


def test_three_trials_of_one_outcome_pool_as_statsmodels_says(trials):
    compound, goal = trials
    [pooled] = pool(Finding.objects.filter(compound=compound).select_related("study"))
    assert (pooled.outcome, pooled.study_count, pooled.participants) == (
        SYNTHETIC_POOLED_OUTCOME,
        3,
        980,
    )
    for name, value in expected().items():
        assert getattr(pooled, name) == pytest.approx(value, abs=1e-9)


def test_the_evidence_page_shows_the_pooled_estimate_and_its_certainty(client, trials):
    compound, goal = trials
    html = client.get(f"/compounds/{compound.slug}/evidence/{goal.slug}/").content.decode()
    for name, value in expected().items():
        shown = re.search(rf'<dd data-field="{name}">([^<]+)</dd>', html).group(1)
        assert float(shown) == pytest.approx(value, abs=1e-6)
    assert "Summary of findings" in html
    assert "Random effects from 3 studies" in html
    assert "Starts High: 3 randomised studies" in html


def test_the_api_carries_the_pooled_estimate_and_its_certainty(client, trials):
    compound, goal = trials
    body = client.get(f"/api/compounds/{compound.slug}/evidence/{goal.slug}/").json()
    [row] = body["summary_of_findings"]
    for name, value in expected().items():
        assert row["pooled"][name] == pytest.approx(value, abs=1e-6)
    assert row["pooled"]["method"].startswith("Random effects, Paule–Mandel")
    assert row["certainty"]["steps"][0]["reason"] == "Starts High: 3 randomised studies"
    assert body["certainty_of_benefit"]["label"]


def test_a_heterogeneous_pool_is_rated_down_for_inconsistency(client):
    compound, goal = make_compound(published=True), make_goal()
    for value, low, high in (("0.30", "0.20", "0.45"), ("1.60", "1.20", "2.10")):
        make_finding(
            compound,
            goal,
            study=make_study(n=600),
            outcome="Synthetic outcome",
            measure=Finding.Measure.HAZARD_RATIO,
            value=value,
            ci_low=low,
            ci_high=high,
            higher_is_better=False,
        )
    body = client.get(f"/api/compounds/{compound.slug}/evidence/{goal.slug}/").json()
    [row] = body["summary_of_findings"]
    assert row["pooled"]["i2"] > 0.5
    reasons = [step["reason"] for step in row["certainty"]["steps"]]
    assert any(reason.startswith("Inconsistency: I² = ") for reason in reasons)


def test_one_study_is_never_pooled():
    compound, goal = make_compound(), make_goal()
    make_finding(compound, goal)
    assert pool(Finding.objects.select_related("study")) == []


def test_the_api_answers_404_for_an_unknown_pair(client):
    assert client.get("/api/compounds/no-such/evidence/no-such/").status_code == 404


def test_the_forest_plot_draws_the_pooled_estimate_as_a_diamond_over_its_ci(client, trials):
    compound, goal = trials
    html = client.get(f"/compounds/{compound.slug}/evidence/{goal.slug}/").content.decode()
    plot = html[html.index('<figure class="forest"') : html.index("</figure>")]
    assert plot.count('class="forest-row forest-row--pooled"') == 1
    assert plot.count('<li class="forest-row') == 4  # the three trials, then the pooled row
    pooled = expected()
    assert (
        f"HR {pooled['estimate']:.3f} (95% CI {pooled['ci_low']:.3f}–{pooled['ci_high']:.3f})"
        in plot
    )
    assert "Pooled estimate, random effects, 3 studies" in plot
    # The axis is symmetric about 1 on a log scale, from 1/end to end (its last tick), drawn
    # from 9% to 91% of the width: the diamond spans the pooled CI on that scale.
    end = float(re.findall(r'text-anchor="middle">([^<]+)</text>', plot)[-1])

    def x(value: float) -> float:
        return 50 + math.log10(value) / math.log10(end) * 41

    diamond = re.search(r'<svg class="diamond" x="([\d.]+)%" y="0" width="([\d.]+)%"', plot)
    assert float(diamond.group(1)) == pytest.approx(x(pooled["ci_low"]), abs=0.01)
    assert float(diamond.group(2)) == pytest.approx(
        x(pooled["ci_high"]) - x(pooled["ci_low"]), abs=0.02
    )
    # Lower hazards are better: the compound's side is the left.
    assert f'{compound.name}<span class="visually-hidden"> (left of the dashed line)' in plot
