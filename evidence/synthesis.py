"""A Summary of findings (GRADE, Cochrane Handbook chapter 14) for one compound and goal: per
outcome its studies, participants, effect (pooled where two or more studies allow it, else the
single finding's) and certainty with its reasons; and the certainty of benefit that places the
compound. The evidence page and the API both read it from here."""

from collections.abc import Sequence
from dataclasses import dataclass

from evidence.certainty import Certainty, assess, facts_from_finding
from evidence.formatting import format_effect
from evidence.models import Finding
from evidence.pooling import Pooled, pool


@dataclass(frozen=True)
class OutcomeSummary:
    outcome: str
    outcome_kind: str
    study_count: int
    participants: int
    effect: str  # the single finding's effect in words, or how the findings stand
    pooled: Pooled | None
    certainty: Certainty


@dataclass(frozen=True)
class Synthesis:
    certainty_of_benefit: Certainty | None
    outcomes: tuple[OutcomeSummary, ...]


def synthesise(findings: Sequence[Finding]) -> Synthesis:
    """The Summary of findings of these findings (one compound and goal; studies loaded)."""
    by_outcome: dict[str, list[Finding]] = {}
    for finding in findings:
        by_outcome.setdefault(finding.outcome, []).append(finding)
    pooled = {p.outcome: p for p in pool(findings)}
    outcomes = []
    for outcome, group in sorted(by_outcome.items()):
        studies = {f.study_id: f.study for f in group}
        estimate = pooled.get(outcome)
        if len(group) == 1:
            effect = format_effect(group[0])
        elif estimate:
            effect = f"pooled from {estimate.study_count} studies"
        else:
            effect = f"{len(group)} findings, not pooled (no common measure with a CI)"
        outcomes.append(
            OutcomeSummary(
                outcome=outcome,
                outcome_kind=group[0].get_outcome_kind_display(),
                study_count=len(studies),
                participants=sum(s.n or 0 for s in studies.values()),
                effect=effect,
                pooled=estimate,
                certainty=assess(
                    [facts_from_finding(f) for f in group], i2=estimate.i2 if estimate else None
                ),
            )
        )
    facts = [facts_from_finding(f) for f in findings]
    return Synthesis(assess(facts, for_benefit=True), tuple(outcomes))
