"""Random-effects pooling of findings that report the same outcome with a comparable measure.

The estimator is statsmodels' (`combine_effects`), never our own. We use the Paule–Mandel
estimate of the between-study variance tau²: with the few studies a supplement usually has,
DerSimonian–Laird tends to underestimate tau² and so gives intervals that are too narrow, and
the Cochrane Handbook (chapter 10) recommends alternatives to it. docs/methodology.md says so
to readers.

Ratios (odds, risk, hazard) are pooled on the log scale and shown back-transformed; mean and
standard deviation differences and risk differences on their own scale. A study's standard
error is read off its 95% CI: (high - low) / (2 x z), z the normal 97.5% quantile.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm
from statsmodels.stats.meta_analysis import combine_effects

from evidence.formatting import ABBREVIATIONS
from evidence.models import Finding

METHOD = "pm"
METHOD_NAME = "Random effects, Paule–Mandel tau² (statsmodels combine_effects)"
POOLABLE_MEASURES = frozenset(
    {
        Finding.Measure.ODDS_RATIO,
        Finding.Measure.RISK_RATIO,
        Finding.Measure.HAZARD_RATIO,
        Finding.Measure.MEAN_DIFFERENCE,
        Finding.Measure.STD_MEAN_DIFFERENCE,
        Finding.Measure.RISK_DIFFERENCE,
    }
)
Z_975 = float(norm.ppf(0.975))


@dataclass(frozen=True)
class Pooled:
    """One pooled estimate: the outcome and measure it pools, its studies, and the result on
    the measure's own scale (ratios back-transformed)."""

    outcome: str
    measure: str
    unit: str
    study_count: int
    participants: int
    estimate: float
    ci_low: float
    ci_high: float
    tau2: float
    i2: float
    q: float
    method: str = METHOD_NAME

    @property
    def abbreviation(self) -> str:
        return ABBREVIATIONS.get(self.measure, "")

    @property
    def is_ratio(self) -> bool:
        return self.measure in Finding.RATIO_MEASURES

    @property
    def effect_text(self) -> str:
        """How the estimate reads on the Summary of findings and beside the forest plot's
        diamond: "HR 0.500 (95% CI 0.300–0.800)", a mean difference with its unit."""
        unit = f" {self.unit}" if self.unit else ""
        return (
            f"{self.abbreviation} {self.estimate:.3f}{unit} "
            f"(95% CI {self.ci_low:.3f}–{self.ci_high:.3f})"
        ).strip()

    def as_dict(self) -> dict:
        return {
            "outcome": self.outcome,
            "measure": self.measure,
            "unit": self.unit,
            "study_count": self.study_count,
            "participants": self.participants,
            "estimate": self.estimate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "tau2": self.tau2,
            "i2": self.i2,
            "q": self.q,
            "method": self.method,
        }


def effect_and_variance(finding: Finding) -> tuple[float, float]:
    """The finding's effect on the pooling scale (log for ratios) and its variance, from the
    95% CI."""
    low, value, high = float(finding.ci_low), float(finding.value), float(finding.ci_high)
    if finding.is_ratio:
        low, value, high = math.log(low), math.log(value), math.log(high)
    se = (high - low) / (2 * Z_975)
    return value, se * se


def poolable(finding: Finding) -> bool:
    return (
        finding.measure in POOLABLE_MEASURES
        and finding.value is not None
        and finding.ci_low is not None
        and finding.ci_high is not None
    )


def pool(findings: Iterable[Finding]) -> list[Pooled]:
    """A pooled estimate for every outcome that two or more studies report with the same
    measure (and, for a mean difference, the same unit) and a CI; one finding per study."""
    groups: dict[tuple[str, str, str], dict[int, Finding]] = {}
    for finding in findings:
        if poolable(finding):
            key = (finding.outcome, finding.measure, finding.value_unit)
            groups.setdefault(key, {}).setdefault(finding.study_id, finding)
    pooled = []
    for (outcome, measure, unit), by_study in sorted(groups.items()):
        if len(by_study) < 2:
            continue
        rows = [by_study[study] for study in sorted(by_study)]
        effects, variances = zip(*(effect_and_variance(f) for f in rows), strict=True)
        result = combine_effects(np.array(effects), np.array(variances), method_re=METHOD)
        # conf_int gives (low, high) for fixed, random, and their WLS variants: take random.
        low, high = (float(bound) for bound in result.conf_int(use_t=False)[1])
        estimate = float(result.mean_effect_re)
        if measure in Finding.RATIO_MEASURES:
            estimate, low, high = math.exp(estimate), math.exp(low), math.exp(high)
        pooled.append(
            Pooled(
                outcome=outcome,
                measure=measure,
                unit=unit,
                study_count=len(rows),
                participants=sum(f.study.n or 0 for f in rows),
                estimate=estimate,
                ci_low=low,
                ci_high=high,
                tau2=float(result.tau2),
                i2=max(0.0, float(result.i2)),  # I² is 0 when Q is below its df
                q=float(result.q),
            )
        )
    return pooled
