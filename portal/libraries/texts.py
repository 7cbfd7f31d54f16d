"""Library texts: editor-written Danish/English text with a little safe HTML and placeholders.

Editors (TOML files, later an admin page) are trusted to *write*, not to be safe: a text may
contain a pasted `<script>` or an `onclick`, so every text goes through `nh3` (an HTML parser
based sanitiser) on the way out. Values put into placeholders come from the portal (e.g. the
cut-off date already formatted for the page's language) and are always HTML-escaped.

Placeholders are substituted by name with a small regex, never with `str.format`: format
would also evaluate `{0.__class__}`-style fields and choke on any other brace in the text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import unescape
from html.parser import HTMLParser

import markupsafe
import nh3

__all__ = [
    "ALLOWED_TAGS",
    "KNOWN_PLACEHOLDERS",
    "TextTemplateError",
    "check_template",
    "find_placeholders",
    "render_text",
    "render_plain",
    "sanitize_html",
]

KNOWN_PLACEHOLDERS = frozenset({"cutoff_date"})

ALLOWED_TAGS = frozenset({"p", "br", "strong", "em", "b", "i", "a", "ul", "ol", "li"})
# If a text uses any of these, the editor has structured it; otherwise blank lines make paragraphs.
_BLOCK_TAGS = frozenset({"p", "ul", "ol", "li"})

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_BLANK_LINE = re.compile(r"\n[ \t]*\n\s*")

_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    attributes={"a": {"href"}},
    url_schemes={"http", "https", "mailto"},
    # Texts are shown on the portal's own pages; a relative link would point into the portal,
    # which is never what a library means, and "only http/https/mailto" is easier to reason about.
    url_relative="deny",
    link_rel="noopener noreferrer",
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


def render_text(template: str, values: Mapping[str, str]) -> markupsafe.Markup:
    """The text as safe HTML, its known placeholders replaced by the HTML-escaped `values`.

    Plain text (no p/ul/ol/li) becomes `<p>` paragraphs at blank lines. Unknown placeholders are
    left as they are (check_template rejects them at load time; a page should not fail over one).
    A known placeholder missing from `values` is a bug in the caller: KeyError.
    """
    html = sanitize_html(template.replace("\r\n", "\n"))
    if not _uses_block_tags(html):
        html = _paragraphs(html)
    return markupsafe.Markup(_substitute(html, values))


def render_plain(template: str, values: Mapping[str, str]) -> str:
    """The text with every tag removed and known placeholders filled: for titles and button labels.

    Returns plain (unescaped) text; the template engine escapes it. Blocks (`<p>`) inside a
    heading or a link would be invalid HTML and lose the label for screen readers.
    """
    text = unescape(nh3.clean(template, tags=set()))
    return _PLACEHOLDER.sub(lambda m: str(values[m[1]]) if m[1] in KNOWN_PLACEHOLDERS else m[0], " ".join(text.split()))


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


def _paragraphs(html: str) -> str:
    chunks = [chunk.strip() for chunk in _BLANK_LINE.split(html)]
    wrapped = "".join(f"<p>{chunk}</p>" for chunk in chunks if chunk)
    # Re-sanitise: an inline tag spanning a blank line (`<b>a\n\nb</b>`) was just split across
    # two paragraphs; the parser re-nests it into well-formed HTML.
    return sanitize_html(wrapped)


class _TagCollector(HTMLParser):
    """Collects start-tag names; used on already-sanitised HTML, to look, not to clean."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)


def _uses_block_tags(html: str) -> bool:
    collector = _TagCollector()
    collector.feed(html)
    collector.close()
    return not collector.tags.isdisjoint(_BLOCK_TAGS)
