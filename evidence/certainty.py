"""Certainty of evidence, GRADE-style: where a body of findings starts, and every step down
(or up) with its reason.

Pure functions over the facts of findings (FindingFacts, below), which the scoring method
(stacks.scoring) reads too. docs/methodology.md states the same rules and thresholds for
readers; keep the two in step.

Two bodies are rated:

- one outcome (all its findings, whatever their direction): how sure we are of that effect;
- a compound for a goal, the **evidence of benefit**: the findings in the compound's favour
  are the body, and findings against it rate it down for inconsistency. This is what places a
  compound no editor has tiered, so that more evidence of benefit never lowers its certainty
  and evidence of harm never raises it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from evidence.models import Finding, Study
from evidence.stats import Favours

# Thresholds, public in docs/methodology.md.
SMALL_STUDY_N = 30  # a study this small or smaller is at risk of bias ("very small")
OPTIMAL_INFORMATION_SIZE = 400  # participants below which an effect is imprecise
I2_THRESHOLD = 0.5  # heterogeneity of a pooled estimate above which it is inconsistent
LARGE_RATIO = 2.0  # observational ratio beyond 2 (or below 1/2), with its CI: a large effect
MAX_STEPS_PER_DOMAIN = 2

INDIRECT_DESIGNS = frozenset({Study.Design.ANIMAL, Study.Design.IN_VITRO})


class Level(IntEnum):
    VERY_LOW = 1
    LOW = 2
    MODERATE = 3
    HIGH = 4

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Step:
    """One line of the rating: the domain, the change in levels (-2..+1) and why."""

    domain: str  # start | risk_of_bias | imprecision | inconsistency | indirectness | large_effect
    change: int
    reason: str


@dataclass(frozen=True)
class Certainty:
    level: Level
    steps: tuple[Step, ...]

    @property
    def label(self) -> str:
        return self.level.label

    def as_dict(self) -> dict:
        return {
            "level": int(self.level),
            "label": self.label,
            "steps": [step.__dict__ for step in self.steps],
        }


@dataclass(frozen=True)
class FindingFacts:
    """The facts of one finding that scoring reads; built from a Finding row or by tests."""

    study_slug: str
    study_title: str
    design: str
    n: int | None
    trial_count: int | None
    outcome: str
    comparator: str
    significant: bool | None
    favours: str
    is_qualitative: bool = False
    outcome_kind: str = Finding.OutcomeKind.CLINICAL
    # Whether the 95% CI excludes no effect; None without a comparative CI.
    ci_excludes_null: bool | None = None
    ratio_ci: tuple[float, float] | None = None  # a ratio's CI, for "large effect"


def facts_from_finding(finding: Finding) -> FindingFacts:
    """Read the scoring facts off a Finding whose study is already loaded."""
    study = finding.study
    return FindingFacts(
        study_slug=study.slug,
        study_title=study.display_title,
        design=study.design,
        n=study.n,
        trial_count=study.trial_count,
        outcome=finding.outcome,
        comparator=finding.comparator,
        significant=finding.significant,
        favours=finding.favours,
        is_qualitative=finding.measure == Finding.Measure.QUALITATIVE,
        outcome_kind=finding.outcome_kind,
        ci_excludes_null=finding.ci_excludes_null,
        ratio_ci=(
            (float(finding.ci_low), float(finding.ci_high))
            if finding.is_ratio and finding.ci_low is not None
            else None
        ),
    )


def _studies(findings) -> dict[str, object]:
    """One fact per study (its first finding carries the study's design and size)."""
    studies = {}
    for finding in findings:
        studies.setdefault(finding.study_slug, finding)
    return studies


def _plural(count: int, word: str, plural: str = "") -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def _start(studies) -> Step:
    randomised = [s for s in studies.values() if s.design in Study.RANDOMISED_DESIGNS]
    if randomised:
        return Step(
            "start",
            int(Level.HIGH),
            f"Starts High: {_plural(len(randomised), 'randomised study', 'randomised studies')}",
        )
    if all(s.design == Study.Design.NOT_REPORTED for s in studies.values()):
        return Step("start", int(Level.LOW), "Starts Low: the design is not reported")
    return Step("start", int(Level.LOW), "Starts Low: no randomised evidence")


def _risk_of_bias(studies) -> Step | None:
    """Rated down when no study is free of a serious limitation we can see: a design not
    reported, a size not reported, or a very small study."""
    limits = []
    for study in studies.values():
        if study.design == Study.Design.NOT_REPORTED:
            limits.append("design not reported")
        elif not study.n:
            limits.append("sample size not reported")
        elif study.n <= SMALL_STUDY_N:
            limits.append(f"very small (n={study.n})")
        else:
            return None
    named = sorted(set(limits))
    what = "every study" if len(studies) > 1 else "the only study"
    return Step(
        "risk_of_bias", -1, f"Risk of bias: {what} has a serious limitation ({', '.join(named)})"
    )


def _imprecision(findings, studies) -> Step | None:
    """Rated down when the total sample is below the optimal information size (or not
    reported), or when every confidence interval crosses no effect."""
    with_ci = [f for f in findings if f.ci_excludes_null is not None]
    reasons = []
    if with_ci and not any(f.ci_excludes_null for f in with_ci):
        reasons.append("every 95% CI crosses no effect")
    participants = sum(s.n or 0 for s in studies.values())
    if participants == 0:
        reasons.append("the number of participants is not reported")
    elif participants < OPTIMAL_INFORMATION_SIZE:
        reasons.append(
            f"{participants} participants, fewer than the {OPTIMAL_INFORMATION_SIZE} "
            "an effect needs to be estimated precisely"
        )
    if not reasons:
        return None
    return Step("imprecision", -1, "Imprecision: " + "; ".join(reasons))


def _inconsistency(for_benefit: bool, findings, against, i2: float | None) -> Step | None:
    """Rated down when findings point in opposite directions, or a pooled estimate's I² is
    above I2_THRESHOLD."""
    if i2 is not None and i2 > I2_THRESHOLD:
        return Step(
            "inconsistency",
            -1,
            f"Inconsistency: I² = {i2:.0%}, above {I2_THRESHOLD:.0%} (the studies disagree "
            "more than chance explains)",
        )
    if for_benefit:
        if not against:
            return None
        return Step(
            "inconsistency",
            -1,
            f"Inconsistency: {_plural(len(against), 'finding')} "
            f"{'points' if len(against) == 1 else 'point'} the other way",
        )
    sides = {f.favours for f in findings} & {Favours.COMPOUND, Favours.COMPARATOR}
    if len(sides) < 2:
        return None
    return Step("inconsistency", -1, "Inconsistency: findings point in opposite directions")


def _indirectness(findings, studies) -> Step | None:
    """Rated down when no finding is on a clinical outcome (surrogates only), and again when
    no study was in people (animal or in vitro only); at most two levels."""
    reasons = []
    if all(f.outcome_kind == Finding.OutcomeKind.SURROGATE for f in findings):
        reasons.append("surrogate outcomes (biomarkers) only")
    if all(s.design in INDIRECT_DESIGNS for s in studies.values()):
        reasons.append("animal or in-vitro evidence only")
    if not reasons:
        return None
    change = -min(len(reasons), MAX_STEPS_PER_DOMAIN)
    return Step("indirectness", change, "Indirectness: " + "; ".join(reasons))


def _large_effect(findings, start: Step, downgraded: bool) -> Step | None:
    """Observational evidence, not rated down, is rated up for a large effect: a ratio beyond
    LARGE_RATIO (or below its inverse) in the compound's favour with its whole CI there."""
    if start.change != Level.LOW or downgraded:
        return None
    for f in findings:
        if f.favours == Favours.COMPOUND and f.ratio_ci is not None:
            low, high = f.ratio_ci
            if low >= LARGE_RATIO or high <= 1 / LARGE_RATIO:
                return Step(
                    "large_effect",
                    +1,
                    f"Large effect: {f.outcome}, ratio CI {low:g}–{high:g} beyond "
                    f"{LARGE_RATIO:g} (or 1/{LARGE_RATIO:g})",
                )
    return None


def assess(
    findings: Sequence, *, for_benefit: bool = False, i2: float | None = None
) -> Certainty | None:
    """The certainty of a body of findings, with every step and its reason.

    `for_benefit`: rate the evidence that the compound helps (the findings in its favour),
    rating down for the findings against it; otherwise rate all findings, as for one outcome.
    None when the body is empty (nothing in the compound's favour). `i2`: the heterogeneity
    of the body's pooled estimate, when it has one.
    """
    against = [f for f in findings if f.favours == Favours.COMPARATOR]
    body = [f for f in findings if f.favours == Favours.COMPOUND] if for_benefit else findings
    if not body:
        return None
    studies = _studies(body)
    start = _start(studies)
    downs = [
        step
        for step in (
            _risk_of_bias(studies),
            _imprecision(body, studies),
            _inconsistency(for_benefit, body, against, i2),
            _indirectness(body, studies),
        )
        if step is not None
    ]
    steps = [start, *downs]
    if up := _large_effect(body, start, bool(downs)):
        steps.append(up)
    level = start.change + sum(step.change for step in steps[1:])
    return Certainty(Level(max(Level.VERY_LOW, min(Level.HIGH, level))), tuple(steps))
