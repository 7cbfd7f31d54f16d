"""A thin client of the municipality's debtor-status API (docs/debtor-api.yaml).

One call: the claims of one citizen for one library. The citizen is identified by
the CPR number in the JSON body of a POST — never in the URL, which ends up in
access logs, proxies and traces. JSON is turned into `Claim`s by `debtor_parse`.
Every failure leaves as an `UpstreamError` subclass with provider "debtor" and a
message naming the operation and agency, never the CPR number or the API key.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

import httpx

from portal.domain.claims import Claim
from portal.domain.cpr import require_cpr
from portal.providers import debtor_parse
from portal.providers.errors import UpstreamError
from portal.providers.http import send_and_parse, token_refusal

log = logging.getLogger(__name__)

PROVIDER = "debtor"
CLAIMS_PATH = "/v1/libraries/{agency}/claims/search"


class DebtorCredentialsRejected(UpstreamError):
    """The debtor API refused the portal's API key (401/403)."""


class DebtorClient:
    """The debtor-status API at `base_url`, authenticated with a bearer API key."""

    def __init__(self, http: httpx.Client, base_url: str, api_key: str) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key

    def get_claims(self, agency_id: str, cpr: str) -> list[Claim]:
        """The citizen's claims from the library `agency_id` (paid ones included)."""
        require_cpr(cpr)
        path = CLAIMS_PATH.format(agency=quote(agency_id, safe=""))

        def fail(kind: type[UpstreamError], what: str) -> UpstreamError:
            return self._failed(kind, agency_id, what)

        return send_and_parse(
            self._http,
            "POST",
            self._base_url,
            path,
            lambda content: debtor_parse.parse_claims(content, agency_id),
            fail,
            refused=token_refusal(
                fail,
                DebtorCredentialsRejected,
                lambda status: f"API key refused ({status}): check PORTAL_DEBTOR_API_KEY",
            ),
            json={"cpr": cpr},
            headers={"Accept": "application/json", "Authorization": f"Bearer {self._api_key}"},
        )

    def _failed(self, kind: type[UpstreamError], agency_id: str, what: str) -> UpstreamError:
        message = f"claims at {agency_id}: {what}"
        log.warning("debtor: %s", message)
        return kind(PROVIDER, message)
