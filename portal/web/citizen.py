"""The citizen's page /<slug>/: signed out, overview, not a borrower, or 'try again'."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, render_template, request

from portal import db, signals
from portal.auth import citizen_session
from portal.auth.return_to import allowed_return_to
from portal.libraries import disagreements
from portal.libraries.repository import get_library, list_libraries
from portal.providers.setup import upstreams
from portal.services.debts import record_disagreements
from portal.services.prefetch import start_prefetch
from portal.web.libraries import library_or_404
from portal.web.outcome import Outcome, Refused, borrower, debts_or_outcome, session_memo
from portal.web.overview_page import overview_context, render_overview, render_signed_out
from portal.web.urls import language_url

log = logging.getLogger(__name__)
bp = Blueprint("citizen", __name__)


# Each outcome's page and status; the embedded page (portal.web.embed) starts from these.
PAGES: dict[Outcome, tuple[str, int]] = {
    Outcome.SIGNED_OUT: ("overview/signed_out.html", 200),
    Outcome.MITID_REQUIRED: ("overview/mitid_required.html", 200),
    Outcome.SIGN_IN_AGAIN: ("overview/sign_in_again.html", 401),
    # Never a figure we do not know to be true: no total, no "0 kr".
    Outcome.UNAVAILABLE: ("overview/unavailable.html", 503),
    Outcome.NOT_BORROWER: ("overview/not_borrower.html", 200),
}


@signals.citizen_signed_in.connect
def _prefetch_at_sign_in(app: Flask, *, citizen: citizen_session.Citizen, slug: str) -> None:
    """Look the borrower up now and fetch their debts in the background (portal.services.prefetch)."""
    try:
        start_prefetch(upstreams(), get_library(slug), borrower(citizen), session_memo())
    except Exception:
        # A courtesy: whatever goes wrong here must not cost the borrower their sign-in.
        log.exception("library=%s prefetch at sign-in failed; the first view asks itself", slug)


@bp.app_context_processor
def inject_helpers() -> dict[str, object]:
    return {"language_url": language_url}


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    """The libraries this deployment serves."""
    return render_template("overview/index.html", libraries=list_libraries())


@bp.get("/<slug:slug>/")
def overview(slug: str):  # type: ignore[no-untyped-def]
    """The borrower's debts at the library, the sign-in invitation, or why there are no figures."""
    library = library_or_404(slug)
    # Opened from the library's website (the embedded page's link): a way back to that page.
    back_to = allowed_return_to(library, request.args.get("return_to"))
    result = debts_or_outcome(library, "overview")
    if isinstance(result, Refused):
        page, status = PAGES[result.outcome]
        if result.outcome is Outcome.SIGNED_OUT:
            return render_signed_out(library, page, back_to=back_to), status
        citizen = citizen_session.current_citizen()
        return render_template(page, library=library, citizen=citizen, back_to=back_to), status
    if result.as_of is not None:
        # What was shown lately, marked, while FBS does not answer (portal.services.stale).
        context = overview_context(library, result.debts, as_of=result.as_of)
        return render_template("overview/overview.html", **context, back_to=back_to)
    # After the upstream calls: a new, short transaction for the editors' anonymous tally.
    record_disagreements(db.session, library, result.debts.overview, disagreements.database_key(db.engine()))
    return render_overview(library, result.debts, back_to=back_to)
