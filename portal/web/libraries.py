"""Per-request helpers around a library: look-up by slug, its texts rendered for the reader."""

from __future__ import annotations

from flask import abort
from markupsafe import Markup

from portal.domain.kodelinje import Kodelinje, parse_kodelinje
from portal.i18n import long_date
from portal.libraries.defaults import HANDED_OVER_TITLE, PAYABLE_HERE_TITLE, PAYMENT_OVERVIEW_BUTTON, TEXT_KEYS
from portal.libraries.library import Library
from portal.libraries.repository import get_library
from portal.libraries.texts import render_plain, render_text


def library_or_404(slug: str) -> Library:
    """The library served at /<slug>/, or a 404 page."""
    library = get_library(slug)
    if library is None:
        abort(404)
    return library


# Shown inside a heading or a button: plain text only.
PLAIN_KEYS = frozenset({PAYABLE_HERE_TITLE, HANDED_OVER_TITLE, PAYMENT_OVERVIEW_BUTTON})


def rendered_texts(library: Library, language: str) -> dict[str, Markup | str]:
    """Every library text in `language`, with {cutoff_date} filled in and HTML sanitised."""
    values = {"cutoff_date": long_date(library.cutoff_date, language)}
    return {
        key: (render_plain if key in PLAIN_KEYS else render_text)(library.text(key, language), values)
        for key in TEXT_KEYS
    }


def library_kodelinje(library: Library) -> Kodelinje | None:
    """The parsed code line; the loader refuses malformed ones, so this parses."""
    return parse_kodelinje(library.kodelinje) if library.kodelinje else None
