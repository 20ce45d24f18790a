from django import template
from django.utils.safestring import mark_safe

from stacks.cards import ranked_entries_html

register = template.Library()


@register.simple_tag
def ranked_entries(entries, goal_slug: str, currency: str) -> str:
    """A ranking's cards (stacks.cards), for the builder's and a goal page's rankings."""
    return mark_safe(ranked_entries_html(entries, goal_slug, currency))  # escaped by stacks.cards
