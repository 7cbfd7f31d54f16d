"""The citizen's overview page as HTML, in one place: the citizen view and the editor's preview use it."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import render_template
from markupsafe import Markup

from portal import clock
from portal.auth import citizen_session
from portal.i18n import current_language
from portal.libraries.library import Library
from portal.services.debts import CitizenDebts
from portal.web.libraries import library_kodelinje, rendered_texts
from portal.web.payments import card_payment_context, card_payment_offered


def overview_context(library: Library, debts: CitizenDebts, *, preview: bool = False) -> dict[str, Any]:
    """Everything templates/overview/overview.html needs, for a template that extends it.

    Needs a request context; texts follow the current language (so `force_locale` works).
    """
    # Whether the library takes card payment here decides which default texts and banner fit;
    # the editor's preview shows what citizens see.
    card_offered = card_payment_offered(library)
    return {
        "library": library,
        "citizen": None if preview else citizen_session.current_citizen(),
        "patron": debts.patron,
        "overview": debts.overview,
        "works": debts.works,
        # Fees the library system placed otherwise than the cut-off date says: fee id -> where
        # the date would put them, so their rows can say why they are where they are.
        "mismatches": {m.fee.fee_id: m.expected.value for m in debts.overview.mismatches},
        "printed_at": clock.local(clock.now()),  # the printed statement's date and time
        "debtor_status": debts.debtor.value,
        # False when the debtor system failed or was not asked: the total is then the library system's alone.
        "debts_complete": debts.complete,
        "preview": preview,
        "texts": page_texts(library, current_language(), card_payment=card_offered),
        "card_payment_offered": card_offered,
        "kodelinje": library_kodelinje(library),
        "card_payment": None if preview else card_payment_context(library, debts.overview),
    }


def page_texts(library: Library, language: str, *, card_payment: bool) -> dict[str, Markup | str]:
    """`rendered_texts`, remembered: the same library, language and card flag give the same texts.

    Keyed by the `Library` value itself (equality compares every field, its texts and the cut-off
    date in force included), so a publish or a scheduled date taking effect is a new key and
    nothing needs invalidating. A copy is returned: callers may not change the cached dict.
    """
    return dict(_rendered_texts(library, language, card_payment))


# Libraries x 2 languages x 2 card flags, plus old versions until they are pushed out.
@lru_cache(maxsize=256)
def _rendered_texts(library: Library, language: str, card_payment: bool) -> dict[str, Markup | str]:
    return rendered_texts(library, language, card_payment=card_payment)


def clear_page_texts_cache() -> None:
    """Forget every remembered page's texts (tests that count renders)."""
    _rendered_texts.cache_clear()


def render_overview(library: Library, debts: CitizenDebts, *, preview: bool = False) -> str:
    """The page showing `debts` at `library`, with the library's texts in the reader's language.

    Needs a request context (language, URLs). `preview=True` is the editor's preview: no
    signed-in citizen in the header and a banner saying the debts are examples (see
    `portal.services.preview_debts.preview_debts`).
    """
    return render_template("overview/overview.html", **overview_context(library, debts, preview=preview))
