"""The evidence map: an SVG scatter of compounds by score against weight of studies.

Plain Python, no Django: every label is escaped here, so the string is safe to mark safe.
"""

import math
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 640, 380
LEFT, RIGHT, TOP, BOTTOM = 56, 24, 20, 52


@dataclass(frozen=True)
class MapPoint:
    label: str
    url: str
    studies: float  # studies weighted by design (x)
    score: float  # 0-100 (y)
    tier_number: int | None


def _nice_step(span: float) -> float:
    raw = span / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if raw <= multiple * magnitude:
            return multiple * magnitude
    return 10 * magnitude


def evidence_map(points: list[MapPoint], title: str) -> str:
    """Draw each compound as a linked mark: further right = more and better studies,
    higher = stronger evidence score. Deterministic for the same points."""
    x_max = max([p.studies * 1.15 for p in points] + [1.0])  # room right of the last mark
    step = _nice_step(x_max)
    x_max = math.ceil(x_max / step) * step
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(value: float) -> float:
        return round(LEFT + plot_w * value / x_max, 1)

    def sy(value: float) -> float:
        return round(TOP + plot_h * (1 - value / 100), 1)

    parts = [
        f'<svg class="evidence-map" viewBox="0 0 {WIDTH} {HEIGHT}" role="group" '
        f'aria-labelledby="evidence-map-title evidence-map-desc" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="evidence-map-title">{escape(title)}</title>',
        '<desc id="evidence-map-desc">Each mark is a compound: its height is the evidence '
        "score (0 to 100), its distance to the right the number of studies weighted by design. "
        "The table after the chart lists the same values.</desc>",
    ]
    for tick in range(0, 101, 20):
        y = sy(tick)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}"/>'
            f'<text class="tick" x="{LEFT - 8}" y="{y + 4}" text-anchor="end">{tick}</text>'
        )
    tick = 0.0
    while tick <= x_max + 1e-9:
        x = sx(tick)
        parts.append(
            f'<line class="grid" x1="{x}" x2="{x}" y1="{TOP}" y2="{HEIGHT - BOTTOM}"/>'
            f'<text class="tick" x="{x}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">'
            f"{tick:g}</text>"
        )
        tick += step
    parts.append(
        f'<text class="axis-label" x="{LEFT + plot_w / 2}" y="{HEIGHT - 10}" '
        'text-anchor="middle">Studies, weighted by design (meta-analysis 1, RCT 0.8, '
        "cohort 0.4 ...)</text>"
        f'<text class="axis-label" transform="translate(16 {TOP + plot_h / 2}) rotate(-90)" '
        'text-anchor="middle">Evidence score</text>'
    )
    for point in sorted(points, key=lambda p: (-p.score, p.label)):
        x, y = sx(point.studies), sy(point.score)
        tier = f"tier-{point.tier_number}" if point.tier_number else "tier-none"
        anchor = "end" if x > WIDTH - 160 else "start"
        dx = -9 if anchor == "end" else 9
        label = escape(point.label)
        parts.append(
            f'<a href="{escape(point.url)}" class="map-link">'
            f"<title>{label}: score {point.score:g}, {point.studies:g} weighted studies</title>"
            f'<circle class="map-mark {tier}" cx="{x}" cy="{y}" r="7"/>'
            f'<text class="map-label" x="{x + dx}" y="{y + 4}" text-anchor="{anchor}">'
            f"{label}</text></a>"
        )
    parts.append("</svg>")
    return "".join(parts)
