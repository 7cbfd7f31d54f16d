"""The citizen's overview page as HTML, in one place: the citizen view and the editor's preview use it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from flask import render_template, request
from markupsafe import Markup

from portal import clock
from portal.auth import citizen_session
from portal.i18n import current_language
from portal.libraries.library import Library
from portal.services.debts import CitizenDebts
from portal.web.libraries import borrower_kodelinje, rendered_texts
from portal.web.page_cache import Owner, PageKey, digest, rendered_pages
from portal.web.payments import card_payment_context, card_payment_offered


def overview_context(
    library: Library, debts: CitizenDebts, *, preview: bool = False, as_of: datetime | None = None
) -> dict[str, Any]:
    """Everything templates/overview/overview.html needs, for a template that extends it.

    Needs a request context; texts follow the current language (so `force_locale` works).
    `as_of`: FBS failed and `debts` are what the borrower was shown then (portal.services.stale):
    the page says so at the top and offers no card payment (FBS could not register it now).
    """
    # Whether the library takes card payment here decides which default texts and banner fit;
    # the editor's preview shows what citizens see.
    card_offered = card_payment_offered(library)
    # None also for a borrower whose number does not fit the library's per-borrower line.
    kodelinje = borrower_kodelinje(library, debts.patron)
    # The line is shown in the section of debts payable here, so only with such debts may the
    # default texts say it is "below".
    code_line_shown = kodelinje is not None and not debts.overview.payable_here.is_empty
    return {
        "library": library,
        "citizen": None if preview else citizen_session.current_citizen(),
        "patron": debts.patron,
        "overview": debts.overview,
        # The versions of the cache entries behind `patron` and `overview` (None: not known): see `page_key`.
        "debts_source": debts.source,
        "works": debts.works,
        # Fees the library system placed otherwise than the cut-off date says: fee id -> where
        # the date would put them, so their rows can say why they are where they are.
        "mismatches": {m.fee.fee_id: m.expected.value for m in debts.overview.mismatches},
        "printed_at": clock.local(clock.now()),  # the printed statement's date and time
        "debtor_status": debts.debtor.value,
        # False when the debtor system failed or was not asked: the total is then the library system's alone.
        "debts_complete": debts.complete,
        "preview": preview,
        "texts": page_texts(library, current_language(), card_payment=card_offered, code_line=code_line_shown),
        # Stale figures promise no card payment: the blocked alert then names the other ways.
        "card_payment_offered": card_offered and as_of is None,
        "kodelinje": kodelinje,
        "card_payment": None if preview or as_of is not None else card_payment_context(library, debts.overview),
        # Shown as of this moment (local time), or None: the figures are FBS's answer of now.
        "stale_as_of": clock.local(as_of) if as_of is not None else None,
        # Whether the stale notice says card payment comes back with the library system.
        "stale_card_payment": card_offered and as_of is not None,
    }


def page_texts(
    library: Library, language: str, *, card_payment: bool, code_line: bool | None = None
) -> dict[str, Markup | str]:
    """`rendered_texts`, remembered: the same library, language and flags give the same texts.

    Keyed by the `Library` value itself (equality compares every field, its texts and the cut-off
    date in force included), so a publish or a scheduled date taking effect is a new key and
    nothing needs invalidating. A copy is returned: callers may not change the cached dict.
    `code_line`: whether this reader is shown a code line (None: whether the library has one).
    """
    return dict(_rendered_texts(library, language, card_payment, code_line))


# Libraries x 2 languages x 2 card flags (x 2 code-line flags, rarely), plus old versions until
# they are pushed out.
@lru_cache(maxsize=512)
def _rendered_texts(
    library: Library, language: str, card_payment: bool, code_line: bool | None
) -> dict[str, Markup | str]:
    return rendered_texts(library, language, card_payment=card_payment, code_line=code_line)


def clear_page_texts_cache() -> None:
    """Forget every remembered page's texts (tests that count renders)."""
    _rendered_texts.cache_clear()


def render_overview(library: Library, debts: CitizenDebts, *, preview: bool = False, back_to: str | None = None) -> str:
    """The page showing `debts` at `library`, with the library's texts in the reader's language.

    Needs a request context (language, URLs). `preview=True` is the editor's preview: no
    signed-in citizen in the header and a banner saying the debts are examples (see
    `portal.services.preview_debts.preview_debts`). `back_to`: a page of the library's website to
    link back to (already checked against its `embed_origins`, `auth.return_to`).

    A citizen's page is rendered once per key (`page_key`) and then served from this worker's
    `portal.web.page_cache`; the preview is always rendered (rare, and not a borrower's page).
    """
    context = {**overview_context(library, debts, preview=preview), "back_to": back_to}
    # The statement shows the minute it was printed: rendered with the minute alone, the page is
    # the same for the whole minute, so it can be kept for that long.
    context["printed_at"] = context["printed_at"].replace(second=0, microsecond=0)

    def render() -> str:
        return render_template("overview/overview.html", **context)

    if preview:
        return render()
    return rendered_pages().render(page_key(context), page_owner(context), render)


def render_signed_out(library: Library, template: str, *, back_to: str | None = None) -> str:
    """The signed-out page `template` (the sign-in invitation): no one's data, the same for everyone.

    On reminder day it is the page every borrower opens first, so it is kept like a borrower's
    page, keyed by what shapes it: the `Library`, the template, the language and the page's URL.
    Only URLs without a query beyond `lang` are kept: any other query string would be a new key,
    and made-up ones must not push borrowers' pages out of the cache.
    """

    def render() -> str:
        return render_template(template, library=library, citizen=None, back_to=back_to)

    if not set(request.args) <= {"lang"}:
        return render()
    found = digest((template, current_language(), request.script_root, request.full_path))
    return rendered_pages().render(None if found is None else (library, found), None, render)


# Context values the key covers otherwise: the frozen `Library` is in the key itself (compared by
# every field), and texts and code line follow from it, the language, the card flag and the patron
# (the code line's payment id may be the borrower's own, see `borrower_kodelinje`); of the
# citizen only what the page shows counts (never their CPR number or tokens).
_KEYED_APART = frozenset({"library", "texts", "kodelinje", "citizen"})
# Context values that follow from the debts' source (the versions of the cache entries they were
# built from), the library and the day (in `printed_at`): keyed by `debts_source` instead when
# there is one, which spares pickling every fee of the page on each view.
_FROM_SOURCE = frozenset({"patron", "overview", "mismatches"})


def page_key(context: Mapping[str, Any]) -> PageKey | None:
    """What the overview rendered from `context` depends on, as a cache key; None: not cacheable.

    Every context value is part of it except those in `_KEYED_APART` (and `_FROM_SOURCE`, when
    the debts' source stands for them), so a value added to `overview_context` is keyed without
    anyone remembering to; plus the language and the page's own path and query (the language
    switch and every URL are built from them; a link may repeat the query).
    """
    citizen = context.get("citizen")
    apart = _KEYED_APART | _FROM_SOURCE if context.get("debts_source") is not None else _KEYED_APART
    values = (
        sorted((name, value) for name, value in context.items() if name not in apart),
        (citizen.name, citizen.profile) if citizen is not None else None,
        current_language(),
        request.script_root,
        request.full_path,
    )
    found = digest(values)
    return None if found is None else (context["library"], found)


def page_owner(context: Mapping[str, Any]) -> Owner | None:
    """Whose page it is, (agency id, patron id), so that signing out drops it."""
    patron = context.get("patron")
    patron_id = getattr(patron, "patron_id", None)
    return (context["library"].agency_id, patron_id) if isinstance(patron_id, int) else None
