"""Why a login was refused, and what the citizen is told (never a traceback)."""

from __future__ import annotations

import enum
from typing import NamedTuple

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l


class Refusal(enum.Enum):
    STATE = "state"  # missing, unknown or already used state
    CANCELLED = "cancelled"  # the IdP answered error=access_denied
    IDP_ERROR = "idp_error"  # any other error the IdP sent back
    TOKEN_REFUSED = "token_refused"  # the token endpoint refused the code (replayed, wrong PKCE, ...)
    TOKEN_INVALID = "token_invalid"  # ID token or userinfo failed validation
    UNREACHABLE = "unreachable"  # IdP down, timing out, or misconfigured
    NO_CPR = "no_cpr"  # a valid login, but without a usable CPR number
    # Adgangsplatformen: a valid login, but the borrower is not registered at this library's agency.
    UNKNOWN_AGENCY = "unknown_agency"


class Message(NamedTuple):
    status: int
    heading: LazyString
    text: LazyString


_TRY_AGAIN = _l("Please try again. If it keeps happening, contact your library.")

MESSAGES: dict[Refusal, Message] = {
    Refusal.STATE: Message(
        400,
        _l("The login could not be completed"),
        _l("The login expired, was already used, or was started in another window. Please try again."),
    ),
    Refusal.CANCELLED: Message(
        400, _l("The login was cancelled"), _l("The login was cancelled, so you are not logged in.")
    ),
    Refusal.IDP_ERROR: Message(502, _l("The login service reported an error"), _TRY_AGAIN),
    Refusal.TOKEN_REFUSED: Message(502, _l("The login could not be completed"), _TRY_AGAIN),
    Refusal.TOKEN_INVALID: Message(
        502,
        _l("The login could not be verified"),
        _l("We could not verify the answer from the login service, so you are not logged in. Please try again."),
    ),
    Refusal.UNREACHABLE: Message(
        503,
        _l("The login service is not available"),
        _l("We could not reach the login service. Please try again in a few minutes."),
    ),
    Refusal.NO_CPR: Message(
        403,
        _l("We could not find your CPR number"),
        _l(
            "Your login did not include a CPR number, which the library needs to find "
            "your loans and fees. Log in with MitID as a private person, or contact "
            "your library."
        ),
    ),
    Refusal.UNKNOWN_AGENCY: Message(
        403,
        _l("You are not registered at this library"),
        _l(
            "The library login found no library card for you at this library, so we cannot show "
            "your debts here. If you have a card here, contact the library."
        ),
    ),
}


class LoginRefused(Exception):
    """A login that must not go through; `detail` is for the log only (no tokens, no CPR)."""

    def __init__(self, reason: Refusal, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail
