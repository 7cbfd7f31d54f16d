"""Library texts: editor HTML is sanitised, placeholders are checked and filled escaped."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from portal.libraries.texts import (
    ALLOWED_TAGS,
    KNOWN_PLACEHOLDERS,
    TextTemplateError,
    check_template,
    find_placeholders,
    render_plain,
    render_text,
    sanitize_html,
)

VALUES = {"cutoff_date": "1. januar 2025"}


# --- placeholders -------------------------------------------------------------------------


def test_known_placeholders() -> None:
    assert KNOWN_PLACEHOLDERS == frozenset({"cutoff_date"})


def test_find_placeholders() -> None:
    text = "Gebyrer fra før {cutoff_date} betales her; {cutoff_date} igen, og {Ukendt_2}."
    assert find_placeholders(text) == {"cutoff_date", "Ukendt_2"}


@pytest.mark.parametrize("text", ["{ cutoff_date }", "{1}", "{}", "{cutoff-date}", "{{", "ingen"])
def test_braces_that_are_not_placeholders(text: str) -> None:
    assert find_placeholders(text) == set()


def test_check_template_accepts_known_placeholders() -> None:
    check_template("<p>Før {cutoff_date}</p>")  # must not raise
    check_template("ingen pladsholdere")


def test_check_template_names_unknown_placeholders() -> None:
    with pytest.raises(TextTemplateError) as caught:
        check_template("Før {cutoff} og {dato} men {cutoff_date} er fin")
    assert caught.value.unknown == frozenset({"cutoff", "dato"})
    assert isinstance(caught.value, ValueError)
    assert "{cutoff}" in str(caught.value) and "{dato}" in str(caught.value)
    assert "{cutoff_date}" in str(caught.value)  # the message also says what is known


# --- sanitising ---------------------------------------------------------------------------


def test_allowed_html_is_kept() -> None:
    html = (
        "<p>Se <strong>her</strong>, <em>her</em>, <b>b</b>, <i>i</i><br>"
        '<a href="https://bib.dk/gebyrer">link</a> <a href="mailto:bib@kk.dk">mail</a></p>'
        "<ul><li>en</li></ul><ol><li>to</li></ol>"
    )
    assert sanitize_html(html) == (
        "<p>Se <strong>her</strong>, <em>her</em>, <b>b</b>, <i>i</i><br>"
        '<a href="https://bib.dk/gebyrer" rel="noopener noreferrer">link</a> '
        '<a href="mailto:bib@kk.dk" rel="noopener noreferrer">mail</a></p>'
        "<ul><li>en</li></ul><ol><li>to</li></ol>"
    )


def test_script_is_removed_with_its_content() -> None:
    assert sanitize_html("<p>Hej</p><script>alert('x')</script>") == "<p>Hej</p>"
    assert sanitize_html("<SCRIPT src=https://evil.example/x.js></SCRIPT>ok") == "ok"


def test_event_handler_attributes_are_removed() -> None:
    assert sanitize_html('<p onclick="alert(1)">a</p>') == "<p>a</p>"
    assert sanitize_html('<strong onmouseover="x()" style="color:red">b</strong>') == "<strong>b</strong>"
    assert sanitize_html('<img src=x onerror="alert(1)">c') == "c"


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        " JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:x",
        "/relative",
        "#top",
        "ftp://x.dk",
    ],
)
def test_links_other_than_http_https_mailto_lose_their_href(href: str) -> None:
    cleaned = sanitize_html(f'<a href="{href}">klik</a>')
    assert cleaned == '<a rel="noopener noreferrer">klik</a>'


@pytest.mark.parametrize(
    "html",
    [
        "<iframe src=https://x.dk></iframe>",
        "<style>p{}</style>",
        "<form><input></form>",
        "<object data=x></object>",
        "<svg><script>alert(1)</script></svg>",
    ],
)
def test_other_tags_are_removed(html: str) -> None:
    assert sanitize_html(html + "tekst") == "tekst"


# --- rendering ----------------------------------------------------------------------------


def test_render_returns_markup_with_placeholder_filled() -> None:
    result = render_text("Gebyrer fra før {cutoff_date} betales her.", VALUES)
    assert isinstance(result, Markup)
    assert result == "<p>Gebyrer fra før 1. januar 2025 betales her.</p>"


def test_blank_lines_make_paragraphs_and_a_line_break_stays_one() -> None:
    text = "Første afsnit\nsamme afsnit.\n\nAndet afsnit\r\n  \r\nTredje med **fed**.\n\n\n"
    assert render_text(text, VALUES) == (
        "<p>Første afsnit<br>\nsamme afsnit.</p>\n<p>Andet afsnit</p>\n<p>Tredje med <strong>fed</strong>.</p>"
    )


def test_empty_text_renders_empty() -> None:
    assert render_text("", VALUES) == ""
    assert render_text("  \n\n ", VALUES) == ""


def test_value_with_script_is_escaped() -> None:
    result = render_text("Dato: {cutoff_date}", {"cutoff_date": "<script>alert(1)</script>"})
    assert result == "<p>Dato: &lt;script&gt;alert(1)&lt;/script&gt;</p>"


def test_markup_value_is_escaped_too() -> None:
    # A Markup value would pass markupsafe.escape() untouched; values are never trusted HTML.
    result = render_text("{cutoff_date}", {"cutoff_date": Markup("<b>x</b>")})
    assert result == "<p>&lt;b&gt;x&lt;/b&gt;</p>"


def test_a_placeholder_in_a_link_address_is_not_filled() -> None:
    # Markdown percent-encodes the braces of an address: a value never reaches an attribute.
    result = render_text("[x](https://bib.dk/{cutoff_date})", {"cutoff_date": '" onclick="x'})
    assert result == '<p><a href="https://bib.dk/%7Bcutoff_date%7D" rel="noopener noreferrer">x</a></p>'


def test_value_is_not_scanned_for_placeholders() -> None:
    result = render_text("{cutoff_date}", {"cutoff_date": "{cutoff_date}\n\nx"})
    assert result == "<p>{cutoff_date}\n\nx</p>"


def test_unknown_placeholder_is_left_as_text() -> None:
    assert render_text("a {ukendt} b", VALUES) == "<p>a {ukendt} b</p>"


def test_missing_value_for_a_known_placeholder_is_a_caller_bug() -> None:
    with pytest.raises(KeyError, match="cutoff_date"):
        render_text("Før {cutoff_date}", {})


def test_html_typed_into_a_text_is_shown_as_text() -> None:
    result = render_text('<p onclick="x">Hej <a href="javascript:alert(1)">her</a></p><script>y</script>', VALUES)
    assert result == (
        '<p>&lt;p onclick="x"&gt;Hej &lt;a href="javascript:alert(1)"&gt;her&lt;/a&gt;&lt;/p&gt;'
        "&lt;script&gt;y&lt;/script&gt;</p>"
    )


# --- properties ---------------------------------------------------------------------------

_FRAGMENTS = st.sampled_from(
    [
        "<script>",
        "</script>",
        '<a href="',
        "javascript:",
        "https://bib.dk",
        '"',
        "'",
        ">",
        "<",
        ' onclick="alert(1)"',
        "<img src=x onerror=alert(1)>",
        "<p>",
        "</p>",
        "<b>",
        "</b>",
        "\n\n",
        "{cutoff_date}",
        "{x}",
        "tekst",
        "&",
        "<!--",
        "-->",
        "<style>",
        "<iframe>",
        "=",
    ]
)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


@given(st.lists(_FRAGMENTS | st.text(max_size=5), max_size=30).map("".join), st.text(max_size=20))
def test_rendered_output_only_ever_has_allowed_tags_and_links(template: str, value: str) -> None:
    collector = _Collector()
    collector.feed(render_text(template, {"cutoff_date": value}))
    collector.close()
    for tag, attrs in collector.tags:
        assert tag in ALLOWED_TAGS
        for name, attr_value in attrs:
            assert tag == "a" and name in {"href", "rel"}, (tag, name)
            if name == "href":
                assert attr_value is not None
                assert attr_value.startswith(("http:", "https:", "mailto:")), attr_value


@given(st.text(max_size=50))
def test_any_value_is_inserted_escaped_and_verbatim(value: str) -> None:
    result = render_text("{cutoff_date}", {"cutoff_date": value})
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = escaped.replace('"', "&#34;").replace("'", "&#39;")
    assert result == f"<p>{escaped}</p>"


# --- render_plain: titles and button labels ---------------------------------------------------


def test_render_plain_drops_the_formatting_and_fills_placeholder() -> None:
    out = render_plain("Betales **før**\n{cutoff_date}", {"cutoff_date": "15. juni 2021"})
    assert out == "Betales før 15. juni 2021"


def test_render_plain_returns_text_for_the_template_engine_to_escape() -> None:
    # Entities are decoded (Jinja escapes once on output); typed tags are text, escaped by Jinja.
    out = render_plain("Tom &amp; Jerry <script>alert(1)</script>", {"cutoff_date": "x"})
    assert out == "Tom & Jerry <script>alert(1)</script>"
    assert not isinstance(out, Markup)


def test_render_plain_leaves_unknown_placeholders() -> None:
    assert render_plain("{nope} {cutoff_date}", {"cutoff_date": "1"}) == "{nope} 1"
