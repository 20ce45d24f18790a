"""Server-drawn SVG charts. Plain Python: no Django, no JavaScript, deterministic output.

forest_plot(rows) draws one horizontal line per finding: the 95% CI as a bar, the point
estimate as a square (filled and starred when significant), against the line of no effect
(1 for ratios on a log scale, 0 for differences). Ratios and differences never share an axis:
each kind gets its own panel. Every piece of text is escaped before it enters the markup.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from html import escape

RATIO = "ratio"
DIFFERENCE = "difference"
NOT_COMPARATIVE = "none"

PANEL_TITLES = {
    RATIO: "Ratios (odds, risk, hazard); log scale, 1 = no difference",
    DIFFERENCE: "Differences; 0 = no difference",
}

# Geometry, in SVG user units (the SVG scales to its container).
WIDTH = 900
LABEL_X = 8
PLOT_LEFT = 300
PLOT_RIGHT = 590
TEXT_X = 604
ROW_HEIGHT = 26
PANEL_TITLE_HEIGHT = 26
AXIS_HEIGHT = 34
PANEL_GAP = 18
NOTE_LINE_HEIGHT = 18
MARKER = 9
LABEL_CHARS = 42
TEXT_CHARS = 44

COLOUR_TEXT = "#1b2430"
COLOUR_MUTED = "#566273"
COLOUR_AXIS = "#8a96a3"
COLOUR_NULL = "#1b2430"
COLOUR_MARK = "#1f5fbf"
COLOUR_GRID = "#e6eaef"


@dataclass(frozen=True)
class ForestRow:
    """One finding to plot. kind is "ratio", "difference" or "none" (a single-arm result)."""

    label: str
    kind: str
    value: Decimal | float | None
    ci_low: Decimal | float | None
    ci_high: Decimal | float | None
    significant: bool | None = None
    favours: str = ""
    effect_text: str = ""


def is_plottable(row: ForestRow) -> bool:
    if row.kind not in (RATIO, DIFFERENCE):
        return False
    if row.value is None or row.ci_low is None or row.ci_high is None:
        return False
    return row.kind != RATIO or min(row.value, row.ci_low, row.ci_high) > 0


def not_plottable_reason(row: ForestRow) -> str:
    if row.kind not in (RATIO, DIFFERENCE):
        return "no comparison group"
    if row.value is None:
        return "reported without figures"
    if row.ci_low is None or row.ci_high is None:
        return "reported without a CI"
    return "values cannot be drawn on a log scale"


def forest_plot(
    rows: Iterable[ForestRow], *, chart_id: str = "forest-plot", title: str = ""
) -> str:
    """An accessible SVG forest plot of the rows, as a string of escaped markup."""
    rows = [r if isinstance(r, ForestRow) else ForestRow(*r) for r in rows]
    chart_id = _safe_id(chart_id)
    title = title or "Forest plot of the findings with a 95% confidence interval"
    panels = [
        (kind, [r for r in rows if r.kind == kind and is_plottable(r)])
        for kind in (RATIO, DIFFERENCE)
    ]
    panels = [(kind, panel_rows) for kind, panel_rows in panels if panel_rows]
    skipped = [r for r in rows if not is_plottable(r)]

    parts: list[str] = []
    y = 8
    for kind, panel_rows in panels:
        if y > 8:
            y += PANEL_GAP
        y = _draw_panel(parts, kind, panel_rows, y)
    if not panels:
        parts.append(
            _text(
                LABEL_X,
                y + 16,
                "No finding was reported with a value and a 95% CI.",
                "start",
                fill=COLOUR_MUTED,
            )
        )
        y += 26
    if panels:
        y += 6
        parts.append(
            _text(
                LABEL_X,
                y + 12,
                "■ * significant (CI excludes no difference)   □ not significant",
                "start",
                fill=COLOUR_MUTED,
                size=12,
            )
        )
        y += 22
    if skipped:
        y += 6
        for row in skipped:
            line = f"Not plottable ({not_plottable_reason(row)}): {row.label}"
            parts.append(
                _text(
                    LABEL_X,
                    y + 12,
                    _truncate(line, 110),
                    "start",
                    fill=COLOUR_MUTED,
                    size=12,
                    full=line,
                )
            )
            y += NOTE_LINE_HEIGHT
    height = y + 8

    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" class="forest-plot" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(_description(rows))}</desc>'
    )
    return head + "".join(parts) + "</svg>"


def _draw_panel(parts: list[str], kind: str, rows: list[ForestRow], top: int) -> int:
    """Append one panel (title, rows, axis) and return the y where the next thing may start."""
    low = min(float(r.ci_low) for r in rows)
    high = max(float(r.ci_high) for r in rows)
    scale = _LogScale(low, high) if kind == RATIO else _LinearScale(low, high)

    parts.append(_text(LABEL_X, top + 16, PANEL_TITLES[kind], "start", weight="600", size=13))
    rows_top = top + PANEL_TITLE_HEIGHT
    rows_bottom = rows_top + ROW_HEIGHT * len(rows)

    parts.append('<g class="forest-grid">')
    for tick in scale.ticks:
        x = _r(scale.x(tick))
        parts.append(
            f'<line x1="{x}" y1="{rows_top}" x2="{x}" y2="{rows_bottom}" '
            f'stroke="{COLOUR_GRID}" stroke-width="1"/>'
        )
    parts.append("</g>")

    null_x = _r(scale.x(1.0 if kind == RATIO else 0.0))
    parts.append(
        f'<line class="null-line" data-value="{1 if kind == RATIO else 0}" x1="{null_x}" '
        f'y1="{rows_top - 4}" x2="{null_x}" y2="{rows_bottom}" stroke="{COLOUR_NULL}" '
        f'stroke-width="1.5" stroke-dasharray="4 3"/>'
    )

    for i, row in enumerate(rows):
        cy = rows_top + ROW_HEIGHT * i + ROW_HEIGHT // 2
        x_low, x_high = _r(scale.x(float(row.ci_low))), _r(scale.x(float(row.ci_high)))
        x_value = scale.x(float(row.value))
        significant = row.significant is True
        star = " *" if significant else ""
        value_text = row.effect_text or _default_effect_text(row)
        parts.append(f'<g class="forest-row{" significant" if significant else ""}">')
        parts.append(f"<title>{escape(_row_sentence(row))}</title>")
        parts.append(
            _text(LABEL_X, cy + 4, _truncate(row.label, LABEL_CHARS), "start", full=row.label)
        )
        parts.append(
            f'<line class="ci-bar" x1="{x_low}" y1="{cy}" x2="{x_high}" y2="{cy}" '
            f'stroke="{COLOUR_MARK}" stroke-width="2"/>'
        )
        half = MARKER / 2
        parts.append(
            f'<rect class="point{" point-significant" if significant else ""}" '
            f'x="{_r(x_value - half)}" y="{_r(cy - half)}" width="{MARKER}" height="{MARKER}" '
            f'fill="{COLOUR_MARK if significant else "#ffffff"}" stroke="{COLOUR_MARK}" '
            f'stroke-width="2"/>'
        )
        parts.append(
            _text(
                TEXT_X,
                cy + 4,
                _truncate(value_text, TEXT_CHARS) + star,
                "start",
                size=12,
                weight="600" if significant else None,
                full=value_text + star,
            )
        )
        parts.append("</g>")

    axis_y = rows_bottom + 2
    parts.append(
        f'<g class="axis"><line x1="{PLOT_LEFT}" y1="{axis_y}" x2="{PLOT_RIGHT}" y2="{axis_y}" '
        f'stroke="{COLOUR_AXIS}" stroke-width="1"/>'
    )
    for tick in scale.ticks:
        x = _r(scale.x(tick))
        parts.append(
            f'<line x1="{x}" y1="{axis_y}" x2="{x}" y2="{axis_y + 5}" stroke="{COLOUR_AXIS}" '
            f'stroke-width="1"/>'
        )
        parts.append(
            _text(
                scale.x(tick), axis_y + 18, _tick_label(tick), "middle", size=11, fill=COLOUR_MUTED
            )
        )
    parts.append("</g>")
    return axis_y + AXIS_HEIGHT - 6


class _LogScale:
    def __init__(self, low: float, high: float):
        low, high = min(low, 1.0), max(high, 1.0)
        lo, hi = math.log10(low), math.log10(high)
        if hi - lo < 0.2:  # at least a factor of ~1.6 across the panel
            mid = (lo + hi) / 2
            lo, hi = mid - 0.1, mid + 0.1
        pad = (hi - lo) * 0.06
        self.lo, self.hi = lo - pad, hi + pad
        self.ticks = self._ticks()

    def x(self, value: float) -> float:
        return PLOT_LEFT + (math.log10(value) - self.lo) / (self.hi - self.lo) * (
            PLOT_RIGHT - PLOT_LEFT
        )

    def _ticks(self) -> list[float]:
        low, high = 10**self.lo, 10**self.hi
        series = [
            (1,),
            (1, 2, 5),
            (1, 1.5, 2, 3, 5, 7),
            (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9),
        ]
        best: list[float] = [1.0]
        for mantissas in series:
            ticks = sorted(
                {
                    round(m * 10**e, 6)
                    for e in range(math.floor(self.lo) - 1, math.ceil(self.hi) + 1)
                    for m in mantissas
                    if low <= m * 10**e <= high
                }
            )
            if len(ticks) > 9:
                break
            best = ticks
            if len(ticks) >= 4:
                break
        if 1.0 not in best:
            best = sorted({*best, 1.0})
        return best


class _LinearScale:
    def __init__(self, low: float, high: float):
        low, high = min(low, 0.0), max(high, 0.0)
        if high - low == 0:
            low, high = -1.0, 1.0
        step = _nice_step((high - low) / 5)
        self.lo = math.floor(low / step) * step
        self.hi = math.ceil(high / step) * step
        count = round((self.hi - self.lo) / step)
        self.ticks = [round(self.lo + step * i, 10) for i in range(count + 1)]

    def x(self, value: float) -> float:
        return PLOT_LEFT + (value - self.lo) / (self.hi - self.lo) * (PLOT_RIGHT - PLOT_LEFT)


def _nice_step(raw: float) -> float:
    exponent = math.floor(math.log10(raw))
    fraction = raw / 10**exponent
    nice = 1 if fraction <= 1 else 2 if fraction <= 2 else 5 if fraction <= 5 else 10
    return nice * 10**exponent


def _tick_label(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    if text == "-0":
        text = "0"
    return text.replace("-", "\u2212")


def _default_effect_text(row: ForestRow) -> str:
    return f"{_num(row.value)} ({_num(row.ci_low)} to {_num(row.ci_high)})"


def _num(value) -> str:
    if value is None:
        return "not given"
    return f"{Decimal(str(value)).normalize():f}".replace("-", "\u2212")


def _row_sentence(row: ForestRow) -> str:
    effect = row.effect_text or (
        _default_effect_text(row) if is_plottable(row) else not_plottable_reason(row)
    )
    significance = {True: "significant", False: "not significant"}.get(
        row.significant, "significance not assessable"
    )
    favours = f", favours {row.favours}" if row.favours else ""
    return f"{row.label}: {effect}; {significance}{favours}."


def _description(rows: list[ForestRow]) -> str:
    if not rows:
        return "No findings."
    lines = []
    for i, row in enumerate(rows, 1):
        suffix = "" if is_plottable(row) else f" Not plottable: {not_plottable_reason(row)}."
        lines.append(f"{i}. {_row_sentence(row)}{suffix}")
    return " ".join(lines)


def _text(
    x,
    y,
    content: str,
    anchor: str,
    *,
    fill: str = COLOUR_TEXT,
    size: int = 13,
    weight: str | None = None,
    full: str | None = None,
) -> str:
    """A <text> element; when content was shortened, the full text goes in a <title>."""
    weight_attr = f' font-weight="{weight}"' if weight else ""
    hint = f"<title>{escape(full)}</title>" if full is not None and full != content else ""
    return (
        f'<text x="{_r(x)}" y="{_r(y)}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{fill}"{weight_attr}>{hint}{escape(content)}</text>'
    )


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _r(value: float) -> str:
    """Coordinates rounded to 0.1 so the markup is stable and compact."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _safe_id(value: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_" else "-" for c in value)
    return cleaned or "forest-plot"
