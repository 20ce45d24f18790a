"""The forest plot: plain numbers in, escaped and accessible SVG out. No database needed."""

import math
import xml.etree.ElementTree as ET
from decimal import Decimal

from evidence.charts import DIFFERENCE, NOT_COMPARATIVE, RATIO, ForestRow, forest_plot

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def by_class(root: ET.Element, tag: str, css: str) -> list[ET.Element]:
    return [el for el in root.iter(SVG + tag) if css in el.get("class", "").split()]


def ratio(label, value, low, high, significant=False, **kwargs):
    return ForestRow(
        label, RATIO, Decimal(value), Decimal(low), Decimal(high), significant, **kwargs
    )


SEED_ROWS = [
    ratio("Virologic response", "0.62", "0.35", "1.10"),
    ratio("Biochemical response", "0.60", "0.34", "1.05"),
    ratio("Complete response", "0.54", "0.30", "0.97", significant=True),
    ratio("Overall survival", "0.308", "0.175", "0.541", significant=True),
    ForestRow("ALT normalisation", NOT_COMPARATIVE, Decimal("36.4"), None, None, None),
    ForestRow("HCC incidence", DIFFERENCE, Decimal("-0.4"), None, None, False),
]


def test_one_bar_per_plottable_finding():
    root = parse(forest_plot(SEED_ROWS))
    assert len(by_class(root, "line", "ci-bar")) == 4
    assert len(by_class(root, "rect", "point")) == 4


def test_findings_without_a_ci_are_listed_below_as_not_plottable():
    svg = forest_plot(SEED_ROWS)
    assert "Not plottable (reported without a CI): HCC incidence" in svg
    assert "Not plottable (no comparison group): ALT normalisation" in svg


def test_ratios_use_a_log_scale_with_the_null_line_at_1():
    root = parse(forest_plot([ratio("A", "1", "0.25", "4"), ratio("B", "2", "1.5", "3")]))
    (null_line,) = by_class(root, "line", "null-line")
    assert null_line.get("data-value") == "1"
    ticks = {
        text.text: float(text.get("x"))
        for group in by_class(root, "g", "axis")
        for text in group.iter(SVG + "text")
    }
    # The null line sits on the tick labelled 1.
    assert float(null_line.get("x1")) == ticks["1"]
    # Log scale: 0.5 -> 1 and 1 -> 2 are the same distance; 1 -> 2 and 2 -> 3 are not.
    assert math.isclose(ticks["1"] - ticks["0.5"], ticks["2"] - ticks["1"], abs_tol=0.2)
    assert not math.isclose(ticks["2"] - ticks["1"], ticks["3"] - ticks["2"], abs_tol=0.2)


def test_a_ci_that_is_symmetric_in_log_space_is_drawn_symmetric():
    root = parse(forest_plot([ratio("A", "1", "0.5", "2")]))
    (bar,) = by_class(root, "line", "ci-bar")
    (point,) = by_class(root, "rect", "point")
    centre = float(point.get("x")) + float(point.get("width")) / 2
    assert math.isclose(centre - float(bar.get("x1")), float(bar.get("x2")) - centre, abs_tol=0.2)


def test_significant_findings_are_filled_and_starred():
    root = parse(forest_plot(SEED_ROWS))
    significant = by_class(root, "rect", "point-significant")
    assert len(significant) == 2
    assert all(rect.get("fill") != "#ffffff" for rect in significant)
    hollow = [r for r in by_class(root, "rect", "point") if r not in significant]
    assert all(rect.get("fill") == "#ffffff" for rect in hollow)
    starred = [
        "".join(text.itertext())
        for group in by_class(root, "g", "significant")
        for text in group.findall(SVG + "text")
    ]
    assert sum(1 for text in starred if text.endswith(" *")) == 2


def test_mixed_ratios_and_differences_get_separate_panels_and_null_lines():
    rows = [
        ratio("Odds", "0.5", "0.3", "0.8", significant=True),
        ForestRow("Mean change", DIFFERENCE, Decimal("-2"), Decimal("-3.5"), Decimal("-0.5"), True),
    ]
    svg = forest_plot(rows)
    root = parse(svg)
    assert [line.get("data-value") for line in by_class(root, "line", "null-line")] == ["1", "0"]
    assert len(by_class(root, "g", "axis")) == 2
    assert "log scale" in svg and "Differences" in svg
    assert "\u22122" in svg  # negative ticks use a real minus sign


def test_labels_and_titles_are_escaped():
    evil = 'Outcome <script>alert("x")</script> & more'
    svg = forest_plot([ratio(evil, "0.5", "0.3", "0.8")], title="<b>Plot</b>")
    assert "<script" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg and "&amp; more" in svg
    parse(svg)  # still well-formed XML


def test_the_chart_is_accessible():
    root = parse(forest_plot(SEED_ROWS, chart_id="forest"))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "forest-title forest-desc"
    assert root.find(SVG + "title").get("id") == "forest-title"
    desc = root.find(SVG + "desc")
    assert desc.get("id") == "forest-desc"
    for row in SEED_ROWS:
        assert row.label in desc.text
    assert "Complete response" in desc.text and "significant" in desc.text


def test_output_is_deterministic():
    assert forest_plot(SEED_ROWS) == forest_plot(list(SEED_ROWS))


def test_tuples_are_accepted_as_rows():
    svg = forest_plot([("Tuple row", RATIO, 0.5, 0.3, 0.8, True, "compound")])
    assert len(by_class(parse(svg), "line", "ci-bar")) == 1


def test_nothing_plottable_still_gives_a_valid_chart():
    root = parse(forest_plot([ForestRow("Only words", RATIO, None, None, None)]))
    assert by_class(root, "line", "ci-bar") == []
    assert "Not plottable (reported without figures): Only words" in "".join(root.itertext())


def test_a_narrow_ratio_range_still_gets_readable_ticks():
    root = parse(forest_plot([ratio("Narrow", "1.02", "0.98", "1.07")]))
    labels = [t.text for g in by_class(root, "g", "axis") for t in g.iter(SVG + "text")]
    assert "1" in labels and len(labels) >= 3
