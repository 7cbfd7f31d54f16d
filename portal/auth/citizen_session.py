"""The signed-in citizen and what the session remembers for them, all server-side.

The CPR number is kept only in the server-side session, for the views to find
the patron in FBS; it ends with the session.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import asdict, dataclass, field
from typing import Literal

from flask import session

_CITIZEN = "citizen"
_PATRONS = "patrons"
_CSRF = "csrf"


MITID, ADGANGSPLATFORMEN = "mitid", "adgangsplatformen"


@dataclass(frozen=True)
class Citizen:
    sub: str
    name: str
    # 10 digits, no dash. None only after an Adgangsplatformen sign-in with library card and PIN
    # (children, substitute CPR numbers): such a borrower is known by `agency_users`.
    cpr: str | None
    id_token: str | None  # id_token_hint at logout; None when the token carries the CPR number
    issuer: str
    profile: str = MITID  # how they signed in: MITID or ADGANGSPLATFORMEN
    # Adgangsplatformen's user token: DBC's FBS adapter reads FBS with it, and logout ends DBC's
    # single sign-on with it. Server-side session only, like the CPR number.
    access_token: str | None = None
    # Adgangsplatformen's `agencies`: agency id -> the borrower's userId there.
    agency_users: dict[str, str] = field(default_factory=dict)


class _NotLookedUp(enum.Enum):
    NOT_LOOKED_UP = "not-looked-up"


# `remembered_patron` answers this when the CPR→patron look-up was not done yet
# for the library (None means "looked up: not a borrower there").
NOT_LOOKED_UP = _NotLookedUp.NOT_LOOKED_UP
PatronMemo = int | None | Literal[_NotLookedUp.NOT_LOOKED_UP]


def current_citizen() -> Citizen | None:
    data = session.get(_CITIZEN)
    if not data:
        return None
    try:
        citizen = Citizen(**data)
    except TypeError:  # stored by a version with other fields: treat as signed out
        return None
    if citizen.profile == ADGANGSPLATFORMEN and citizen.access_token and _logged_out_at_dbc(citizen.access_token):
        # DBC's single logout ended this borrower's sign-in: the citizen's part of the session
        # goes (another area's keys stay, as at a logout here).
        for key in (_CITIZEN, _PATRONS, _CSRF):
            session.pop(key, None)
        return None
    return citizen


def _logged_out_at_dbc(token: str) -> bool:
    from portal.auth.single_logout import is_revoked

    return is_revoked(token)


def start_citizen_session(citizen: Citizen) -> None:
    """Make `citizen` the session's owner; nothing from before the login is kept."""
    session.clear()
    # Stored as a plain dict (JSON in the encrypted entry) so a changed dataclass never breaks reading old entries.
    session[_CITIZEN] = asdict(citizen)
    session[_PATRONS] = {}


def remember_patron(agency_id: str, patron_id: int | None) -> None:
    """Remember the CPR→patron answer for this library (None: not a borrower there)."""
    if current_citizen() is None:
        raise RuntimeError("no citizen is signed in")
    # Reassigned, not mutated in place, so the session notices the change.
    session[_PATRONS] = {**session.get(_PATRONS, {}), agency_id: patron_id}


def remembered_patron(agency_id: str) -> PatronMemo:
    patrons = session.get(_PATRONS, {})
    return patrons[agency_id] if agency_id in patrons else NOT_LOOKED_UP


def session_patrons() -> dict[str, int]:
    """{agency_id: patron_id} of the libraries where the citizen was found as a patron."""
    return {agency: patron for agency, patron in session.get(_PATRONS, {}).items() if patron is not None}


def csrf_token() -> str:
    """The signed-in citizen's token for POST forms (made on first use; a new sign-in makes a new one)."""
    token = session.get(_CSRF)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[_CSRF] = token
    return token
