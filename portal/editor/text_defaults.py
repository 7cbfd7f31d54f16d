"""The editor form's texts: the defaults filled in, and how a text is previewed.

A text field shows the default wording when the library has none of its own, so changing one
word is changing one word. Saving a field left at its default stores nothing (the library keeps
following the default, and a later improvement of the default reaches it). The preview uses the
citizen page's own renderer (portal.libraries.texts), so it cannot differ from what citizens see.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

from markupsafe import Markup, escape

from portal.i18n import long_date
from portal.libraries.defaults import LANGUAGES, LINK_NAMES, TEXT_KEYS, default_text
from portal.libraries.library import Library
from portal.libraries.texts import render_plain, render_text
from portal.web.libraries import PLAIN_KEYS

DefaultOf = Callable[[str, str], str]


def text_name(language: str, key: str) -> str:
    return f"text.{language}.{key}"


def defaults_for(library: Library, *, card_payment: bool, code_line: bool | None = None) -> DefaultOf:
    """(key, language) -> the default wording citizens of `library` get where it has no own text.

    `code_line`: whether it will have a code line, where the form says otherwise than the library
    (None: as the library has)."""
    has_code_line = library.has_code_line if code_line is None else code_line
    return defaults_with(library.text_links(), card_payment=card_payment, code_line=has_code_line)


def defaults_with(links: Mapping[str, str | None], *, card_payment: bool, code_line: bool) -> DefaultOf:
    """(key, language) -> the default wording with these links, card payment (or not), a code line (or not)."""
    return lambda key, language: default_text(
        key, language, card_payment=card_payment, code_line=code_line, links=links
    )


def possible_defaults(libraries: list[Library], values: Mapping[str, str]) -> list[DefaultOf]:
    """Every default wording a form could have shown: with or without card payment and a code line,
    the libraries' links or the links just typed into `values` (the same form may change them)."""
    link_sets: list[Mapping[str, str | None]] = [library.text_links() for library in libraries]
    link_sets.append({name: values.get(name) or None for name in LINK_NAMES})
    return [
        defaults_with(links, card_payment=card, code_line=code_line)
        for links in link_sets
        for card in (False, True)
        for code_line in (True, False)
    ]


def _same_text(a: str, b: str) -> bool:
    # Browsers send CRLF and editors leave a trailing newline: neither is a change of wording.
    return a.replace("\r\n", "\n").strip() == b.replace("\r\n", "\n").strip()


def without_defaults(values: Mapping[str, str], defaults: list[DefaultOf]) -> dict[str, str]:
    """`values` with every text that is one of the defaults emptied (= follow the default).

    Several `defaults`: the wording depends on card payment and on the links, which the same form
    may change; a text equal to any of them was left as the form showed it.
    """
    kept = dict(values)
    for language in LANGUAGES:
        for key in TEXT_KEYS:
            name = text_name(language, key)
            value = kept.get(name, "")
            if value and any(_same_text(value, default_of(key, language)) for default_of in defaults):
                kept[name] = ""
    return kept


def render_preview(key: str, language: str, text: str, cutoff: date) -> Markup:
    """`text` as citizens would see it: Markdown rendered and sanitised, {cutoff_date} filled in."""
    values = {"cutoff_date": long_date(cutoff, language)}
    if key in PLAIN_KEYS:  # a heading or a button: plain text there
        return escape(render_plain(text, values))
    return render_text(text, values)
