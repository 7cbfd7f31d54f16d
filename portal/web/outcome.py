"""The signed-in citizen's debts at a library, or why there are none to show: for every view.

The citizen page (`web.citizen`), its embedded versions (`web.embed`) and the JSON API
(`web.api`) all ask `debts_or_outcome`; each then only maps the answer to its own page, fragment
or JSON. What happens on the way is decided here, once: which refusals there are, which are
logged, and when FBS's failure is answered by the snapshot last shown (`services.stale`).

A new outcome is one `Outcome` member and one row in `_REFUSALS` (or a branch below); each
view's table then needs its answer (tests/web/test_outcome.py fails until every view has one).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from flask import Flask, current_app

from portal import db, kvstore
from portal.app_state import per_app
from portal.auth import citizen_session
from portal.libraries.library import Library
from portal.providers.errors import UpstreamError
from portal.providers.fbs_adapter import FbsTokenRejected
from portal.providers.setup import upstreams
from portal.services.debts import Borrower, CitizenDebts, MitIdRequired, PatronMemo, citizen_debts
from portal.services.stale import Snapshots, WrittenSnapshots
from portal.signals import citizen_logged_out

log = logging.getLogger(__name__)

# app.extensions key: this worker's memo of the snapshots it wrote (written again only when changed or old).
_WRITTEN_SNAPSHOTS = "portal.web.outcome.written_snapshots"


class Outcome(str, Enum):
    """Why a view has no figures to show (the values are the JSON API's words for some of them)."""

    SIGNED_OUT = "signed_out"
    # Card + PIN at a library FBS is read for by CPR number: "not a borrower" would be false.
    MITID_REQUIRED = "mitid_required"
    # DBC's adapter no longer takes the sign-in's token (expired, or signed out at DBC): not an outage.
    SIGN_IN_AGAIN = "sign_in_again"
    # FBS failed and nothing shown lately may stand in: never a figure we do not know to be true.
    UNAVAILABLE = "unavailable"
    NOT_BORROWER = "not_borrower"


@dataclass(frozen=True)
class Shown:
    """Debts to show. `as_of` set: FBS failed, and these are what the borrower was shown then (stale)."""

    debts: CitizenDebts
    as_of: datetime | None = None

    @property
    def stale(self) -> bool:
        return self.as_of is not None


@dataclass(frozen=True)
class Refused:
    """No debts to show, and why; `provider` names the upstream that failed (UNAVAILABLE)."""

    outcome: Outcome
    provider: str | None = None


# Exceptions of `citizen_debts` that are an answer rather than a failure, tried in this order
# (FbsTokenRejected is an UpstreamError, so it comes before the catch-all for failures), with
# what the log says of them (at INFO; None: nothing, it is the borrower's own sign-in choice).
_REFUSALS: tuple[tuple[type[Exception], Outcome, str | None], ...] = (
    (MitIdRequired, Outcome.MITID_REQUIRED, None),
    (FbsTokenRejected, Outcome.SIGN_IN_AGAIN, "adapter token refused, asking to sign in again"),
)


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


def snapshots(app: Flask | None = None) -> Snapshots:
    """The app's snapshots of shown overviews (PORTAL_STALE_MINUTES; 0: none)."""
    app = app or current_app
    written = per_app(_WRITTEN_SNAPSHOTS, WrittenSnapshots, WrittenSnapshots, app)
    return Snapshots(kvstore.backend(app), app.config["PORTAL_SETTINGS"].stale_minutes, written)


def debts_or_outcome(library: Library, surface: str) -> Shown | Refused:
    """The signed-in citizen's debts at `library`, or the outcome that stands for them.

    `surface` names the view in the log ("overview", "api total", …). Gives the database
    connection back before the upstreams are asked. A successful answer is kept as the
    borrower's snapshot; when FBS then fails (an UpstreamError: error, timeout, breaker open, no
    free slot) a snapshot of the last N minutes is shown instead, marked by `Shown.as_of`.
    """
    citizen = citizen_session.current_citizen()
    if citizen is None:
        return Refused(Outcome.SIGNED_OUT)
    db.release()  # no connection held while FBS takes its time
    try:
        debts = citizen_debts(upstreams(), library, borrower(citizen), session_memo())
    except Exception as exc:
        return _refused_or_stale(library, surface, exc)
    if debts is None:
        return Refused(Outcome.NOT_BORROWER)
    patron_id = _patron_id(library)
    if patron_id is not None:
        snapshots().remember(library, patron_id, debts)
    return Shown(debts)


def _refused_or_stale(library: Library, surface: str, exc: Exception) -> Shown | Refused:
    for kind, outcome, note in _REFUSALS:
        if isinstance(exc, kind):
            if note is not None:
                log.info("library=%s %s: %s", library.slug, surface, note)
            return Refused(outcome)
    if not isinstance(exc, UpstreamError):
        raise exc  # a bug: the error page, as before
    patron_id = _patron_id(library)
    snapshot = snapshots().recall(library, patron_id) if patron_id is not None else None
    if snapshot is not None:
        log.warning(
            "library=%s %s unavailable, showing the snapshot of %s: %s",
            library.slug,
            surface,
            snapshot.as_of.isoformat(timespec="seconds"),
            exc,
        )
        return Shown(snapshot.debts, as_of=snapshot.as_of)
    log.warning("library=%s %s unavailable: %s", library.slug, surface, exc)
    return Refused(Outcome.UNAVAILABLE, provider=exc.provider)


def _patron_id(library: Library) -> int | None:
    """The patron id this session's own look-up found at the library (None: not looked up, or none)."""
    found = citizen_session.remembered_patron(library.agency_id)
    return found if isinstance(found, int) and not isinstance(found, bool) else None


@citizen_logged_out.connect
def _forget_snapshots(app: Flask, patrons: Mapping[str, int] | None = None, **_extra: Any) -> None:
    """Signed out: the snapshots go with the cached answers (portal.providers.setup)."""
    try:
        snapshots(app).forget(dict(patrons or {}))
    except Exception as exc:  # a store that fails costs the clean-up (they expire anyway), never the logout
        log.warning("could not drop the signed-out citizen's snapshots (%s)", type(exc).__name__)
