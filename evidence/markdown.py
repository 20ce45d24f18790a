"""Markdown to sanitised HTML for research articles and the methodology page.

Markdown passes raw HTML through, so everything it produces goes through nh3 (ammonia) with a
small allow-list: no scripts, no event handlers, no images, no inline styles, and links only to
http, https and mailto (or relative) addresses.
"""

import re
import threading

import markdown as markdown_lib
import nh3

ALLOWED_TAGS = {
    "h1", "h2", "h3", "h4", "h5", "h6",
    "p", "br", "hr",
    "ul", "ol", "li",
    "strong", "em", "b", "i",
    "a",
    "blockquote", "code", "pre",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip

ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "th": {"colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "ol": {"start"},
}

ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}

EXTENSIONS = ["tables", "sane_lists", "fenced_code"]

_HEADING = re.compile(r"<(/?)h([1-6])>")

# Building a Markdown converter (its extensions loaded) costs as much as converting a rating's
# text, so each thread keeps one and resets it between texts (a converter holds the state of
# the text it converts, so threads cannot share one).
_local = threading.local()


def _converter() -> markdown_lib.Markdown:
    if (converter := getattr(_local, "converter", None)) is None:
        converter = _local.converter = markdown_lib.Markdown(
            extensions=EXTENSIONS, output_format="html"
        )
    return converter


def render_markdown(text: str, *, heading_offset: int = 0) -> str:
    """Render Markdown to HTML that is safe to mark safe.

    heading_offset demotes headings (1 turns # into <h2>) so an article's headings sit under
    the page's own <h1>; levels stop at h6.
    """
    html = _converter().reset().convert(text or "")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )
    if heading_offset:
        # Safe after cleaning: allowed headings carry no attributes, so the pattern is exact.
        clean = _HEADING.sub(lambda m: f"<{m[1]}h{min(6, int(m[2]) + heading_offset)}>", clean)
    return clean
