from django import template
from django.utils.safestring import mark_safe

from stacks.cards import other_lists_html, ranked_entries_html

register = template.Library()


@register.simple_tag
def ranked_entries(entries, goal_slug: str, currency: str) -> str:
    """A ranking's cards (stacks.cards), for the builder's and a goal page's rankings."""
    return mark_safe(ranked_entries_html(entries, goal_slug, currency))  # escaped by stacks.cards


@register.simple_tag
def other_lists(ranking) -> str:
    """A ranking's lists below its cards (stacks.cards): no benefit, no direction, excluded."""
    return mark_safe(other_lists_html(ranking))  # escaped by stacks.cards
