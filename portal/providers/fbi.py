"""A thin client of DBC's FBI API: titles, creators, type and year for the FAUST numbers of fees.

One GraphQL request per page for all its FAUST numbers (`manifestations(faust: [...])`), never
one per fee; JSON becomes `Work`s in `fbi_parse`. It is asked server-side only, with the
library token of PORTAL_FBI_TOKEN. Every failure leaves as an `UpstreamError` subclass with
provider "fbi" and a message of counts and statuses — never FAUST numbers, titles or the token.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import httpx

from portal.domain.works import Work
from portal.providers import fbi_parse
from portal.providers.errors import UpstreamError
from portal.providers.fbi_parse import WorksAnswer
from portal.providers.http import send_and_parse, token_refusal

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
        answer = self._send(wanted)
        if answer.unreadable:
            log.warning("fbi: works of %d records: %d entries unreadable, left out", len(wanted), answer.unreadable)
        return answer

    def get_works(self, fausts: Sequence[str]) -> dict[str, Work]:
        """{faust: Work} for the FAUST numbers FBI knows (one request)."""
        return self.lookup(fausts).works

    def _send(self, fausts: list[str]) -> WorksAnswer:
        def fail(kind: type[UpstreamError], what: str) -> UpstreamError:
            return self._failed(kind, fausts, what)

        return send_and_parse(
            self._http,
            "POST",
            self._base_url,
            GRAPHQL_PATH,
            lambda content: fbi_parse.parse_works(content, fausts),
            fail,
            refused=token_refusal(
                fail, FbiTokenRejected, lambda status: f"token refused ({status}): check PORTAL_FBI_TOKEN"
            ),
            json={"query": WORKS_QUERY, "variables": {"faust": fausts}},
            headers={"Accept": "application/json", "Authorization": f"Bearer {self._token}"},
        )

    def _failed(self, kind: type[UpstreamError], fausts: Sequence[str], what: str) -> UpstreamError:
        message = f"works of {len(fausts)} records: {what}"
        log.warning("fbi: %s", message)
        return kind(PROVIDER, message)
