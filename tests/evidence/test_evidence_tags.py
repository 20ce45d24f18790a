"""The evidence template tags: tier badges and effects written as papers write them."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from evidence.models import Finding
from evidence.templatetags.evidence_tags import format_effect
from tests.factories import make_compound, make_rating
from tests.factories.pages import full_page

pytestmark = pytest.mark.django_db


def test_tier_badges_carry_number_and_label_as_text(client):
    make_rating(make_compound("Badge compound"), tier_number=2)
    html = full_page(client.get(reverse("compound_index")))
    assert re.search(
        r'class="tier-badge tier-2"><span class="tier-badge__number">Tier 2</span>'
        r'<span class="tier-badge__label">Likely efficacy</span>',
        html,
    )


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"value": Decimal("0.54"), "ci_low": Decimal("0.30"), "ci_high": Decimal("0.97")},
            "OR 0.54 (95% CI 0.30–0.97)",
        ),
        (
            {
                "measure": Finding.Measure.HAZARD_RATIO,
                "value": Decimal("0.308"),
                "ci_low": Decimal("0.175"),
                "ci_high": Decimal("0.541"),
                "p_value": Decimal("0.001"),
                "p_value_is_bound": True,
            },
            "HR 0.308 (95% CI 0.175–0.541), p<0.001",
        ),
        (
            {"measure": Finding.Measure.PROPORTION, "value": Decimal("36.4")},
            "36.4%",
        ),
        (
            {
                "measure": Finding.Measure.PROPORTION,
                "value": Decimal("1.7"),
                "comparator_value": Decimal("2.1"),
            },
            "1.7% vs 2.1%",
        ),
        ({"measure": Finding.Measure.QUALITATIVE}, "reported without figures"),
        (
            {
                "measure": Finding.Measure.MEAN_DIFFERENCE,
                "value": Decimal("-2.5"),
                "ci_low": Decimal("-4.1"),
                "ci_high": Decimal("-0.5"),
            },
            "MD −2.5 (95% CI −4.1 to −0.5)",
        ),
        (
            {"value": Decimal("0.62"), "ci_low": None, "ci_high": None, "p_value": Decimal("0.2")},
            "OR 0.62, p=0.2",
        ),
    ],
)
def test_effects_are_written_as_papers_write_them(fields, expected):
    defaults = {
        "measure": Finding.Measure.ODDS_RATIO,
        "value": None,
        "ci_low": None,
        "ci_high": None,
        "comparator_value": None,
        "p_value": None,
        "p_value_is_bound": False,
    }
    assert format_effect(Finding(**{**defaults, **fields})) == expected


def test_markdown_renders_an_editor_s_lists_and_demotes_headings_below_the_section():
    from evidence.templatetags.evidence_tags import markdown

    html = markdown("# Synthetic heading\n\n- one\n- two <script>x</script>")
    assert html.startswith("<h3>Synthetic heading</h3>")
    assert "<ul>\n<li>one</li>" in html and "<script>" not in html
    assert markdown(None) == ""
