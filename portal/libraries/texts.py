"""Library texts: editor-written Danish/English text in a small Markdown subset, with placeholders.

Editors write text, not HTML: paragraphs (a blank line), bullet and numbered lists, links and
bold (and italics, which come with bold in Markdown's emphasis rule). markdown-it-py turns that
into HTML with raw HTML input disabled, so a pasted `<script>` or `<p>` is shown as the text it
is. Editors are still not trusted to be safe: the HTML then goes through `nh3` (an HTML parser
based sanitiser), which keeps only the small allowed set of tags and link schemes. Values put
into placeholders come from the portal (e.g. the cut-off date already formatted for the page's
language) and are always HTML-escaped.

Placeholders are substituted by name with a small regex, never with `str.format`: format
would also evaluate `{0.__class__}`-style fields and choke on any other brace in the text.
They are substituted after Markdown, so a value is never read as Markdown.

Rendering is cached by the text itself (`markdown_to_html` is a pure function of it): a warm
page does not run Markdown and nh3 again, and a changed text is a different key, so it is
rendered anew with nothing to invalidate. Bounded, as editors' drafts and previews add keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from html import unescape

import markupsafe
import nh3
from markdown_it import MarkdownIt

__all__ = [
    "ALLOWED_TAGS",
    "KNOWN_PLACEHOLDERS",
    "TextTemplateError",
    "check_template",
    "clear_render_cache",
    "find_placeholders",
    "markdown_to_html",
    "render_text",
    "render_plain",
    "sanitize_html",
]

KNOWN_PLACEHOLDERS = frozenset({"cutoff_date"})

ALLOWED_TAGS = frozenset({"p", "br", "strong", "em", "b", "i", "a", "ul", "ol", "li"})

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    attributes={"a": {"href"}},
    url_schemes={"http", "https", "mailto"},
    # Texts are shown on the portal's own pages; a relative link would point into the portal,
    # which is never what a library means, and "only http/https/mailto" is easier to reason about.
    url_relative="deny",
    link_rel="noopener noreferrer",
)

# "zero" starts with every syntax rule off; only the subset editors are told about is switched
# on, so headings, quotes, code, tables or images never appear by accident. `html: False`: tags
# typed into a text are escaped, not passed on. `breaks`: a line break typed in the form is a
# line break on the page, as an editor who is not thinking in Markdown expects.
_MARKDOWN = MarkdownIt("zero", {"html": False, "linkify": False, "breaks": True}).enable(
    ["paragraph", "list", "link", "emphasis", "newline", "escape", "entity"]
)


class TextTemplateError(ValueError):
    """A library text uses placeholders the portal does not know. `unknown` names them."""

    def __init__(self, unknown: set[str]) -> None:
        self.unknown = frozenset(unknown)
        names = ", ".join(f"{{{name}}}" for name in sorted(unknown))
        known = ", ".join(f"{{{name}}}" for name in sorted(KNOWN_PLACEHOLDERS))
        super().__init__(f"unknown placeholder(s) {names}; known: {known}")


def find_placeholders(template: str) -> set[str]:
    """The names of the `{identifier}` placeholders in `template` (`{ x }` or `{1}` are plain text)."""
    return set(_PLACEHOLDER.findall(template))


def check_template(template: str) -> None:
    """Raise TextTemplateError if `template` uses a placeholder the portal cannot fill.

    Called when texts are loaded, so a typo like `{cutoff}` is caught by the editor, not shown
    to citizens.
    """
    unknown = find_placeholders(template) - KNOWN_PLACEHOLDERS
    if unknown:
        raise TextTemplateError(unknown)


def sanitize_html(html: str) -> str:
    """`html` with everything outside the small allowed set (tags, href schemes) removed."""
    return _CLEANER.clean(html)


def markdown_to_html(template: str) -> str:
    """The Markdown subset as sanitised HTML, placeholders left as they are."""
    return _cached_markdown_to_html(template)


# A few hundred texts per library at most (two languages, defaults with and without card
# payment); 4096 leaves room for many libraries and editors' previews, at a few MB at worst.
@lru_cache(maxsize=4096)
def _cached_markdown_to_html(template: str) -> str:
    return sanitize_html(_MARKDOWN.render(template.replace("\r\n", "\n")).strip())


def clear_render_cache() -> None:
    """Forget every rendered text (tests that count renders)."""
    _cached_markdown_to_html.cache_clear()
    _plain_text.cache_clear()


def render_text(template: str, values: Mapping[str, str]) -> markupsafe.Markup:
    """The text as safe HTML, its known placeholders replaced by the HTML-escaped `values`.

    Unknown placeholders are left as they are (check_template rejects them at load time; a page
    should not fail over one). A known placeholder missing from `values` is a bug in the caller:
    KeyError.
    """
    return markupsafe.Markup(_substitute(markdown_to_html(template), values))


def render_plain(template: str, values: Mapping[str, str]) -> str:
    """The text with every tag removed and known placeholders filled: for titles and button labels.

    Returns plain (unescaped) text; the template engine escapes it. Blocks (`<p>`) inside a
    heading or a link would be invalid HTML and lose the label for screen readers. The Markdown
    is rendered first, so `**Betal**` is the label "Betal", not its asterisks.
    """
    text = _plain_text(template)
    return _PLACEHOLDER.sub(lambda m: str(values[m[1]]) if m[1] in KNOWN_PLACEHOLDERS else m[0], text)


@lru_cache(maxsize=1024)
def _plain_text(template: str) -> str:
    return " ".join(unescape(nh3.clean(markdown_to_html(template), tags=set())).split())


def _substitute(html: str, values: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match[1]
        if name not in KNOWN_PLACEHOLDERS:
            return match[0]
        if name not in values:
            raise KeyError(f"render_text needs a value for {{{name}}}")
        # str() first: a Markup value would otherwise pass escape() unescaped.
        return str(markupsafe.escape(str(values[name])))

    return _PLACEHOLDER.sub(replace, html)
