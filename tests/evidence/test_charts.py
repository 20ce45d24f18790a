"""The forest plot's layout: plain numbers in, groups, axes and "favours" sides out. No database
needed."""

import math
from dataclasses import replace
from decimal import Decimal

from evidence.charts import (
    DIFFERENCE,
    NO_FIGURES,
    NOT_COMPARATIVE,
    PAD,
    RATIO,
    ForestRow,
    PooledEstimate,
    favours_sides,
    forest_groups_html,
    forest_layout,
    is_plottable,
)

COMPOUND = "Synthetic compound"


def ratio(outcome, value, low, high, *, label="Synthetic trial", higher_is_better=False, **kw):
    kw.setdefault("measure", "hazard_ratio")
    kw.setdefault("comparator", "placebo")
    return ForestRow(
        label=label,
        outcome=outcome,
        kind=RATIO,
        value=Decimal(value),
        ci_low=None if low is None else Decimal(low),
        ci_high=None if high is None else Decimal(high),
        higher_is_better=higher_is_better,
        **kw,
    )


def difference(outcome, value, low, high, *, higher_is_better=True, **kw):
    kw.setdefault("measure", "mean_difference")
    return ForestRow(
        label="Synthetic trial",
        outcome=outcome,
        kind=DIFFERENCE,
        value=Decimal(value),
        ci_low=None if low is None else Decimal(low),
        ci_high=None if high is None else Decimal(high),
        higher_is_better=higher_is_better,
        comparator="placebo",
        **kw,
    )


def layout(rows, **kw):
    return forest_layout(rows, compound=COMPOUND, **kw)


def test_findings_are_grouped_by_outcome_in_the_order_the_outcomes_first_appear():
    plot = layout(
        [
            ratio("Synthetic mortality", "0.8", "0.6", "1.1", label="Synthetic trial A"),
            ratio("Synthetic response", "1.5", "1.2", "1.9", higher_is_better=True),
            ratio("Synthetic mortality", "0.7", "0.5", "0.9", label="Synthetic trial B"),
        ]
    )
    assert [g.outcome for g in plot.groups] == ["Synthetic mortality", "Synthetic response"]
    assert [r.label for r in plot.groups[0].rows] == ["Synthetic trial A", "Synthetic trial B"]


def test_the_same_outcome_on_another_measure_gets_its_own_axis():
    plot = layout(
        [
            ratio("Synthetic mortality", "0.8", "0.6", "1.1"),
            difference("Synthetic mortality", "-2", "-3", "-1", measure="risk_difference"),
        ]
    )
    assert len(plot.groups) == 2
    assert "log scale; 1 = no difference" in plot.groups[0].scale_note
    assert plot.groups[1].scale_note.endswith("0 = no difference")


def test_where_a_fall_is_desirable_the_compounds_side_is_the_left():
    (group,) = layout([ratio("Synthetic mortality", "0.5", "0.3", "0.8")]).groups
    assert group.favours_left == f"Favours {COMPOUND}"
    assert group.favours_right == "Favours placebo"
    assert group.rows[0].x_value < group.null_x  # HR 0.5 lies on the compound's side
    assert group.direction_note == ""


def test_where_a_rise_is_desirable_the_compounds_side_is_the_right():
    row = ratio("Synthetic response", "0.6", "0.34", "1.05", higher_is_better=True)
    (group,) = layout([replace(row, comparator="Synthetic comparator")]).groups
    assert group.favours_left == "Favours Synthetic comparator"
    assert group.favours_right == f"Favours {COMPOUND}"
    # OR 0.6 for a response that should rise lies on the comparator's side.
    assert group.rows[0].x_value < group.null_x


def test_an_unknown_desirable_direction_names_no_side_and_says_so():
    left, right, note = favours_sides(None, COMPOUND, "placebo")
    assert (left, right) == ("Lower values", "Higher values")
    assert note == f"Which side favours {COMPOUND} is not recorded for this outcome."
    (group,) = layout(
        [ratio("Synthetic marker", "1.2", "0.9", "1.6", higher_is_better=None)]
    ).groups
    assert "Favours" not in group.favours_left + group.favours_right
    assert group.direction_note


def test_findings_that_disagree_on_the_desirable_direction_name_no_side():
    (group,) = layout(
        [
            ratio("Synthetic marker", "1.2", "0.9", "1.6", higher_is_better=True),
            ratio("Synthetic marker", "0.8", "0.6", "1.1", higher_is_better=False),
        ]
    ).groups
    assert (group.favours_left, group.favours_right) == ("Lower values", "Higher values")
    assert "disagree" in group.direction_note


def test_several_comparators_in_one_group_are_named_generically():
    (group,) = layout(
        [
            ratio("Synthetic mortality", "0.8", "0.6", "1.1", comparator="placebo"),
            ratio("Synthetic mortality", "0.7", "0.5", "0.9", comparator="Synthetic drug"),
        ]
    ).groups
    assert group.favours_right == "Favours the comparator"


def test_a_ratio_axis_is_a_symmetric_log_scale_centred_on_1():
    (group,) = layout([ratio("A", "1", "0.25", "4"), ratio("A", "2", "1.5", "3")]).groups
    ticks = {t.label: t.x for t in group.ticks}
    assert group.null_x == 50 == ticks["1"]
    assert list(ticks) == ["0.25", "0.5", "1", "2", "4"]
    # Log scale: 0.5 -> 1 and 1 -> 2 are the same distance, mirrored about 1.
    assert math.isclose(ticks["1"] - ticks["0.5"], ticks["2"] - ticks["1"])
    assert math.isclose(ticks["0.25"], 100 - ticks["4"])
    assert ticks["0.25"] == PAD and ticks["4"] == 100 - PAD


def test_a_ci_that_is_symmetric_in_log_space_is_drawn_symmetric():
    (group,) = layout([ratio("A", "1", "0.5", "2")]).groups
    (row,) = group.rows
    assert math.isclose(row.x_value - row.x_low, row.x_high - row.x_value)


def test_every_mark_lies_inside_the_drawing_area_whatever_the_range():
    rows = [
        ratio("Wide", "0.01", "0.0005", "0.2"),
        ratio("Huge", "350", "40", "9000", higher_is_better=True),
        ratio("Narrow", "1.02", "0.98", "1.07"),
        difference("Points", "-0.4", None, None),
        difference("Units", "120", "-35", "275"),
    ]
    for group in layout(rows).groups:
        assert len(group.ticks) >= 3
        xs = [t.x for t in group.ticks] + [
            x for r in group.rows for x in (r.x_value, r.x_low, r.x_high) if x is not None
        ]
        assert all(PAD <= x <= 100 - PAD for x in xs), group.outcome
        assert min(t.x for t in group.ticks) == PAD and max(t.x for t in group.ticks) == 100 - PAD


def test_a_difference_axis_is_symmetric_about_0_with_real_minus_signs():
    (group,) = layout([difference("Synthetic score", "-2", "-3.5", "-0.5")]).groups
    assert [t.label for t in group.ticks] == ["\u22125", "\u22122.5", "0", "2.5", "5"]
    assert group.null_x == 50


def test_a_comparison_without_a_ci_is_drawn_as_a_point_alone():
    (group,) = layout([difference("Synthetic incidence", "-0.4", None, None)]).groups
    (row,) = group.rows
    assert not row.has_ci and row.x_value < group.null_x
    assert "95% CI not reported" in row.effect_text


def test_labels_are_kept_whole_for_the_page_to_wrap():
    label = "Synthetic trial with a very long title that no forest plot column could hold " * 3
    (group,) = layout([ratio("Synthetic outcome", "0.5", "0.3", "0.8", label=label)]).groups
    assert group.rows[0].label == label


def test_only_results_without_a_comparison_are_called_so():
    rows = [
        ForestRow("Synthetic single arm", "Synthetic ALT", NOT_COMPARATIVE, Decimal("36.4")),
        # An add-on trial against "Synthetic drug alone", reported in words only.
        ForestRow(
            "Synthetic add-on trial",
            "Synthetic response",
            NO_FIGURES,
            None,
            comparator="Synthetic drug alone",
        ),
    ]
    plot = layout(rows)
    assert plot.groups == ()
    assert plot.not_plottable == (
        ("Synthetic ALT (Synthetic single arm)", "no comparison group: a single-arm result"),
        ("Synthetic response (Synthetic add-on trial)", "reported without figures"),
    )


def test_a_ratio_that_cannot_sit_on_a_log_scale_is_not_drawn():
    row = ForestRow("Synthetic trial", "A", RATIO, Decimal(0), Decimal(0), Decimal(1))
    assert not is_plottable(row)
    assert layout([row]).not_plottable[0][1] == "values cannot be drawn on a log scale"


def test_a_pooled_estimate_becomes_the_diamond_of_its_group_only():
    rows = [
        ratio("Synthetic mortality", "0.62", "0.45", "0.85"),
        ratio("Synthetic mortality", "0.80", "0.61", "1.05"),
        ratio("Synthetic response", "1.5", "1.2", "1.9", higher_is_better=True),
    ]
    pooled = PooledEstimate(
        "Synthetic mortality", "hazard_ratio", "", 0.7, 0.55, 0.89, 2, "HR 0.700 synthetic"
    )
    mortality, response = layout(rows, pooled=[pooled]).groups
    assert response.pooled is None
    diamond = mortality.pooled
    assert diamond.label == "Pooled estimate, random effects, 2 studies"
    assert diamond.effect_text == "HR 0.700 synthetic"
    assert diamond.x_low < diamond.x_value < diamond.x_high < mortality.null_x
    tip = (diamond.x_value - diamond.x_low) / (diamond.x_high - diamond.x_low) * 100
    assert diamond.points.split()[1] == f"{tip:.2f}".rstrip("0").rstrip(".") + ",1"


def test_a_pooled_estimate_of_another_measure_or_unit_is_not_drawn():
    rows = [difference("Synthetic score", "-2", "-3", "-1", unit="points")]
    other_unit = PooledEstimate("Synthetic score", "mean_difference", "mg", -2.0, -3.0, -1.0, 2)
    (group,) = layout(rows, pooled=[other_unit]).groups
    assert group.pooled is None


def test_percentages_are_formatted_for_svg_attributes():
    (group,) = layout([ratio("A", "1", "0.5", "2")]).groups
    assert group.null_pct == "50%"
    assert group.ticks[0].pct == f"{PAD:g}%"


def test_the_description_counts_what_is_drawn():
    plot = layout(
        [
            ratio("A", "0.5", "0.3", "0.8"),
            ratio("B", "0.5", "0.3", "0.8"),
            ForestRow("Synthetic single arm", "C", NOT_COMPARATIVE, Decimal(1)),
        ]
    )
    assert plot.description == (
        f"2 findings of {COMPOUND} drawn in 2 outcome groups, each on its own axis."
    )


def test_output_is_deterministic():
    rows = [ratio("A", "0.5", "0.3", "0.8"), difference("B", "1", "0.5", "1.5")]
    assert layout(rows) == layout(list(rows))


# Drawing the groups (forest_groups_html)


def test_every_text_of_a_drawn_group_is_escaped():
    hostile = "Synthetic <b>bold</b> & \"quoted\" 'outcome'"
    row = ratio(hostile, "0.8", "0.6", "1.1", label=hostile, effect_text=hostile)
    html = forest_groups_html(layout([row]))
    assert "<b>" not in html
    assert (
        html.count("Synthetic &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot; &#x27;outcome&#x27;")
        == 3
    )


def test_each_group_is_a_section_named_by_its_heading():
    rows = [
        ratio("Synthetic mortality", "0.8", "0.6", "1.1"),
        ratio("Synthetic pain", "0.7", "0.5", "0.9"),
    ]
    html = forest_groups_html(layout(rows))
    for number, outcome in ((1, "Synthetic mortality"), (2, "Synthetic pain")):
        assert f'<section class="forest-group" aria-labelledby="forest-group-{number}">' in html
        assert f'<h3 class="forest-outcome" id="forest-group-{number}">{outcome}<span' in html


def test_a_drawn_row_says_whether_it_is_significant_in_words_as_well_as_by_its_mark():
    rows = [
        ratio("Synthetic mortality", "0.6", "0.4", "0.8", significant=True),
        ratio("Synthetic mortality", "0.9", "0.7", "1.2", significant=False),
        ratio("Synthetic mortality", "0.9", None, None, significant=None),
    ]
    html = forest_groups_html(layout(rows))
    significant, not_significant, unknown = html.split('<li class="forest-row')[1:]
    assert significant.startswith(" forest-row--significant")
    assert '<span class="visually-hidden">, significant</span>' in significant
    assert 'class="point point--significant"' in significant
    assert '<span class="visually-hidden">, not significant</span>' in not_significant
    assert "significant</span>" not in unknown
    assert 'class="point point--no-ci"' in unknown and "ci-bar" not in unknown


def test_a_drawn_group_names_its_sides_and_says_why_when_the_direction_is_unknown():
    plot = layout([ratio("Synthetic marker", "1.2", "0.9", "1.6", higher_is_better=None)])
    (group,) = plot.groups
    html = forest_groups_html(plot)
    assert f'<p class="forest-direction-note small">{group.direction_note}</p>' in html
    assert "Lower values" in html and "Higher values" in html
    for tick in group.ticks:
        assert f'<text x="{tick.pct}" y="19" text-anchor="middle">{tick.label}</text>' in html


def test_a_pooled_estimate_is_drawn_as_a_diamond_after_the_findings():
    rows = [ratio("Synthetic mortality", "0.62", "0.45", "0.85")]
    pooled = PooledEstimate(
        "Synthetic mortality", "hazard_ratio", "", 0.7, 0.55, 0.89, 2, "HR 0.700 synthetic"
    )
    plot = layout(rows, pooled=[pooled])
    html = forest_groups_html(plot)
    diamond = plot.groups[0].pooled
    assert html.index("forest-row--pooled") > html.index("Synthetic trial")
    assert f'<polygon points="{diamond.points}"' in html


def test_a_plot_without_groups_draws_nothing():
    assert forest_groups_html(layout([])) == ""
