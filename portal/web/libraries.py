"""Per-request helpers around a library: look-up by slug, its texts rendered for the reader."""

from __future__ import annotations

import logging
from functools import lru_cache

from flask import abort
from markupsafe import Markup

from portal.domain.fees import Patron
from portal.domain.kodelinje import Kodelinje, KodelinjeError, parse_kodelinje
from portal.i18n import long_date
from portal.libraries.defaults import (
    HANDED_OVER_TITLE,
    PAYABLE_HERE_TITLE,
    PAYMENT_OVERVIEW_BUTTON,
    TEXT_KEYS,
    default_text,
)
from portal.libraries.library import Library
from portal.libraries.repository import get_library
from portal.libraries.texts import render_plain, render_text

log = logging.getLogger(__name__)


def library_or_404(slug: str) -> Library:
    """The library served at /<slug>/, or a 404 page."""
    library = get_library(slug)
    if library is None:
        abort(404)
    return library


# Shown inside a heading or a button: plain text only.
PLAIN_KEYS = frozenset({PAYABLE_HERE_TITLE, HANDED_OVER_TITLE, PAYMENT_OVERVIEW_BUTTON})


def page_texts(library: Library, language: str, *, card_payment: bool, code_line: bool | None = None) -> dict[str, str]:
    """Every text key in `language`: the library's own wording, else the default that fits.

    `card_payment`: the library takes card payment on the page. Only then may a default promise
    it, and only where a code line is shown do defaults point to it: `code_line` says whether
    this reader gets one (None: whether the library has one). A wording the library wrote itself
    is shown as written either way.
    """
    own = library.explicit_texts(language)
    code_line = library.has_code_line if code_line is None else code_line
    links = library.text_links()
    return {
        key: own[key]
        if key in own
        else default_text(key, language, card_payment=card_payment, code_line=code_line, links=links)
        for key in TEXT_KEYS
    }


def rendered_texts(
    library: Library, language: str, *, card_payment: bool = False, code_line: bool | None = None
) -> dict[str, Markup | str]:
    """Every library text in `language`, with {cutoff_date} filled in and HTML sanitised (see `page_texts`)."""
    values = {"cutoff_date": long_date(library.cutoff_date, language)}
    return {
        key: (render_plain if key in PLAIN_KEYS else render_text)(text, values)
        for key, text in page_texts(library, language, card_payment=card_payment, code_line=code_line).items()
    }


def borrower_kodelinje(library: Library, patron: Patron) -> Kodelinje | None:
    """The code line `patron` pays with: the library's, with their own payment id where its +71/+75
    line leaves the id to each borrower. None without a code line, or when the borrower number is
    longer than the card's payment id: better no line than one the bank matches to someone else."""
    line = library_kodelinje(library)
    if line is None:
        return None
    try:
        return line.for_patron(patron.patron_id)
    except KodelinjeError:
        log.warning(
            "library=%s: a borrower number too long for a +%s payment id, no code line", library.slug, line.card_type
        )
        return None


def library_kodelinje(library: Library) -> Kodelinje | None:
    """The parsed code line; the loader refuses malformed ones, so this parses."""
    return _parsed_kodelinje(library.kodelinje) if library.kodelinje else None


# The same few code lines on every view; a `Kodelinje` is frozen, so one may be shared.
@lru_cache(maxsize=256)
def _parsed_kodelinje(text: str) -> Kodelinje:
    return parse_kodelinje(text)
