"""A thin client of DBC's FBI API: titles, creators, type and year for the FAUST numbers of fees.

One GraphQL request per page for all its FAUST numbers (`manifestations(faust: [...])`), never
one per fee; JSON becomes `Work`s in `fbi_parse`. It is asked server-side only, with the
library token of PORTAL_FBI_TOKEN. Every failure leaves as an `UpstreamError` subclass with
provider "fbi" and a message of counts and statuses — never FAUST numbers, titles or the token.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import httpx

from portal.domain.works import Work
from portal.providers import fbi_parse
from portal.providers.errors import UpstreamBadResponse, UpstreamError
from portal.providers.fbi_parse import WorksAnswer
from portal.providers.http import send

log = logging.getLogger(__name__)

PROVIDER = "fbi"
GRAPHQL_PATH = "/graphql"
# More than a page ever needs; bounds the request should FBS list absurdly many materials.
MAX_BATCH = 200
# The fields of dpl-react's basic manifestation details that a fee row shows.
WORKS_QUERY = (
    "query GebyrportalWorks($faust: [String!]!) {"
    " manifestations(faust: $faust) {"
    " titles { full main }"
    " creators { display }"
    " materialTypes { materialTypeSpecific { display } }"
    " edition { publicationYear { display } }"
    " } }"
)


class FbiTokenRejected(UpstreamError):
    """The FBI API refused the portal's token (401/403)."""


class FbiClient:
    """The FBI API of one search profile at `base_url` (…/<profile>), with a bearer token."""

    def __init__(self, http: httpx.Client, base_url: str, token: str) -> None:
        self._http = http
        base = base_url.rstrip("/")
        # Both the profile's address and the full GraphQL endpoint are accepted.
        self._base_url = base.removesuffix(GRAPHQL_PATH)
        self._token = token

    def lookup(self, fausts: Sequence[str]) -> WorksAnswer:
        """The works of `fausts` (FAUST numbers; anything else is left out) in one request."""
        wanted = fbi_parse.valid_fausts(fausts)[:MAX_BATCH]
        if not wanted:
            return WorksAnswer({}, frozenset())
        response = self._send(wanted)
        if response.status_code in (401, 403):
            raise self._failed(
                FbiTokenRejected, wanted, f"token refused ({response.status_code}): check PORTAL_FBI_TOKEN"
            )
        if not response.is_success:
            raise self._failed(UpstreamBadResponse, wanted, f"unexpected status {response.status_code}")
        try:
            answer = fbi_parse.parse_works(response.content, wanted)
        except UpstreamBadResponse as exc:
            raise self._failed(UpstreamBadResponse, wanted, exc.message) from None
        if answer.unreadable:
            log.warning("fbi: works of %d records: %d entries unreadable, left out", len(wanted), answer.unreadable)
        return answer

    def get_works(self, fausts: Sequence[str]) -> dict[str, Work]:
        """{faust: Work} for the FAUST numbers FBI knows (one request)."""
        return self.lookup(fausts).works

    def _send(self, fausts: list[str]) -> httpx.Response:
        headers = {"Accept": "application/json", "Authorization": f"Bearer {self._token}"}
        body = {"query": WORKS_QUERY, "variables": {"faust": fausts}}
        started = time.monotonic()
        response = send(
            self._http,
            "POST",
            self._base_url,
            GRAPHQL_PATH,
            lambda kind, what: self._failed(kind, fausts, what),
            json=body,
            headers=headers,
        )
        log.debug(
            "fbi works of %d records: %s in %.0f ms",
            len(fausts),
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return response

    def _failed(self, kind: type[UpstreamError], fausts: Sequence[str], what: str) -> UpstreamError:
        message = f"works of {len(fausts)} records: {what}"
        log.warning("fbi: %s", message)
        return kind(PROVIDER, message)
