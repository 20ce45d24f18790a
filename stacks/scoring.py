"""The scoring method: how one compound's evidence for one goal becomes a score from 0 to 100.

Pure functions over plain data (no database), so every rule can be tested directly and the
method stays the single place that decides a rank. docs/methodology.md explains it to readers;
keep the two in step.

The editorial tier is the anchor; each study then moves the score by a number of points:

    study points = STUDY_POINTS x design weight x size factor x mean outcome factor

and the sum of all study points (plus the consistency adjustment) is clamped to
+/- MAX_REFINEMENT. Serious adverse effects subtract; observational-only evidence is capped.
Vendors and offers never enter this module.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from evidence.certainty import Certainty, FindingFacts, Level, assess
from evidence.models import Finding, Study
from evidence.stats import Favours

STUDY_POINTS = 10.0
MAX_REFINEMENT = 20.0
SIZE_CAP = 1000  # participants at which the size factor reaches 1
UNKNOWN_SIZE_FACTOR = 0.25
CONSISTENCY_BONUS = 2.0
CONTRADICTION_SHARE = 0.5
SERIOUS_EFFECT_POINTS = 3.0
MAX_SAFETY_PENALTY = 9.0
OBSERVATIONAL_CAP = 70.0
LISTED_STUDIES = 6  # studies named one by one in a ranking's "why this rank"

Design = Study.Design
Comparator = Finding.Comparator

DESIGN_WEIGHTS: dict[str, float] = {
    Design.META_ANALYSIS: 1.0,
    Design.RCT: 0.8,
    Design.NON_RANDOMISED: 0.5,
    Design.COHORT: 0.4,
    Design.CASE_CONTROL: 0.3,
    Design.CASE_SERIES: 0.2,
    Design.ANIMAL: 0.1,
    Design.IN_VITRO: 0.05,
    # Unknown, not guessed: it counts like the weakest human design, and its certainty starts
    # Low and is rated down for risk of bias (evidence.certainty).
    Design.NOT_REPORTED: 0.2,
}
# Where a computed place starts when no editor has tiered the compound for the goal: the
# anchor of the tier its certainty corresponds to, never above Tier 3's (probable efficacy),
# since only an editor can place a compound where established efficacy sits.
CERTAINTY_ANCHORS: dict[Level, float] = {
    Level.HIGH: 60.0,
    Level.MODERATE: 40.0,
    Level.LOW: 20.0,
    Level.VERY_LOW: 10.0,
}
# Comparators where "compound worse" means harm, as opposed to "weaker than another treatment".
INACTIVE_COMPARATORS = frozenset({Comparator.PLACEBO, Comparator.NO_TREATMENT, Comparator.ADD_ON})


class Outcome(StrEnum):
    """What one finding says, as far as scoring is concerned."""

    BENEFIT = "significant benefit"
    STATED_BENEFIT = "significant benefit, reported without figures"
    NO_DIFFERENCE = "no significant difference"
    INFERIOR_TO_ACTIVE = "significantly inferior to an active comparator"
    HARM = "significant harm"
    STATED_HARM = "significant harm, reported without figures"
    DIRECTIONAL_BENEFIT = "favours the compound, significance not reported"
    DIRECTIONAL_HARM = "favours the comparator, significance not reported"
    NOT_ASSESSABLE = "not assessable (no comparison or direction reported)"


OUTCOME_FACTORS: dict[Outcome, float] = {
    Outcome.BENEFIT: 1.0,
    Outcome.STATED_BENEFIT: 0.5,
    Outcome.NO_DIFFERENCE: 0.0,
    Outcome.INFERIOR_TO_ACTIVE: -0.25,
    Outcome.HARM: -1.0,
    Outcome.STATED_HARM: -0.5,
    Outcome.DIRECTIONAL_BENEFIT: 0.25,
    Outcome.DIRECTIONAL_HARM: -0.25,
    Outcome.NOT_ASSESSABLE: 0.0,
}


@dataclass(frozen=True)
class CompoundEvidence:
    """Everything scoring may know about one compound for one goal. Without a tier (no editor
    has rated the pair) the place is computed from the certainty of the evidence."""

    tier_number: int | None = None
    tier_label: str = ""
    tier_weight: int = 0
    tier_means_no_effect: bool = False
    findings: tuple[FindingFacts, ...] = ()
    serious_side_effects: tuple[str, ...] = ()


@dataclass(frozen=True)
class Component:
    """One line of "why this rank": a labelled number of points."""

    kind: str  # tier | certainty | study | consistency | safety | cap
    label: str
    points: float
    detail: str = ""
    study_slug: str = ""
    design_weight: float = 0.0


@dataclass(frozen=True)
class Score:
    value: float
    components: tuple[Component, ...]
    no_effect: bool
    study_count: int
    randomised_study_count: int
    participants: int
    # The certainty of the evidence of benefit (None: nothing in the compound's favour).
    certainty: Certainty | None = None
    in_favour: bool = False  # some finding favours the compound

    @property
    def computed(self) -> bool:
        """Placed by the computed certainty, not by an editor's tier."""
        return any(c.kind == "certainty" for c in self.components)


def classify(finding: FindingFacts) -> Outcome:
    """Say whether a finding shows benefit, harm, inferiority, no difference, or cannot say.

    A finding without figures counts by the direction its source states (read into
    `favours`), at half the weight of one whose figures show it; a direction whose
    significance nobody reports counts a quarter.
    """
    if finding.significant is None:
        if finding.favours == Favours.COMPOUND:
            return Outcome.DIRECTIONAL_BENEFIT
        if finding.favours == Favours.COMPARATOR and finding.comparator in INACTIVE_COMPARATORS:
            return Outcome.DIRECTIONAL_HARM
        return Outcome.NOT_ASSESSABLE
    if not finding.significant:
        return Outcome.NO_DIFFERENCE
    if finding.favours == Favours.COMPOUND:
        return Outcome.STATED_BENEFIT if finding.is_qualitative else Outcome.BENEFIT
    if finding.favours == Favours.COMPARATOR:
        if finding.comparator not in INACTIVE_COMPARATORS:
            return Outcome.INFERIOR_TO_ACTIVE
        return Outcome.STATED_HARM if finding.is_qualitative else Outcome.HARM
    return Outcome.NOT_ASSESSABLE


def design_weight(design: str) -> float:
    """How much one study of this design counts (an unknown design as "not reported")."""
    return DESIGN_WEIGHTS.get(design, DESIGN_WEIGHTS[Design.NOT_REPORTED])


def size_factor(n: int | None) -> float:
    """Weight for sample size: logarithmic, reaching 1 at SIZE_CAP participants."""
    if not n:
        return UNKNOWN_SIZE_FACTOR
    return min(1.0, math.log10(n + 1) / math.log10(SIZE_CAP + 1))


def _finding_order(finding: FindingFacts):
    return (
        finding.outcome,
        finding.comparator,
        str(finding.significant),
        finding.favours,
        finding.is_qualitative,
    )


def _by_study(findings: Iterable[FindingFacts]) -> dict[str, list[FindingFacts]]:
    studies: dict[str, list[FindingFacts]] = {}
    for finding in findings:
        studies.setdefault(finding.study_slug, []).append(finding)
    return {slug: sorted(group, key=_finding_order) for slug, group in sorted(studies.items())}


def _study_component(slug: str, findings: list[FindingFacts]) -> tuple[Component, list[Outcome]]:
    first = findings[0]
    outcomes = [classify(f) for f in findings]
    mean_factor = sum(OUTCOME_FACTORS[o] for o in outcomes) / len(outcomes)
    weight = design_weight(first.design)
    points = STUDY_POINTS * weight * size_factor(first.n) * mean_factor
    size = f"n={first.n}" if first.n else "n not reported"
    if first.trial_count:
        size += f", {first.trial_count} trials"
    design_label = Design(first.design).label if first.design in Design.values else first.design
    detail = "; ".join(f"{f.outcome}: {o.value}" for f, o in zip(findings, outcomes, strict=True))
    component = Component(
        kind="study",
        label=f"{first.study_title} ({design_label}, {size})",
        points=round(points, 2),
        detail=detail,
        study_slug=slug,
        design_weight=weight,
    )
    return component, outcomes


def _is_no_effect(evidence: CompoundEvidence) -> bool:
    """Studied and found wanting: a no-effect tier, or null randomised results and no benefit;
    without a tier, also findings against the compound and none in its favour."""
    if evidence.tier_means_no_effect:
        return True
    all_findings = evidence.findings
    if evidence.tier_number is None and not any(
        f.favours == Favours.COMPOUND for f in all_findings
    ):
        return any(f.favours == Favours.COMPARATOR for f in all_findings)
    if any(classify(f) in (Outcome.BENEFIT, Outcome.STATED_BENEFIT) for f in all_findings):
        return False
    null_controlled = [
        f
        for f in all_findings
        if f.design in Study.RANDOMISED_DESIGNS
        and f.comparator in INACTIVE_COMPARATORS
        and classify(f) == Outcome.NO_DIFFERENCE
    ]
    return bool(null_controlled)


def score_evidence(evidence: CompoundEvidence) -> Score:
    """Score one compound's evidence for one goal, from 0 to 100, with its components.

    The tier weight is the anchor; without a tier, the anchor of the certainty of the
    evidence of benefit (CERTAINTY_ANCHORS; 0 with nothing in the compound's favour). Each
    study adds or subtracts points by design, size and what its findings show; the
    refinement is clamped to +/-MAX_REFINEMENT. Contradictory
    significant results cost half of the smaller side; two or more studies with significant
    benefit and no significant harm earn a small consistency bonus. Serious side effects
    subtract. Without randomised evidence the score cannot exceed OBSERVATIONAL_CAP.
    """
    certainty = assess(evidence.findings, for_benefit=True)
    if evidence.tier_number is not None:
        anchor = float(evidence.tier_weight)
        components = [
            Component(
                kind="tier",
                label=f"Editorial rating: Tier {evidence.tier_number} ({evidence.tier_label})",
                points=anchor,
                detail="The staff-assigned tier is the anchor of the score.",
            )
        ]
    else:
        anchor = CERTAINTY_ANCHORS[certainty.level] if certainty else 0.0
        studies = len({f.study_slug for f in evidence.findings})
        level = certainty.label.lower() if certainty else "none (nothing in its favour)"
        components = [
            Component(
                kind="certainty",
                label=(
                    f"Computed from {studies} {'study' if studies == 1 else 'studies'}, not yet "
                    f"reviewed by an editor: certainty of benefit {level}"
                ),
                points=anchor,
                detail="No editor has tiered this compound for this goal; the computed "
                "certainty sets the anchor.",
            )
        ]
    study_points = []
    benefit_points = harm_points = 0.0
    benefit_studies = harm_studies = 0
    for slug, findings in _by_study(evidence.findings).items():
        component, outcomes = _study_component(slug, findings)
        components.append(component)
        study_points.append(component.points)
        if any(o in (Outcome.BENEFIT, Outcome.STATED_BENEFIT) for o in outcomes):
            benefit_studies += 1
            benefit_points += max(component.points, 0.0)
        if Outcome.HARM in outcomes or Outcome.STATED_HARM in outcomes:
            harm_studies += 1
            harm_points += max(-component.points, 0.0)

    consistency = 0.0
    if benefit_studies and harm_studies:
        consistency = -CONTRADICTION_SHARE * min(benefit_points, harm_points)
        components.append(
            Component(
                kind="consistency",
                label="Contradictory results: some studies show benefit, others harm",
                points=round(consistency, 2),
            )
        )
    elif benefit_studies >= 2:
        consistency = CONSISTENCY_BONUS
        components.append(
            Component(
                kind="consistency",
                label=f"Consistent benefit across {benefit_studies} studies",
                points=consistency,
            )
        )

    raw_refinement = sum(study_points) + consistency
    refinement = max(-MAX_REFINEMENT, min(MAX_REFINEMENT, raw_refinement))
    if refinement != raw_refinement:
        components.append(
            Component(
                kind="cap",
                label=f"Study evidence limited to ±{MAX_REFINEMENT:g} points around the tier",
                points=round(refinement - raw_refinement, 2),
            )
        )

    safety = -min(MAX_SAFETY_PENALTY, SERIOUS_EFFECT_POINTS * len(evidence.serious_side_effects))
    if safety:
        components.append(
            Component(
                kind="safety",
                label="Serious adverse effects: " + ", ".join(evidence.serious_side_effects),
                points=safety,
            )
        )

    value = max(0.0, min(100.0, anchor + refinement + safety))
    randomised = {f.study_slug for f in evidence.findings if f.design in Study.RANDOMISED_DESIGNS}
    # Only randomised evidence in the compound's favour lifts the cap: a randomised study
    # showing harm must never raise a score.
    randomised_in_favour = {
        f.study_slug
        for f in evidence.findings
        if f.design in Study.RANDOMISED_DESIGNS and f.favours == Favours.COMPOUND
    }
    if not randomised_in_favour and value > OBSERVATIONAL_CAP:
        components.append(
            Component(
                kind="cap",
                label=f"No randomised evidence in its favour: capped at {OBSERVATIONAL_CAP:g}",
                points=round(OBSERVATIONAL_CAP - value, 2),
            )
        )
        value = OBSERVATIONAL_CAP

    sizes = {f.study_slug: f.n or 0 for f in evidence.findings}
    return Score(
        value=round(value, 1),
        components=tuple(components),
        no_effect=_is_no_effect(evidence),
        study_count=len(sizes),
        randomised_study_count=len(randomised),
        participants=sum(sizes.values()),
        certainty=certainty,
        in_favour=any(f.favours == Favours.COMPOUND for f in evidence.findings),
    )


def summarise(components: tuple[Component, ...], listed: int = LISTED_STUDIES):
    """The components for a ranking list: the `listed` studies that move the score most,
    then one line adding up the rest, so the points still sum to the score.

    The evidence page shows every study; a list of rankings stays small and readable.
    """
    studies = [c for c in components if c.kind == "study"]
    if len(studies) <= listed:
        return tuple(components)
    shown = set(sorted(studies, key=lambda c: (-abs(c.points), c.study_slug))[:listed])
    rest = [c for c in studies if c not in shown]
    others = Component(
        kind="study",
        label=f"{len(rest)} more studies, each listed on the evidence page",
        points=round(sum(c.points for c in rest), 2),
        design_weight=round(sum(c.design_weight for c in rest), 2),
    )
    summary = []
    for component in components:
        if component.kind != "study" or component in shown:
            summary.append(component)
        if component is studies[-1]:
            summary.append(others)
    return tuple(summary)
