"""The citizen's page /<slug>/: signed out, overview, not a borrower, or 'try again'."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, render_template

from portal import db, signals
from portal.auth import citizen_session
from portal.libraries.repository import get_library, list_libraries
from portal.providers.errors import UpstreamError
from portal.providers.fbs_adapter import FbsTokenRejected
from portal.providers.setup import upstreams
from portal.services.debts import Borrower, MitIdRequired, PatronMemo, citizen_debts, record_disagreements
from portal.services.prefetch import start_prefetch
from portal.web.libraries import library_or_404
from portal.web.overview_page import render_overview
from portal.web.urls import language_url

log = logging.getLogger(__name__)
bp = Blueprint("citizen", __name__)


def borrower(citizen: citizen_session.Citizen) -> Borrower:
    """What the services need of the signed-in citizen (never logged: it holds the CPR number and token)."""
    return Borrower(citizen.cpr, citizen.access_token, citizen.profile)


def session_memo() -> PatronMemo:
    """The CPR→patron look-up remembered in the server-side session."""
    return PatronMemo(
        get=citizen_session.remembered_patron,
        remember=citizen_session.remember_patron,
        missing=citizen_session.NOT_LOOKED_UP,
    )


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
    """The borrower's debts at the library, or the sign-in invitation."""
    library = library_or_404(slug)
    citizen = citizen_session.current_citizen()
    context = {"library": library, "citizen": citizen}
    if citizen is None:
        return render_template("overview/signed_out.html", **context)
    # Nothing below reads the database; no connection is held while FBS takes its time.
    db.release()
    try:
        debts = citizen_debts(upstreams(), library, borrower(citizen), session_memo())
    except MitIdRequired:
        # Card + PIN at a library FBS is read for by CPR number: "not a borrower" would be false.
        return render_template("overview/mitid_required.html", **context)
    except FbsTokenRejected:
        # DBC's adapter no longer takes the sign-in's token (expired, or signed out at DBC).
        log.info("library=%s adapter token refused, asking to sign in again", library.slug)
        return render_template("overview/sign_in_again.html", **context), 401
    except UpstreamError as exc:
        # Never a figure we do not know to be true: no total, no "0 kr".
        log.warning("library=%s overview unavailable: %s", library.slug, exc)
        return render_template("overview/unavailable.html", **context), 503
    if debts is None:
        return render_template("overview/not_borrower.html", **context)
    # After the upstream calls: a new, short transaction for the editors' anonymous tally.
    record_disagreements(db.session(), library, debts.overview)
    return render_overview(library, debts)
