"""A thin client of FBS through DBC's adapter: the citizen's Adgangsplatformen token, no client login.

DBC's adapter (e.g. https://fbs-openplatform.dbc.dk) logs in to FBS itself and finds agency and
patron from the bearer token, so its paths hold the literal words `agencyid` and `patronid`
(`../shared/reference/fbs-api.md`). Calls, checks and parsing are `fbs.FbsApi`'s, shared with
direct mode; only the authorisation differs.

An adapter that refuses the token (401: expired or unknown, 403: an anonymous library token)
raises `FbsTokenRejected`: the borrower must sign in again, FBS itself is fine. There is no retry:
the portal cannot renew a user token (Adgangsplatformen issues no refresh token).
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from portal.domain.fees import Fee, Patron, PaymentConfirmation
from portal.providers import fbs_parse
from portal.providers.errors import UpstreamError
from portal.providers.fbs import FbsApi
from portal.providers.http import Refusal, token_refusal

# What the adapter's paths say instead of the agency and the patron id.
AGENCY, PATRON = "agencyid", "patronid"


class FbsTokenRejected(UpstreamError):
    """DBC's adapter refused the citizen's token (expired, signed out, or anonymous): sign in again."""


class FbsAdapterClient(FbsApi):
    """FBS through DBC's adapter, as the borrower whose Adgangsplatformen `token` this is, at one agency.

    `agency_id` names the library for logs and cache keys; the adapter itself takes the agency
    from the token. The token is never logged or put in a message.
    """

    mode = "dbc_adapter"

    def __init__(self, http: httpx.Client, base_url: str, agency_id: str, token: str) -> None:
        super().__init__(http, base_url, agency_id)
        if not token:
            raise ValueError("the adapter needs the citizen's user token")
        self._token = token

    def __repr__(self) -> str:  # never the token
        return f"FbsAdapterClient({self._base_url!r}, {self.agency_id!r})"

    def get_patron(self) -> Patron | None:
        """The token's patron with name and blocks; None: the token's user is no borrower here."""
        return self._patron(AGENCY, PATRON, fbs_parse.parse_optional_patron)

    def get_fees(self) -> list[Fee]:
        """All the patron's fees: paid ones and those handed over to the debtor system included."""
        return self._fees(AGENCY, PATRON)

    def register_payment(self, order_id: str, fee_ids: list[int]) -> dict[int, PaymentConfirmation]:
        """As `FbsClient.register_payment`, for the token's patron (idempotent per order id in FBS)."""
        return self._payment(AGENCY, PATRON, order_id, fee_ids)

    def _authorized(self, operation: str, send_with: Callable[[dict[str, str]], httpx.Response]) -> httpx.Response:
        return send_with({"Authorization": f"Bearer {self._token}"})

    def _refusal(self, operation: str) -> Refusal:
        return token_refusal(self._fail(operation), FbsTokenRejected, _token_refused)


def _token_refused(status: int) -> str:
    why = "the user token is anonymous" if status == 403 else "the user token expired or is unknown"
    return f"{why} ({status}): the borrower must sign in again"
