"""A ranking's cards and its other lists, as the builder and a goal's page draw them.

Drawn in Python rather than by the template: a builder page draws up to twenty cards per goal,
and in the template each took about 200 us on a slow machine (two address tags, a badge,
`truncatewords`, a dozen variable lookups), a fifth of a cold builder page; here about a
tenth of that. Every text is escaped here, so the string is safe to mark safe. The template
tag `ranked_entries` (stacks_tags) draws them, inside the ranking's shared fragment;
`other_lists` likewise the compounds studied without a benefit found or a direction, and those
the visitor's filters excluded (up to twenty rows each).
"""

from collections.abc import Iterable
from html import escape

from django.utils.text import Truncator

from evidence.formatting import format_money
from evidence.links import slug_urls
from evidence.templatetags.evidence_tags import tier_badge
from stacks.ranking import RankedCompound, Ranking

BOTTOM_LINE_WORDS = 40

COMPUTED_BADGE = (
    '<span class="tier-badge tier-computed"><span class="tier-badge__label">'
    "Computed, not yet reviewed by an editor</span></span>"
)


def _studies(count: int) -> str:
    return f"{count} stud{'y' if count == 1 else 'ies'}"


def ranked_entries_html(entries: Iterable[RankedCompound], goal_slug: str, currency: str) -> str:
    """The cards of `entries` in the ranking of the goal `goal_slug`, costs in `currency`,
    each: name, tier (or "computed"), score, certainty of benefit, bottom line (its first
    forty words), the studies behind it, and the links to the evidence, the vendors and its
    "why this rank" (fetched when first opened, stacks.views.why_rank). Numbers are written
    as the templates write them (no digit grouping: settings.USE_THOUSAND_SEPARATOR is off)."""
    compound_url, why_url = slug_urls("compound_detail", 1), slug_urls("why_rank", 2)
    evidence_url = slug_urls("evidence_detail", 2)
    cards = []
    for entry in entries:
        to_compound = escape(compound_url(entry.slug))
        to_why = escape(why_url(goal_slug, entry.slug))
        badge = COMPUTED_BADGE if entry.computed else tier_badge(entry.tier)
        computed_from = (
            f' <span class="small muted">· computed from {_studies(entry.study_count)}</span>'
            if entry.computed
            else ""
        )
        bottom_line = (
            '<p class="ranked__bottom-line">'
            f"{escape(Truncator(entry.bottom_line).words(BOTTOM_LINE_WORDS, truncate=' …'))}</p>"
            if entry.bottom_line
            else ""
        )
        facts = f"{_studies(entry.study_count)}, {entry.randomised_study_count} randomised"
        if entry.participants:
            facts += f", {entry.participants} participants"
        if entry.monthly_cost is not None:
            facts += f" · about {escape(format_money(entry.monthly_cost, currency))}/month"
        cards.append(
            '<li class="ranked card">'
            '<div class="ranked__head">'
            f'<a class="ranked__name" href="{to_compound}">{escape(entry.name)}</a> {badge} '
            '<span class="score" title="Evidence score out of 100">'
            f"Score {entry.score}</span>"
            "</div>"
            '<p class="ranked__certainty">'
            f'<span class="certainty certainty--{entry.certainty or 0}">'
            f"Certainty of benefit: {escape(entry.certainty_label)}</span>{computed_from}</p>"
            f"{bottom_line}"
            f'<p class="ranked__facts muted">{facts}</p>'
            '<details class="why">'
            "<summary>Why this rank</summary>"
            f'<div class="why__load" hx-get="{to_why}" hx-params="*" hx-push-url="false"'
            ' hx-trigger="toggle once from:closest details" hx-target="this"'
            ' hx-swap="outerHTML">'
            f'<p class="small"><a href="{to_why}">'
            "See the score's components and the certainty's steps</a></p>"
            "</div>"
            "</details>"
            '<p class="ranked__links">'
            f'<a href="{escape(evidence_url(entry.slug, goal_slug))}">See the evidence</a> · '
            f'<a href="{to_compound}#where-to-buy">Where to buy</a></p>'
            "</li>"
        )
    return "\n".join(cards)


def other_lists_html(ranking: Ranking) -> str:
    """The lists below a ranking's cards, each only when it has a row: the compounds studied
    with no benefit found (linked to their evidence, with their tier), those studied without a
    direction found, and those the filters excluded with their reasons (saying how many more
    when the list is cut)."""
    goal_slug = ranking.goal.slug
    evidence_url, compound_url = slug_urls("evidence_detail", 2), slug_urls("compound_detail", 1)
    parts = []
    if ranking.no_effect:
        rows = "".join(
            f'<li><a href="{escape(evidence_url(entry.slug, goal_slug))}">{escape(entry.name)}'
            f'</a> {tier_badge(entry.tier)} <span class="muted">{_studies(entry.study_count)}'
            "</span></li>"
            for entry in ranking.no_effect
        )
        parts.append(f'<h3>Studied, no benefit found</h3><ul class="plain-list">{rows}</ul>')
    if ranking.insufficient:
        rows = "".join(
            f'<li><a href="{escape(evidence_url(entry.slug, goal_slug))}">{escape(entry.name)}'
            f'</a> <span class="muted">{_studies(entry.study_count)} recorded; no finding shows'
            " a direction for this goal</span></li>"
            for entry in ranking.insufficient
        )
        parts.append(
            "<h3>Studied, insufficient evidence (no direction found)</h3>"
            f'<ul class="plain-list">{rows}</ul>'
        )
    if ranking.excluded:
        shown, total = len(ranking.excluded), ranking.totals.get("excluded", 0)
        cut = (
            f' <span class="muted small">(the first {shown} of {total})</span>'
            if total > shown
            else ""
        )
        rows = "".join(
            f'<li class="excluded"><a href="{escape(compound_url(exclusion.slug))}">'
            f"{escape(exclusion.name)}</a>: "
            + "; ".join(
                f'<span class="reason">{escape(reason)}</span>' for reason in exclusion.reasons
            )
            + "</li>"
            for exclusion in ranking.excluded
        )
        parts.append(f'<h3>Excluded by your filters{cut}</h3><ul class="excluded-list">{rows}</ul>')
    return "\n".join(parts)
