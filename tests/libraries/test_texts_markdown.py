"""Library texts are a small Markdown subset: rendered with markdown-it-py, HTML input off, then sanitised."""

from __future__ import annotations

import pytest

from portal.libraries.defaults import DEFAULT_TEXTS, TEXT_KEYS
from portal.libraries.texts import render_plain, render_text

VALUES = {"cutoff_date": "15. juni 2021"}


def test_the_subset_paragraphs_lists_links_and_bold() -> None:
    text = (
        "Betal **senest** {cutoff_date}.\n\n"
        "- med kort\n- i [netbanken](https://www.ltk.dk/betal)\n\n"
        "1. først\n2. så\n\n"
        "Skriv til [os](mailto:bibliotek@ltk.dk)."
    )
    assert render_text(text, VALUES) == (
        "<p>Betal <strong>senest</strong> 15. juni 2021.</p>\n"
        "<ul>\n<li>med kort</li>\n"
        '<li>i <a href="https://www.ltk.dk/betal" rel="noopener noreferrer">netbanken</a></li>\n</ul>\n'
        "<ol>\n<li>først</li>\n<li>så</li>\n</ol>\n"
        '<p>Skriv til <a href="mailto:bibliotek@ltk.dk" rel="noopener noreferrer">os</a>.</p>'
    )


@pytest.mark.parametrize(
    "text",
    ["# Overskrift", "> citat", "`kode`", "---", "    indrykket", "| a | b |", "~~slettet~~"],
)
def test_markdown_outside_the_subset_stays_text(text: str) -> None:
    result = render_text(text, VALUES)
    assert result.startswith("<p>") and result.count("<") == 2, result  # one paragraph, nothing else


def test_an_image_is_at_most_a_link() -> None:
    assert "<img" not in render_text("![billede](https://x.dk/a.png)", VALUES)


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        '<p onclick="x()">a</p>',
        '<a href="https://evil.example">x</a>',
        "<iframe src=https://evil.example></iframe>",
    ],
)
def test_html_in_a_text_is_escaped_never_markup(html: str) -> None:
    result = render_text(f"Før {html} efter", VALUES)
    # One paragraph and nothing else: every tag typed is text.
    assert result.count("<") == 2 and result.startswith("<p>Før &lt;"), result


@pytest.mark.parametrize(
    "link",
    ["javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,<b>x</b>", "vbscript:x", "/relativ", "ftp://x.dk/"],
)
def test_only_http_https_and_mailto_links_get_an_address(link: str) -> None:
    result = render_text(f"[klik]({link})", VALUES)
    assert "href=" not in result
    assert "klik" in result


def test_the_cutoff_date_is_filled_in_escaped_and_not_read_as_markdown() -> None:
    assert render_text("Før {cutoff_date}", {"cutoff_date": "**1.** <b>maj</b>"}) == (
        "<p>Før **1.** &lt;b&gt;maj&lt;/b&gt;</p>"
    )
    assert render_text("**{cutoff_date}**", VALUES) == "<p><strong>15. juni 2021</strong></p>"
    # The underscore of the placeholder is never emphasis, even twice on a line.
    assert render_text("{cutoff_date} og {cutoff_date}", VALUES) == "<p>15. juni 2021 og 15. juni 2021</p>"


def test_plain_texts_lose_the_formatting() -> None:
    assert render_plain("**Betales** her før {cutoff_date}", VALUES) == "Betales her før 15. juni 2021"
    assert render_plain("[Gå](https://x.dk) videre", VALUES) == "Gå videre"


@pytest.mark.parametrize("language", sorted(DEFAULT_TEXTS))
@pytest.mark.parametrize("key", TEXT_KEYS)
def test_the_defaults_are_markdown_not_html(language: str, key: str) -> None:
    text = DEFAULT_TEXTS[language][key]
    assert "<p>" not in text and "<li>" not in text and "<ul>" not in text
    assert "&lt;" not in render_text(text, VALUES)  # no tag left to be shown as text


def test_the_default_introduction_renders_its_list() -> None:
    result = render_text(DEFAULT_TEXTS["da"]["intro"], VALUES)
    assert result.count("<li>") == 2 and result.count("<p>") >= 3
    assert "15. juni 2021" in result
