"""The forest plot's layout. Plain Python: no Django, no database, deterministic output.

forest_layout(rows, compound=..., pooled=...) groups the findings by outcome (and measure) and
gives each group its own axis, centred on the line of no effect (1 for ratios on a log scale,
0 for differences) and symmetric about it, so the two halves of the axis are the two
"favours" sides. Which side favours the compound follows the outcome's desirable direction:
where a fall is desirable (mortality, a hazard ratio below 1) the compound's side is the left,
where a rise is desirable it is the right; an unknown desirable direction names the sides
"lower" and "higher" and says so instead of guessing. A pooled estimate, when evidence.pooling
gives one for the group, is drawn as a diamond.

Positions are percentages of the plotting width, so the marks are drawn in SVG at any width:
the plot never needs a wider screen than the one it is on, and every label is HTML text that
wraps instead of being cut. forest_groups_html draws the groups so, escaping every text itself
(like stacks.charts' evidence map): drawn by the template, forty findings' marks took an eighth
of the evidence page's time.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from html import escape

RATIO = "ratio"
DIFFERENCE = "difference"
NOT_COMPARATIVE = "none"  # a single-arm result: nothing to compare with
NO_FIGURES = "no_figures"  # a comparison reported in words only

# The axis runs from PAD to 100 - PAD percent of the plotting width, so the outermost marks
# and tick labels keep clear of the edges.
PAD = 9.0

# Symmetric log axes end at a ratio and its reciprocal: (end, inner ticks above 1).
RATIO_ENDS = (
    (1.25, ()),
    (2, ()),
    (4, (2,)),
    (10, (2,)),
    (20, (5,)),
    (100, (10,)),
)


@dataclass(frozen=True)
class ForestRow:
    """One finding. kind is RATIO, DIFFERENCE, NOT_COMPARATIVE or NO_FIGURES; value, ci_low and
    ci_high are on the measure's own scale (for two proportions, their difference)."""

    label: str  # the study, e.g. "Synthetic trial A (2024)"
    outcome: str
    kind: str
    value: Decimal | float | None
    ci_low: Decimal | float | None = None
    ci_high: Decimal | float | None = None
    significant: bool | None = None
    higher_is_better: bool | None = None
    comparator: str = ""  # what the comparison arm is called, e.g. "placebo", "Entecavir alone"
    measure: str = ""  # the measure's code: with outcome and unit, the group key
    unit: str = ""  # a mean difference's unit
    scale_label: str = ""  # e.g. "Hazard ratio", "Difference in percentage points"
    effect_text: str = ""


@dataclass(frozen=True)
class PooledEstimate:
    """A pooled estimate of one outcome and measure, as evidence.pooling computed it."""

    outcome: str
    measure: str
    unit: str
    estimate: float
    ci_low: float
    ci_high: float
    study_count: int
    text: str = ""


@dataclass(frozen=True)
class Tick:
    value: float
    label: str
    x: float

    @property
    def pct(self) -> str:
        return _pct(self.x)


@dataclass(frozen=True)
class PlotRow:
    label: str
    effect_text: str
    significant: bool | None
    x_value: float
    x_low: float | None  # None: the CI was not reported (the point is drawn alone)
    x_high: float | None

    @property
    def has_ci(self) -> bool:
        return self.x_low is not None

    @property
    def value_pct(self) -> str:
        return _pct(self.x_value)

    @property
    def low_pct(self) -> str:
        return _pct(self.x_low)

    @property
    def high_pct(self) -> str:
        return _pct(self.x_high)


@dataclass(frozen=True)
class PlotDiamond:
    label: str
    effect_text: str
    x_low: float
    x_value: float
    x_high: float

    @property
    def low_pct(self) -> str:
        return _pct(self.x_low)

    @property
    def width_pct(self) -> str:
        return _pct(self.x_high - self.x_low)

    @property
    def points(self) -> str:
        """The diamond's corners in a 100 x 20 box stretched over the CI."""
        span = self.x_high - self.x_low
        tip = 50.0 if span <= 0 else (self.x_value - self.x_low) / span * 100
        return f"0,10 {_r(tip)},1 100,10 {_r(tip)},19"


@dataclass(frozen=True)
class ForestGroup:
    outcome: str
    scale_note: str  # "Hazard ratio, log scale; 1 = no difference"
    rows: tuple[PlotRow, ...]
    pooled: PlotDiamond | None
    ticks: tuple[Tick, ...]
    null_x: float
    favours_left: str
    favours_right: str
    direction_note: str  # why the sides say "lower" and "higher", or ""

    @property
    def null_pct(self) -> str:
        return _pct(self.null_x)


@dataclass(frozen=True)
class ForestPlot:
    groups: tuple[ForestGroup, ...]
    not_plottable: tuple[tuple[str, str], ...]  # (what, why)
    description: str  # the whole plot in words


def forest_groups_html(plot: ForestPlot) -> str:
    """Each group of the plot as a section: its outcome and scale, a row of text and marks per
    finding (and the pooled diamond), then its axis with ticks and the two "favours" sides.
    Every text is escaped here: the string is safe to mark safe."""
    return "".join(_group_html(number, group) for number, group in enumerate(plot.groups, start=1))


def _group_html(number: int, group: ForestGroup) -> str:
    null_line = (
        f'<line class="forest-null" x1="{group.null_pct}" y1="0" x2="{group.null_pct}" y2="20"/>'
    )
    track = (
        '<svg class="forest-track" width="100%" height="20" aria-hidden="true" focusable="false">'
    )
    parts = [
        f'<section class="forest-group" aria-labelledby="forest-group-{number}">'
        f'<h3 class="forest-outcome" id="forest-group-{number}">{escape(group.outcome)}'
        f'<span class="forest-scale">{escape(group.scale_note)}</span></h3>'
        '<ul class="forest-rows">'
    ]
    for row in group.rows:
        significant = " forest-row--significant" if row.significant else ""
        if row.significant:
            said = (
                '<span aria-hidden="true"> *</span>'
                '<span class="visually-hidden">, significant</span>'
            )
        elif row.significant is False:
            said = '<span class="visually-hidden">, not significant</span>'
        else:
            said = ""
        ci = (
            f'<line class="ci-bar" x1="{row.low_pct}" y1="10" x2="{row.high_pct}" y2="10"/>'
            if row.has_ci
            else ""
        )
        point = "point" + (" point--significant" if row.significant else "")
        point += "" if row.has_ci else " point--no-ci"
        parts.append(
            f'<li class="forest-row{significant}">'
            f'<span class="forest-label">{escape(row.label)}</span>'
            f'<span class="forest-effect">{escape(row.effect_text)}{said}</span>'
            f"{track}{null_line}{ci}"
            f'<svg x="{row.value_pct}" y="10" overflow="visible"><rect class="{point}" '
            'x="-5" y="-5" width="10" height="10"/></svg></svg></li>'
        )
    if pooled := group.pooled:
        parts.append(
            '<li class="forest-row forest-row--pooled">'
            f'<span class="forest-label">{escape(pooled.label)}</span>'
            f'<span class="forest-effect">{escape(pooled.effect_text)}</span>'
            f"{track}{null_line}"
            f'<svg class="diamond" x="{pooled.low_pct}" y="0" width="{pooled.width_pct}" '
            'height="20" viewBox="0 0 100 20" preserveAspectRatio="none">'
            f'<polygon points="{pooled.points}" vector-effect="non-scaling-stroke"/></svg>'
            "</svg></li>"
        )
    parts.append('</ul><div class="forest-axis-row">')
    parts.append(
        '<svg class="forest-axis" width="100%" height="24" aria-hidden="true" focusable="false">'
    )
    if group.ticks:
        first, last = group.ticks[0].pct, group.ticks[-1].pct
        parts.append(f'<line class="forest-axis-line" x1="{first}" y1="1" x2="{last}" y2="1"/>')
    for tick in group.ticks:
        parts.append(
            f'<line class="forest-tick" x1="{tick.pct}" y1="1" x2="{tick.pct}" y2="6"/>'
            f'<text x="{tick.pct}" y="19" text-anchor="middle">{escape(tick.label)}</text>'
        )
    parts.append(
        '</svg><p class="forest-favours"><span class="forest-favours__left">'
        f'<span aria-hidden="true">← </span>{escape(group.favours_left)}'
        '<span class="visually-hidden"> (left of the dashed line)</span></span>'
        f'<span class="forest-favours__right">{escape(group.favours_right)}'
        '<span class="visually-hidden"> (right of the dashed line)</span>'
        '<span aria-hidden="true"> →</span></span></p>'
    )
    if group.direction_note:
        parts.append(f'<p class="forest-direction-note small">{escape(group.direction_note)}</p>')
    parts.append("</div></section>")
    return "".join(parts)


def is_plottable(row: ForestRow) -> bool:
    """A comparison with a point estimate is drawn; its CI when reported."""
    if row.kind not in (RATIO, DIFFERENCE) or row.value is None:
        return False
    if row.kind == RATIO:
        return all(v is None or v > 0 for v in (row.value, row.ci_low, row.ci_high))
    return True


def not_plottable_reason(row: ForestRow) -> str:
    if row.kind == NOT_COMPARATIVE:
        return "no comparison group: a single-arm result"
    if row.kind == NO_FIGURES or row.value is None:
        return "reported without figures"
    return "values cannot be drawn on a log scale"


def favours_sides(
    higher_is_better: bool | None, compound: str, comparator: str
) -> tuple[str, str, str]:
    """The left and right "favours" labels of an axis whose values rise to the right, and a
    note when the desirable direction is unknown."""
    if higher_is_better is None:
        return (
            "Lower values",
            "Higher values",
            f"Which side favours {compound} is not recorded for this outcome.",
        )
    if higher_is_better:
        return f"Favours {comparator}", f"Favours {compound}", ""
    return f"Favours {compound}", f"Favours {comparator}", ""


def forest_layout(
    rows: Iterable[ForestRow],
    *,
    compound: str,
    pooled: Iterable[PooledEstimate] = (),
) -> ForestPlot:
    """The plot of these findings, one group per outcome and measure, in the order the
    outcomes first appear; a group gets a diamond when a pooled estimate matches it."""
    rows = list(rows)
    groups: dict[tuple[str, str, str], list[ForestRow]] = {}
    for row in rows:
        if is_plottable(row):
            groups.setdefault((row.outcome, row.measure, row.unit), []).append(row)
    pooled_by_key = {(p.outcome, p.measure, p.unit): p for p in pooled}
    return ForestPlot(
        groups=tuple(
            _group(group_rows, compound, pooled_by_key.get(key))
            for key, group_rows in groups.items()
        ),
        not_plottable=tuple(
            (f"{row.outcome} ({row.label})", not_plottable_reason(row))
            for row in rows
            if not is_plottable(row)
        ),
        description=_description(rows, compound),
    )


def _group(rows: list[ForestRow], compound: str, pooled: PooledEstimate | None) -> ForestGroup:
    kind = rows[0].kind
    numbers = [float(v) for r in rows for v in (r.value, r.ci_low, r.ci_high) if v is not None]
    if pooled:
        numbers += [pooled.estimate, pooled.ci_low, pooled.ci_high]
    axis = _LogAxis(numbers) if kind == RATIO else _LinearAxis(numbers)

    directions = {r.higher_is_better for r in rows}
    comparators = {r.comparator for r in rows if r.comparator}
    comparator = comparators.pop() if len(comparators) == 1 else "the comparator"
    if len(directions) == 1:
        left, right, note = favours_sides(directions.pop(), compound, comparator)
    else:
        left, right, _ = favours_sides(None, compound, comparator)
        note = (
            "These findings disagree on whether a rise is desirable, so the sides are not "
            f"named for {compound}."
        )

    def x(value) -> float | None:
        return None if value is None else axis.x(float(value))

    plot_rows = tuple(
        PlotRow(
            label=r.label,
            effect_text=r.effect_text or _default_effect_text(r),
            significant=r.significant,
            x_value=x(r.value),
            x_low=x(r.ci_low) if r.ci_high is not None else None,
            x_high=x(r.ci_high) if r.ci_low is not None else None,
        )
        for r in rows
    )
    diamond = (
        PlotDiamond(
            label=f"Pooled estimate, random effects, {pooled.study_count} studies",
            effect_text=pooled.text or _pooled_text(pooled),
            x_low=axis.x(pooled.ci_low),
            x_value=axis.x(pooled.estimate),
            x_high=axis.x(pooled.ci_high),
        )
        if pooled
        else None
    )
    null = 1.0 if kind == RATIO else 0.0
    scale = rows[0].scale_label or ("Ratio" if kind == RATIO else "Difference")
    scale_note = (
        f"{scale}, log scale; 1 = no difference" if kind == RATIO else f"{scale}; 0 = no difference"
    )
    return ForestGroup(
        outcome=rows[0].outcome,
        scale_note=scale_note,
        rows=plot_rows,
        pooled=diamond,
        ticks=tuple(Tick(t, _tick_label(t), axis.x(t)) for t in axis.ticks),
        null_x=axis.x(null),
        favours_left=left,
        favours_right=right,
        direction_note=note,
    )


class _LogAxis:
    """Symmetric about 1 on a log scale: from 1/end to end."""

    def __init__(self, values: list[float]):
        extent = max((abs(math.log10(v)) for v in values), default=0.0)
        fitting = [(end, inner) for end, inner in RATIO_ENDS if math.log10(end) >= extent]
        if fitting:
            end, inner = fitting[0]
        else:
            power = math.ceil(extent)
            end, inner = 10.0**power, (10.0 ** (power // 2),)
        self.half = math.log10(end)
        above = sorted({float(end), *(float(i) for i in inner)})
        self.ticks = [*(1 / t for t in reversed(above)), 1.0, *above]

    def x(self, value: float) -> float:
        return _position(math.log10(value) / self.half)


class _LinearAxis:
    """Symmetric about 0: from -end to end, end a round number."""

    def __init__(self, values: list[float]):
        extent = max((abs(v) for v in values), default=0.0) or 1.0
        exponent = math.floor(math.log10(extent))
        for mantissa in (1, 2, 2.5, 5, 10):
            end = mantissa * 10.0**exponent
            if end >= extent:
                break
        self.end = end
        self.ticks = [round(end * f, 10) for f in (-1, -0.5, 0, 0.5, 1)]

    def x(self, value: float) -> float:
        return _position(value / self.end)


def _position(fraction: float) -> float:
    """-1..1 (the axis's ends) to a percentage of the width, clamped to the drawing area."""
    fraction = max(-1.0, min(1.0, fraction))
    return round(50.0 + fraction * (50.0 - PAD), 6)


def _tick_label(value: float) -> str:
    text = "0" if value == 0 else f"{value:g}"
    return text.replace("-", "\u2212")


def _num(value) -> str:
    if value is None:
        return "not given"
    return f"{Decimal(str(value)).normalize():f}".replace("-", "\u2212")


def _default_effect_text(row: ForestRow) -> str:
    if row.ci_low is None or row.ci_high is None:
        return f"{_num(row.value)} (95% CI not reported)"
    return f"{_num(row.value)} (95% CI {_num(row.ci_low)} to {_num(row.ci_high)})"


def _pooled_text(pooled: PooledEstimate) -> str:
    return f"{pooled.estimate:.3f} (95% CI {pooled.ci_low:.3f} to {pooled.ci_high:.3f})"


def _description(rows: list[ForestRow], compound: str) -> str:
    drawn = sum(1 for r in rows if is_plottable(r))
    outcomes = len({(r.outcome, r.measure, r.unit) for r in rows if is_plottable(r)})
    return (
        f"{drawn} finding{'s' if drawn != 1 else ''} of {compound} drawn in {outcomes} "
        f"outcome group{'s' if outcomes != 1 else ''}, each on its own axis."
    )


def _r(value: float) -> str:
    """Numbers rounded to 0.01 so the markup is stable and compact."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _pct(value: float | None) -> str:
    return "" if value is None else f"{_r(value)}%"
