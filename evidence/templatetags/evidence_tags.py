"""Template tags shared by every page: tier badges, the disclaimer, and evidence formatting.

    {% load evidence_tags %}
    {% tier_badge rating.tier %}            badge saying "Tier 3 · Probable efficacy" in words
    {% tier_badge rating.tier size="lg" %}  a larger badge (page headers)
    {% disclaimer %}                        the notice shown above every ranking and article
    {{ finding|effect_text }}               "OR 0.54 (95% CI 0.30–0.97)", "36.4%", ...
    {{ finding|significance_text }}         "Yes" / "No" / "Not assessable"
    {{ offer.price|money:offer.currency }}  "$40.00"
    {{ offer.price_per_mg|per_mg:offer.currency }}  "$8.00/mg"
    {{ offer.currency|currency_symbol }}    "$", or "" for a currency money() writes by code
    {{ dosing.amount|plain_number }}        1.6000 -> "1.6"
    {{ rating.limitations|markdown }}       an editor's Markdown (lists, emphasis) as safe HTML,
                                            its headings below the section's <h2>
    {% canonical_url %}                     the page's absolute address (base.html's <head>)
    {% block_text "title" %}                a block's text again, whitespace collapsed (the
                                            Open Graph tags repeat the title and description)
    {% slug_url "compound_detail" entry.slug %}   the address {% url %} gives, for a view
                                            named by slugs, without matching the URL patterns
                                            each time (evidence.links; `as name` works too)
    {% shared_fragment "ranked" ranking.key %}...{% endshared_fragment %}
                                            what it encloses, rendered once per content version
                                            for every page that draws the same key

The formatting itself lives in evidence.formatting (plain functions, shared with the admin).
"""

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.template.loader_tags import BLOCK_CONTEXT_KEY
from django.utils.safestring import mark_safe

from evidence import links
from evidence.cache import shared_parts
from evidence.formatting import (
    CURRENCY_SYMBOLS,
    format_effect,
    format_money,
    format_significance,
    plain,
)
from evidence.markdown import render_markdown

register = template.Library()

# Each tier number has one colour class in static/css/site.css (.tier-1 ... .tier-6). Tiers
# added beyond the default ladder get a neutral badge; the words carry the meaning anyway.
COLOURED_TIERS = range(1, 7)


# The badges drawn so far in this process, by tier number, label and size: the same few fill
# every ranking (a badge drawn through its template cost a quarter of a ranked entry). A label
# an editor changes is a new key; a deploy restarts the process. Not kept with DEBUG on, where
# an edited template must show at once.
_drawn_badges: dict[tuple, str] = {}
DRAWN_BADGES_KEPT = 100


@register.simple_tag
def tier_badge(tier, size=""):
    """A badge with the tier number and label as text, coloured consistently by number."""
    key = (None, None, size) if tier is None else (tier.number, tier.label, size)
    badge = _drawn_badges.get(key)
    if badge is None:
        if tier is None:
            css = "tier-none"
        else:
            css = f"tier-{tier.number}" if tier.number in COLOURED_TIERS else "tier-other"
        context = {"tier": tier, "css": css, "size": size}
        badge = render_to_string("evidence/components.html#tier_badge", context)
        if not settings.DEBUG:
            if len(_drawn_badges) >= DRAWN_BADGES_KEPT:
                _drawn_badges.clear()
            _drawn_badges[key] = badge
    return badge  # safe: rendered by its template, which escaped the label


@register.inclusion_tag("evidence/components.html#disclaimer")
def disclaimer():
    """The short "not medical advice" notice for the top of every ranking."""
    return {}


@register.inclusion_tag("evidence/components.html#certainty_steps")
def certainty_steps(steps, label="", total=""):
    """The steps of a computed certainty, each with its reason and change ("(-1)"); `label`
    names the list for screen readers, `total` (e.g. "Moderate") closes it when given."""
    return {"steps": steps, "label": label, "total": total}


@register.simple_tag(takes_context=True)
def canonical_url(context) -> str:
    """The page's own absolute address: its path and only the query parameters the view
    reads, normalised (a cached view sees no others, evidence.cache), so campaign parameters
    and their order never make a second address for one page."""
    request = context.get("request")
    if request is None:
        return ""
    query = request.GET.urlencode()
    return request.build_absolute_uri(request.path + (f"?{query}" if query else ""))


@register.simple_tag(takes_context=True)
def block_text(context, name: str) -> str:
    """The text a block of this page renders (its most derived version), whitespace
    collapsed: what the title and description blocks say, repeated in the meta tags. The
    block's own escaping stands."""
    blocks = context.render_context.get(BLOCK_CONTEXT_KEY)
    block = blocks.get_block(name) if blocks is not None else None
    if block is None:
        return ""
    return mark_safe(" ".join(block.render(context).split()))  # escaped by the block itself


@register.simple_tag
def slug_url(name: str, *slugs) -> str:
    return links.slug_url(name, *slugs)


@register.filter
def effect_text(finding) -> str:
    return format_effect(finding)


@register.filter
def significance_text(finding) -> str:
    return format_significance(finding.significant)


@register.filter
def money(value, currency="USD") -> str:
    return "" if value is None else format_money(value, currency)


@register.filter
def currency_symbol(currency: str) -> str:
    """The symbol money() writes for the currency ("$"), or "" when it writes the code."""
    return CURRENCY_SYMBOLS.get(currency, "")


@register.filter
def per_mg(value, currency="USD") -> str:
    return "" if value is None else format_money(value, currency, per_mg=True) + "/mg"


@register.filter
def plain_number(value) -> str:
    return "" if value is None else plain(value)


@register.filter
def markdown(text) -> str:
    """Short Markdown written by editors (a rating's sections), rendered and sanitised by
    evidence.markdown; its headings start at <h3>, under the section's own <h2>."""
    return mark_safe(render_markdown(text or "", heading_offset=2))  # sanitised by nh3


class SharedFragmentNode(template.Node):
    def __init__(self, nodelist, name, key):
        self.nodelist, self.name, self.key = nodelist, name, key

    def render(self, context) -> str:
        key = self.key.resolve(context)
        if not key:  # nothing names what the fragment draws: rendered each time
            return self.nodelist.render(context)
        name = f"{self.name.resolve(context)}:{key}"
        return shared_parts("fragment", [name], lambda _: {name: self.nodelist.render(context)})[
            name
        ]


@register.tag
def shared_fragment(parser, token):
    """`{% shared_fragment "name" key %}...{% endshared_fragment %}`: the enclosed HTML,
    rendered once per content version and release and shared by every page that draws the
    same name and key (evidence.cache.shared_parts; outside a cached page, rendered each
    time). Whatever it encloses must depend on nothing but the key: the key names the data
    it draws (a Ranking's `key`), never a visitor's request."""
    try:
        _, name, key = token.split_contents()
    except ValueError:
        raise template.TemplateSyntaxError(
            'shared_fragment takes a name and a key: {% shared_fragment "name" key %}'
        ) from None
    nodelist = parser.parse(("endshared_fragment",))
    parser.delete_first_token()
    return SharedFragmentNode(nodelist, parser.compile_filter(name), parser.compile_filter(key))
