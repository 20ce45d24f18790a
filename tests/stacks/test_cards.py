"""A ranking's cards and other lists drawn in Python (stacks.cards): what they say, their links,
and their escaping."""

from decimal import Decimal
from html.parser import HTMLParser

from django.template import Context, Template
from django.urls import reverse
from django.utils.text import Truncator
from hypothesis import given
from hypothesis import strategies as st

from evidence.models import Goal
from stacks.cards import BOTTOM_LINE_WORDS, other_lists_html, ranked_entries_html
from stacks.ranking import Exclusion, RankedCompound, Ranking


def entry(**values) -> RankedCompound:
    fields = {
        "slug": "synthetic-alpha",
        "name": "Synthetic Alpha",
        "kind": "supplement",
        "score": 72.5,
        "tier_number": 3,
        "tier_label": "Probable efficacy",
        "components": (),
        "study_count": 4,
        "randomised_study_count": 2,
        "participants": 320,
        "certainty": 3,
    }
    return RankedCompound(**(fields | values))


def card(**values) -> str:
    return ranked_entries_html([entry(**values)], "synthetic-goal", "USD")


class TextAndLinks(HTMLParser):
    def __init__(self):
        super().__init__()
        self.text, self.links = [], []

    def handle_data(self, data):
        self.text.append(data)

    def handle_starttag(self, tag, attrs):
        self.links += [value for name, value in attrs if name in ("href", "hx-get")]


def read(html: str) -> TextAndLinks:
    parser = TextAndLinks()
    parser.feed(html)
    return parser


def test_a_card_says_the_name_tier_score_certainty_and_studies():
    text = "".join(read(card()).text)
    assert "Synthetic Alpha" in text
    assert "Tier 3" in text and "Probable efficacy" in text
    assert "Score 72.5" in text
    assert "Certainty of benefit: Moderate" in text
    assert "4 studies, 2 randomised, 320 participants" in text


def test_a_card_links_the_compound_its_evidence_its_vendors_and_its_why():
    links = read(card()).links
    compound = reverse("compound_detail", args=["synthetic-alpha"])
    why = reverse("why_rank", args=["synthetic-goal", "synthetic-alpha"])
    evidence = reverse("evidence_detail", args=["synthetic-alpha", "synthetic-goal"])
    assert links == [compound, why, why, evidence, compound + "#where-to-buy"]


def test_a_computed_place_says_so_instead_of_a_tier():
    html = card(computed=True, tier_number=None, tier_label="", study_count=1)
    text = "".join(read(html).text)
    assert "Computed, not yet reviewed by an editor" in text
    assert "computed from 1 study" in text
    assert "Tier" not in text


def test_an_unrated_certainty_is_not_assessable():
    html = card(certainty=None)
    assert 'class="certainty certainty--0"' in html
    assert "Certainty of benefit: Not assessable" in html


def test_participants_and_cost_are_left_out_when_not_known():
    text = "".join(read(card(participants=0, monthly_cost=None)).text)
    assert "4 studies, 2 randomised" in text
    assert "participants" not in text and "month" not in text


def test_the_monthly_cost_is_written_in_the_visitors_currency():
    html = ranked_entries_html([entry(monthly_cost=Decimal("12.5"))], "synthetic-goal", "EUR")
    assert "about €12.50/month" in html


def test_a_long_bottom_line_is_cut_at_forty_words():
    words = [f"word{n}" for n in range(60)]
    text = "".join(read(card(bottom_line=" ".join(words))).text)
    assert " ".join(words[:40]) + " …" in text
    assert "word40" not in text


def test_no_bottom_line_draws_no_paragraph_for_it():
    assert "ranked__bottom-line" not in card(bottom_line="")


def test_cards_are_drawn_in_order_and_none_for_no_entries():
    html = ranked_entries_html(
        [entry(slug="synthetic-b", name="B"), entry(slug="synthetic-a", name="A")], "g", "USD"
    )
    assert html.index(">B<") < html.index(">A<")
    assert ranked_entries_html([], "g", "USD") == ""


def test_the_tag_draws_the_cards_unescaped_once():
    template = Template("{% load stacks_tags %}{% ranked_entries entries goal currency %}")
    html = template.render(Context({"entries": [entry()], "goal": "g", "currency": "USD"}))
    assert html == ranked_entries_html([entry()], "g", "USD")


@given(
    name=st.text(min_size=1, max_size=40).filter(str.strip),
    bottom_line=st.text(max_size=80),
)
def test_any_name_or_bottom_line_is_shown_as_text_never_as_markup(name, bottom_line):
    parsed = read(card(name=name, bottom_line=bottom_line))
    text = "".join(parsed.text)
    assert name.replace("\r", "") in text.replace("\r", "")
    shown = Truncator(bottom_line).words(BOTTOM_LINE_WORDS, truncate=" …")
    assert " ".join(shown.split()) in " ".join(text.split())
    assert len(parsed.links) == 5  # no tag smuggled in


# The lists below the cards.


def ranking(**lists) -> Ranking:
    parts = {"ranked": (), "no_effect": (), "insufficient": (), "excluded": ()} | lists
    return Ranking(goal=Goal(slug="synthetic-goal", name="Synthetic goal"), **parts)


def test_no_other_list_draws_nothing():
    assert other_lists_html(ranking()) == ""


def test_compounds_without_benefit_link_their_evidence_with_their_tier():
    html = other_lists_html(ranking(no_effect=(entry(study_count=1),)))
    parsed = read(html)
    assert parsed.links == [reverse("evidence_detail", args=["synthetic-alpha", "synthetic-goal"])]
    text = "".join(parsed.text)
    assert "Studied, no benefit found" in text
    assert "Synthetic Alpha" in text and "Tier 3" in text and "1 study" in text


def test_compounds_without_a_direction_say_so():
    html = other_lists_html(ranking(insufficient=(entry(score=None, tier_number=None),)))
    text = "".join(read(html).text)
    assert "Studied, insufficient evidence (no direction found)" in text
    assert "4 studies recorded; no finding shows a direction for this goal" in text
    assert "no benefit found" not in text


def test_excluded_compounds_give_every_reason_and_how_many_more_there_are():
    excluded = (Exclusion("synthetic-b", "Synthetic B", None, ("Injected", "Over budget")),)
    html = other_lists_html(ranking(excluded=excluded, totals={"excluded": 7}))
    parsed = read(html)
    assert parsed.links == [reverse("compound_detail", args=["synthetic-b"])]
    text = "".join(parsed.text)
    assert "Excluded by your filters (the first 1 of 7)" in text
    assert "Synthetic B: Injected; Over budget" in text
    uncut = other_lists_html(ranking(excluded=excluded, totals={"excluded": 1}))
    assert "the first" not in uncut


@given(name=st.text(min_size=1, max_size=40), reason=st.text(min_size=1, max_size=40))
def test_any_excluded_name_or_reason_is_shown_as_text(name, reason):
    excluded = (Exclusion("synthetic-b", name, None, (reason,)),)
    parsed = read(other_lists_html(ranking(excluded=excluded)))
    assert len(parsed.links) == 1
    text = "".join(parsed.text).replace("\r", "")
    assert name.replace("\r", "") in text and reason.replace("\r", "") in text
