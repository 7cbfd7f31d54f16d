"""What the FBS simulator knows and does: data, sessions, payments, injected faults.

Tests hold the `SimState` of a running simulator and change it in-process:
expire sessions, make the next calls fail, answer garbage, answer slowly or
trickle the answer out, and read how often each endpoint was called.
"""

from __future__ import annotations

import copy
import os
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from portal.devtools import demo_data
from portal.devtools.demo import DEV_FBS_PASSWORD, DEV_FBS_USERNAME
from portal.devtools.simulators import Fault, FaultQueue

# Endpoint names, used for call counts and to aim faults at one endpoint.
ENDPOINTS = ("login", "preauthenticated", "patron", "fees", "payment")
ADGANGSPLATFORMEN_URL_ENV = "FBS_SIM_ADGANGSPLATFORMEN_URL"
GarbageKind = Literal["invalid-json", "wrong-shape"]


def isil(agency_id: str) -> str:
    """FBS's agency id (ISIL, "DK-717300") for Adgangsplatformen's agency number ("717300")."""
    return f"DK-{agency_id}" if agency_id.isdigit() else agency_id


def _demo_local_users() -> dict[str, dict[str, int]]:
    """userId -> {ISIL: patron id} of the demo's Adgangsplatformen users, where they are patrons."""
    users: dict[str, dict[str, int]] = {}
    for user in demo_data.LIBRARY_LOGIN_USERS:
        for agency, user_id in user.agencies.items():
            if user_id != user.cpr and isil(agency) in user.patrons:
                users.setdefault(user_id, {})[isil(agency)] = user.patrons[isil(agency)]
    return users


@dataclass
class SimState:
    """Data and behaviour of one simulator. Thread-safe: the server is threaded."""

    username: str = DEV_FBS_USERNAME
    password: str = DEV_FBS_PASSWORD
    # agency id -> (username, password), for a library with its own client login.
    credentials: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Seconds a session key lives after login; 0 makes every key stale at once.
    session_ttl: float = 900.0
    # cpr -> {agency id: patron id}; patron id -> name, FeeV2 list, blockStatus list.
    # Default: the demo citizens, deep-copied so a test may edit its own state.
    patrons_by_cpr: dict[str, dict[str, int]] = field(
        default_factory=lambda: {c.cpr: dict(c.patrons) for c in demo_data.CITIZENS if c.cpr is not None and c.patrons}
    )
    names: dict[int, str] = field(
        default_factory=lambda: {pid: c.name for c in demo_data.CITIZENS for pid in c.patrons.values()}
    )
    fees: dict[int, list[dict[str, Any]]] = field(default_factory=lambda: copy.deepcopy(demo_data.FEES))
    blocks: dict[int, list[dict[str, Any]]] = field(default_factory=lambda: copy.deepcopy(demo_data.BLOCKS))
    # DBC's adapter mode: borrowers known by a library-local userId (card number; Adgangsplatformen's
    # `agencies[].userId` with userIdType LOCAL): userId -> {agency id: patron id}. A userId of
    # type CPR is looked up in `patrons_by_cpr`.
    # Default: the Adgangsplatformen simulator's demo users (demo_data.LIBRARY_LOGIN_USERS).
    local_users: dict[str, dict[str, int]] = field(default_factory=lambda: _demo_local_users())
    # Where adapter mode resolves a bearer token: the Adgangsplatformen (simulator) base URL, whose
    # `GET /userinfo` is asked with the token. None: FBS_SIM_ADGANGSPLATFORMEN_URL, else adapter
    # paths answer 503.
    adgangsplatformen_url: str | None = field(default_factory=lambda: os.environ.get(ADGANGSPLATFORMEN_URL_ENV) or None)
    calls: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        self._sessions: dict[str, tuple[str, float]] = {}  # key -> (agency, expires)
        # Set at shutdown so slow answers (timeout tests) stop sleeping.
        self.wake = threading.Event()
        self.faults = FaultQueue(self.wake, ENDPOINTS)
        self.payments: dict[str, list[dict[str, Any]]] = {}  # orderId -> confirmations
        self.paid_by: dict[int, tuple[str, str]] = {}  # feeId -> (orderId, paidDate)

    # -- data ---------------------------------------------------------------

    def agencies(self) -> set[str]:
        with self.lock:
            known = {agency for patrons in self._all_patrons() for agency in patrons}
            return known | set(self.credentials)

    def agency_of(self, patron_id: int) -> str | None:
        with self.lock:
            for patrons in self._all_patrons():
                for agency, pid in patrons.items():
                    if pid == patron_id:
                        return agency
            return None

    def _all_patrons(self) -> list[dict[str, int]]:
        return [*self.patrons_by_cpr.values(), *self.local_users.values()]

    def patron_of_user(self, attributes: dict[str, Any]) -> tuple[str, int] | None:
        """(agency, patron id) of the borrower Adgangsplatformen's `attributes` describe; None: no patron.

        The real adapter uses the agency the token was issued for; userinfo does not say which,
        so the first of the user's `agencies` that has a patron here stands for it (the
        Adgangsplatformen simulator lists the agency signed in at first). Then `cpr`, if given.
        """
        with self.lock:
            agencies = attributes.get("agencies")
            for entry in agencies if isinstance(agencies, list) else []:
                if not isinstance(entry, dict):
                    continue
                agency, user_id = entry.get("agencyId"), entry.get("userId")
                if not isinstance(agency, str) or not isinstance(user_id, str):
                    continue
                agency = isil(agency)
                by_user = self.patrons_by_cpr if entry.get("userIdType") == "CPR" else self.local_users
                patron_id = by_user.get(user_id, {}).get(agency)
                if patron_id is not None:
                    return agency, patron_id
            cpr = attributes.get("cpr")
            for agency, patron_id in self.patrons_by_cpr.get(cpr, {}).items() if isinstance(cpr, str) else ():
                return agency, patron_id
            return None

    # -- sessions -----------------------------------------------------------

    def check_credentials(self, agency: str, username: Any, password: Any) -> bool:
        expected = self.credentials.get(agency, (self.username, self.password))
        return (username, password) == expected

    def new_session(self, agency: str) -> str:
        key = secrets.token_urlsafe(24)
        with self.lock:
            self._sessions[key] = (agency, time.monotonic() + self.session_ttl)
        return key

    def session_valid(self, key: str | None, agency: str) -> bool:
        with self.lock:
            entry = self._sessions.get(key) if key else None
            if key is None or entry is None:
                return False
            session_agency, expires = entry
            if time.monotonic() >= expires:
                del self._sessions[key]
                return False
            # A key is only good for the agency it logged in to.
            return session_agency == agency

    def expire_sessions(self) -> None:
        """Every current session key answers 401 from now on (as after FBS's time-out)."""
        with self.lock:
            self._sessions.clear()

    # -- faults -------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 500, endpoint: str | None = None) -> None:
        """The next `n` calls (of `endpoint`, or any) answer `status` with no useful body."""
        self.faults.add("status", n, status, endpoint)

    def answer_garbage(
        self, kind: GarbageKind = "invalid-json", times: int | None = 1, endpoint: str | None = None
    ) -> None:
        """Answer 200 with a body that is not JSON, or JSON of the wrong shape.

        `times=None`: until `reset_faults()`. Like every fault it is used up by the
        next calls that begin, even one that then answers 401 or 404.
        """
        self.faults.add(kind, times, endpoint=endpoint)

    def delay_answers(self, seconds: float, endpoint: str | None = None) -> None:
        """Sleep before answering (0 turns it off)."""
        self.faults.delay(seconds, endpoint)

    def trickle_answers(self, pause: float, endpoint: str | None = None, chunk: int = 1) -> None:
        """Send each answer's body `chunk` bytes at a time, `pause` seconds apart (0 turns it off).

        Status and headers (with the full Content-Length) go out at once; the body then takes
        about len(body) / chunk * pause seconds, or ends early when the simulator shuts down.
        """
        self.faults.trickle_answers(pause, chunk, endpoint)

    def trickle(self, endpoint: str, body: bytes) -> Iterator[bytes] | None:
        """`body` in the chunks of the trickle aimed at `endpoint`, or None when none is."""
        return self.faults.trickle(body, endpoint)

    def reset_faults(self) -> None:
        self.faults.reset()

    def begin_call(self, endpoint: str) -> Fault | None:
        """Count the call, take the first fault aimed at it, and apply any delay."""
        with self.lock:
            self.calls[endpoint] += 1
        fault = self.faults.take(endpoint)
        self.faults.wait(endpoint)
        return fault

    def call_count(self, endpoint: str | None = None) -> int:
        """Calls of `endpoint`, or of all endpoints."""
        with self.lock:
            return self.calls[endpoint] if endpoint else sum(self.calls.values())
