"""The evidence template tags: tier badges and effects written as papers write them."""

import re
from decimal import Decimal

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.urls import reverse

from evidence import cache as page_cache
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


def badge(tier, size=""):
    template = Template("{% load evidence_tags %}{% tier_badge tier size=size %}")
    return template.render(Context({"tier": tier, "size": size}))


def test_a_tier_badge_shows_a_label_changed_since_it_was_last_drawn():
    tier = make_rating(make_compound(), tier_number=2).tier
    assert "Likely efficacy" in badge(tier)
    tier.label = "Synthetic renamed tier"
    tier.save()
    assert "Synthetic renamed tier" in badge(tier) and "Likely efficacy" not in badge(tier)


def test_a_tier_badge_escapes_its_label_and_keeps_sizes_apart():
    tier = make_rating(make_compound(), tier_number=3).tier
    tier.label = "<script>alert(1)</script>"
    assert "&lt;script&gt;" in badge(tier) and "<script>" not in badge(tier)
    assert "tier-badge--lg" in badge(tier, "lg") and "tier-badge--lg" not in badge(tier)
    assert "Not rated yet" in badge(None)


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


# {% shared_fragment %}: rendered once per content version for every page drawing its key

SHARED = Template(
    "{% load evidence_tags %}"
    "{% shared_fragment 'synthetic' key %}{{ value }}{% endshared_fragment %}"
)


def shared(rf, key, value) -> str:
    with page_cache._building(rf.get("/")):
        return SHARED.render(Context({"key": key, "value": value}))


def test_a_shared_fragment_is_rendered_once_for_every_page_drawing_its_key(rf):
    assert shared(rf, "k1", "first") == "first"
    assert shared(rf, "k1", "second") == "first"  # the key says it is the same fragment
    assert shared(rf, "k2", "second") == "second"
    make_compound("Synthetic edit")  # a new content version: rendered again
    assert shared(rf, "k1", "third") == "third"


def test_a_fragment_without_a_key_or_outside_a_cached_page_is_rendered_each_time(rf):
    assert shared(rf, "", "first") == "first"
    assert shared(rf, "", "second") == "second"
    assert SHARED.render(Context({"key": "k3", "value": "a"})) == "a"
    assert SHARED.render(Context({"key": "k3", "value": "b"})) == "b"


def test_a_shared_fragment_needs_a_name_and_a_key():
    with pytest.raises(TemplateSyntaxError, match="takes a name and a key"):
        Template("{% load evidence_tags %}{% shared_fragment 'x' %}{% endshared_fragment %}")
