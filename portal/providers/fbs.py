"""A thin client of the FBS external API in direct mode (the portal logs in as a client system).

`FbsApi` holds what direct mode shares with DBC's adapter (`fbs_adapter.FbsAdapterClient`):
the calls, sending, checking and parsing.

Only transport and session handling live here; the JSON is turned into domain
objects by `fbs_parse`. Every failure leaves as an `UpstreamError` subclass whose
message names the operation and the agency — never a CPR number or session key.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from portal.domain.cpr import require_cpr
from portal.domain.fees import Fee, Patron, PaymentConfirmation
from portal.providers import fbs_parse
from portal.providers.errors import UpstreamBadResponse, UpstreamError, UpstreamTimeout
from portal.providers.http import Fail, Refusal, budget_left, read_answer, send, send_and_parse, token_refusal

log = logging.getLogger(__name__)

PROVIDER = "fbs"
SESSION_HEADER = "X-Session"
# Our order ids as FBS and the card gateway see them (the gateway's order reference, too).
ORDER_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
T = TypeVar("T")
E = TypeVar("E", bound=UpstreamError)

# (base_url, agency id, username): whoever shares these may share a session key.
SessionIdentity = tuple[str, str, str]


class FbsCredentialsRejected(UpstreamError):
    """FBS refused the portal's client login: the configured username/password is wrong."""


class SessionKeyStore:
    """Session keys shared by all requests (threads) of a process.

    Logging in costs FBS a round trip per call otherwise. One lock per identity
    makes concurrent requests wait for a single login instead of each doing one.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[SessionIdentity, str] = {}
        self._login_locks: dict[SessionIdentity, threading.Lock] = {}

    def get(self, identity: SessionIdentity) -> str | None:
        with self._lock:
            return self._keys.get(identity)

    def put(self, identity: SessionIdentity, key: str) -> None:
        with self._lock:
            self._keys[identity] = key

    def discard(self, identity: SessionIdentity, key: str) -> None:
        """Forget `key` — but not a newer key another thread has stored meanwhile."""
        with self._lock:
            if self._keys.get(identity) == key:
                del self._keys[identity]

    def login_lock(self, identity: SessionIdentity) -> threading.Lock:
        with self._lock:
            return self._login_locks.setdefault(identity, threading.Lock())


class FbsApi:
    """What both FBS access modes share: the API calls, sending, status and JSON checks, parsing, errors.

    A mode says how a call is authorised (`_call`) and what stands in the path for the agency and
    the patron: direct mode writes the agency's ISIL and the patron id, DBC's adapter the literal
    words `agencyid` and `patronid` (it knows both from the citizen's token).
    """

    mode = "direct"

    def __init__(self, http: httpx.Client, base_url: str, agency_id: str) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self.agency_id = agency_id

    # -- the calls, by path segments ---------------------------------------------

    def _patron(self, agency: str, patron: str, parse: Callable[[Any], T]) -> T:
        """The patron v4 answer, read by `parse` (the caller's: the adapter's may hold no patron)."""
        return self._call("patron", "GET", f"/external/{agency}/patrons/{patron}/v4", parse)

    def _fees(self, agency: str, patron: str) -> list[Fee]:
        # Handed-over fees are half of the page; paid ones explain a payment awaiting registration.
        # Both modes ask the same, so both give the same overview.
        params = {"includepaid": "true", "includenonpayable": "true"}
        return self._call(
            "fees", "GET", f"/external/{agency}/patron/{patron}/fees/v2", fbs_parse.parse_fees, params=params
        )

    def _payment(self, agency: str, patron: str, order_id: str, fee_ids: list[int]) -> dict[int, PaymentConfirmation]:
        if not ORDER_ID.fullmatch(order_id):
            raise ValueError("order_id must be 1-64 characters A-Z, a-z, 0-9 or '-'")
        if not fee_ids or len(set(fee_ids)) != len(fee_ids):
            raise ValueError("fee_ids must be a non-empty list without repeats")
        body = {"orderId": order_id, "feeId": [_id(fee_id) for fee_id in fee_ids]}
        return self._call(
            "payment",
            "POST",
            f"/external/v1/{agency}/patron/{patron}/payment",
            lambda raw: fbs_parse.parse_payment_confirmations(raw, order_id, fee_ids),
            json_body=body,
        )

    def _call(
        self,
        operation: str,
        method: str,
        path: str,
        parse: Callable[[Any], T],
        *,
        params: dict[str, str] | None = None,
        json_body: Any = None,
    ) -> T:
        """The call, authorised as the mode does it (`_authorized`); its JSON answer read by `parse`."""

        def send_with(headers: dict[str, str]) -> httpx.Response:
            return send(
                self._http,
                method,
                self._base_url,
                path,
                self._fail(operation),
                params=params,
                json=json_body,
                headers={"Accept": "application/json", **headers},
            )

        response = self._authorized(operation, send_with)
        return read_answer(response, _from_json(parse), self._fail(operation), refused=self._refusal(operation))

    # -- what a mode decides -----------------------------------------------------

    def _authorized(self, operation: str, send_with: Callable[[dict[str, str]], httpx.Response]) -> httpx.Response:
        """The answer to `send_with(the mode's authorisation headers)`."""
        raise NotImplementedError

    def _refusal(self, operation: str) -> Refusal | None:
        """How the mode reads a status that is no answer (None: every one is "unexpected")."""
        return None

    # -- shared transport helpers ----------------------------------------------

    def _fail(self, operation: str) -> Fail:
        return lambda kind, what: self._failed(kind, operation, what)

    def _failed(self, kind: type[E], operation: str, what: str) -> E:
        suffix = "" if self.mode == "direct" else f" (via {self.mode})"
        message = f"{operation} at {self.agency_id}{suffix}: {what}"
        log.warning("fbs: %s", message)
        return kind(PROVIDER, message)


class FbsClient(FbsApi):
    """FBS for one agency (library), logged in as `username`."""

    def __init__(
        self, http: httpx.Client, base_url: str, agency_id: str, username: str, password: str, sessions: SessionKeyStore
    ) -> None:
        super().__init__(http, base_url, agency_id)
        self._username = username
        self._password = password
        self._sessions = sessions
        self._identity: SessionIdentity = (self._base_url, agency_id, username)
        self._agency = quote(agency_id, safe="")

    # -- the API -------------------------------------------------------------

    def find_patron_id(self, cpr: str) -> int | None:
        """The patron id of the citizen with this CPR number; None: not a borrower here."""
        patron = self.find_patron(cpr)
        return None if patron is None else patron.patron_id

    def find_patron(self, cpr: str) -> Patron | None:
        """The citizen with this CPR number, with name and blocks as the patron call gives them; None: no borrower.

        One call: the look-up's answer carries the patron (`fbs_parse.parse_preauthenticated_patron`).
        """
        require_cpr(cpr)
        return self._call(
            "patron look-up",
            "POST",
            f"/external/v2/{self._agency}/patrons/preauthenticated",
            fbs_parse.parse_preauthenticated_patron,
            json_body=cpr,
        )

    def open_session(self) -> None:
        """Log in now unless a session key is held: done at start-up, so no borrower waits for the login."""
        self._session_key()

    def get_patron(self, patron_id: int) -> Patron:
        """The patron with name and blocks."""
        return self._patron(self._agency, str(_id(patron_id)), fbs_parse.parse_patron)

    def get_fees(self, patron_id: int) -> list[Fee]:
        """All the patron's fees: paid ones and those handed over to the debtor system included."""
        return self._fees(self._agency, str(_id(patron_id)))

    def register_payment(self, patron_id: int, order_id: str, fee_ids: list[int]) -> dict[int, PaymentConfirmation]:
        """Tell FBS the patron paid `fee_ids` in full under our `order_id`; FBS's answer per fee.

        Idempotent per order id in FBS: repeating the call (after a crash or a timeout) gets the
        same answers. Only a fee answered REGISTERED is paid by this order; never cached (a write).
        """
        return self._payment(self._agency, str(_id(patron_id)), order_id, fee_ids)

    # -- transport and session ----------------------------------------------

    def _authorized(self, operation: str, send_with: Callable[[dict[str, str]], httpx.Response]) -> httpx.Response:
        key = self._session_key()
        response = send_with({SESSION_HEADER: key})
        if response.status_code == 401:
            # The session timed out in FBS: log in again and retry once. A second
            # 401 right after a fresh login is not a timeout but a broken FBS.
            self._sessions.discard(self._identity, key)
            key = self._session_key()
            response = send_with({SESSION_HEADER: key})
            if response.status_code == 401:
                raise self._failed(UpstreamError, operation, "session key rejected (401) right after a fresh login")
        return response

    def _session_key(self) -> str:
        key = self._sessions.get(self._identity)
        if key is not None:
            return key
        lock = self._sessions.login_lock(self._identity)
        # Another request's login is bounded by its deadline; ours must also end with our budget.
        left = budget_left()
        if not lock.acquire(timeout=-1 if left is None else left):
            raise self._failed(UpstreamTimeout, "login", "the budget ran out waiting for another request's login")
        try:
            # Another thread may have logged in while we waited for the lock.
            key = self._sessions.get(self._identity)
            if key is None:
                key = self._login()
                self._sessions.put(self._identity, key)
            return key
        finally:
            lock.release()

    def _login(self) -> str:
        refused = token_refusal(
            self._fail("login"),
            FbsCredentialsRejected,
            lambda status: (
                f"FBS refused the client login for agency {self.agency_id} as user "
                f"{self._username!r} ({status}): check the FBS username and "
                "password configured for this library"
            ),
        )
        return send_and_parse(
            self._http,
            "POST",
            self._base_url,
            f"/external/v2/{self._agency}/authentication/login",
            _from_json(_session_key_of),
            self._fail("login"),
            refused=refused,
            json={"username": self._username, "password": self._password},
            headers={"Accept": "application/json"},
        )


def _from_json(parse: Callable[[Any], T]) -> Callable[[bytes], T]:
    """`parse` of the answer's JSON; an answer that is no JSON is an `UpstreamBadResponse` saying so."""

    def read(content: bytes) -> T:
        try:
            data = fbs_parse.loads(content)
        except UpstreamBadResponse:
            raise UpstreamBadResponse(PROVIDER, "answer is not valid JSON") from None
        return parse(data)

    return read


def _session_key_of(data: Any) -> str:
    key = data.get("sessionKey") if isinstance(data, dict) else None
    if not isinstance(key, str) or not key:
        raise UpstreamBadResponse(PROVIDER, "answer has no sessionKey")
    return key


def _id(patron_id: int) -> int:
    # Patron ids go into URL paths; anything but an int (e.g. a string from a
    # session) could change the path.
    if not isinstance(patron_id, int) or isinstance(patron_id, bool):
        raise TypeError("patron_id must be an int")
    return patron_id
