"""Markdown is rendered, then sanitised: nothing an author writes can run in a visitor's browser."""

import threading

import pytest

from evidence.markdown import _converter, render_markdown


def test_script_tags_are_removed_with_their_content():
    html = render_markdown("Before\n\n<script>alert(1)</script>\n\nAfter")
    assert "<script" not in html and "alert(1)" not in html
    assert "<p>Before</p>" in html and "<p>After</p>" in html


def test_event_handler_attributes_are_removed():
    html = render_markdown('<img src=x onerror=alert(1)>\n\n<p onclick="steal()">Hi</p>')
    assert "onerror" not in html and "onclick" not in html and "alert(1)" not in html
    assert "<img" not in html
    assert "Hi" in html


@pytest.mark.parametrize(
    "text",
    [
        "[x](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[x](vbscript:msgbox(1))",
    ],
)
def test_dangerous_link_schemes_end_up_inert(text):
    html = render_markdown(text)
    assert "javascript:" not in html.lower()
    assert "data:" not in html and "vbscript:" not in html
    assert "href" not in html
    assert ">x</a>" in html


def test_inline_styles_iframes_and_forms_are_removed():
    html = render_markdown(
        '<p style="color:red">Red</p><iframe src="https://x.example"></iframe>'
        '<form action="/x"><input name="q"></form><style>p{}</style>'
    )
    for forbidden in ("style", "<iframe", "<form", "<input"):
        assert forbidden not in html
    assert "Red" in html


def test_safe_links_keep_their_address_and_get_rel():
    html = render_markdown(
        "[PubMed](https://pubmed.ncbi.nlm.nih.gov/1/) [mail](mailto:a@example.com) "
        "[web](http://example.com) [page](/methodology/)"
    )
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/1/"' in html
    assert 'href="mailto:a@example.com"' in html
    assert 'href="http://example.com"' in html
    assert 'href="/methodology/"' in html
    assert 'rel="nofollow noopener noreferrer"' in html


def test_article_formatting_survives():
    text = (
        "# Title\n\n## Section\n\nSome **bold** and *italic* and `code`.\n\n"
        "- one\n- two\n\n1. first\n2. second\n\n> quoted\n\n---\n\n"
        "```\npre block\n```\n\n| Outcome | OR |\n|---|---|\n| Complete | 0.54 |\n"
    )
    html = render_markdown(text)
    for fragment in (
        "<h1>Title</h1>",
        "<h2>Section</h2>",
        "<strong>bold</strong>",
        "<em>italic</em>",
        "<code>code</code>",
        "<ul>",
        "<ol>",
        "<blockquote>",
        "<hr>",
        "<pre>",
        "<table>",
        "<th>Outcome</th>",
        "<td>0.54</td>",
    ):
        assert fragment in html, fragment


def test_headings_can_be_demoted_under_the_page_heading():
    html = render_markdown("# One\n\n## Two\n\n###### Six", heading_offset=1)
    assert "<h2>One</h2>" in html and "<h3>Two</h3>" in html and "<h6>Six</h6>" in html
    assert "<h1>" not in html


def test_empty_text_renders_nothing():
    assert render_markdown("") == ""
    assert render_markdown(None) == ""


def test_a_text_does_not_see_the_link_definitions_of_the_text_before():
    # The converter is reused between texts: what one text defines must not leak to the next.
    first = render_markdown("See [the trial][t].\n\n[t]: https://example.org/trial")
    second = render_markdown("See [the trial][t].")
    assert 'href="https://example.org/trial"' in first
    assert "href" not in second and "[the trial][t]" in second


def test_each_thread_converts_with_a_converter_of_its_own():
    seen = []
    worker = threading.Thread(target=lambda: seen.append(_converter()))
    worker.start()
    worker.join()
    assert seen[0] is not _converter()
    assert render_markdown("**bold**") == "<p><strong>bold</strong></p>"
