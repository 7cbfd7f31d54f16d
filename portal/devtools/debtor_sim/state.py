"""What the debtor simulator knows and does: claims per library and CPR number, injected faults.

Tests hold the `SimState` of a running simulator and change it in-process: make the
next calls fail, answer garbage, answer slowly or trickle the answer out, and read how
often (and with which URLs) the simulator was called.
"""

from __future__ import annotations

import copy
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from portal import clock
from portal.devtools import demo_data
from portal.devtools.demo import DEV_DEBTOR_API_KEY
from portal.devtools.simulators import Fault, FaultQueue

ENDPOINTS = ("claims",)
GarbageKind = Literal["invalid-json", "wrong-shape", "float-amount", "other-agency"]
ClaimsKey = tuple[str, str]  # (agency id, CPR number)


def _demo_claims() -> dict[ClaimsKey, list[dict[str, Any]]]:
    by_patron = demo_data.debtor_claims(clock.today())
    return {
        (agency, c.cpr): copy.deepcopy(by_patron.get(patron_id, []))
        for c in demo_data.CITIZENS
        if c.cpr is not None
        for agency, patron_id in c.patrons.items()
    }


@dataclass
class SimState:
    """Data and behaviour of one debtor simulator. Thread-safe: the server is threaded."""

    api_key: str = DEV_DEBTOR_API_KEY
    # (agency id, CPR number) -> raw Claim JSON. Default: the demo citizens' claims, copied.
    claims: dict[ClaimsKey, list[dict[str, Any]]] = field(default_factory=_demo_claims)
    agencies: set[str] = field(default_factory=lambda: {agency for c in demo_data.CITIZENS for agency in c.patrons})
    calls: Counter[str] = field(default_factory=Counter)
    # (method, path, query string) of every request: tests check no CPR number travels in a URL.
    requests: list[tuple[str, str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        # Set at shutdown so slow answers (timeout tests) stop sleeping.
        self.wake = threading.Event()
        self.faults = FaultQueue(self.wake, ENDPOINTS)

    def claims_of(self, agency: str, cpr: str) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self.claims.get((agency, cpr), []))

    # -- faults -------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """The next `n` calls answer `status` with no useful body."""
        self.faults.add("status", n, status)

    def answer_garbage(self, kind: GarbageKind = "invalid-json", times: int | None = 1) -> None:
        """Answer 200 with a body the portal must refuse: not JSON, the wrong shape, an amount
        as a JSON number instead of a decimal string, or another library's claims.

        `times=None`: until `reset_faults()`.
        """
        self.faults.add(kind, times)

    def delay_answers(self, seconds: float) -> None:
        """Sleep before answering (0 turns it off)."""
        self.faults.delay(seconds)

    def trickle_answers(self, pause: float, chunk: int = 1) -> None:
        """Send each answer's body `chunk` bytes at a time, `pause` seconds apart (0 turns it off).

        Status and headers (with the full Content-Length) go out at once; the body then takes
        about len(body) / chunk * pause seconds, or ends early when the simulator shuts down.
        """
        self.faults.trickle_answers(pause, chunk)

    def trickle(self, body: bytes) -> Iterator[bytes] | None:
        """`body` in the chunks of the trickle asked for, or None when none is."""
        return self.faults.trickle(body)

    def reset_faults(self) -> None:
        self.faults.reset()

    def begin_call(self, endpoint: str, method: str, path: str, query: str) -> Fault | None:
        """Record the call, take the next fault, and apply any delay."""
        with self.lock:
            self.calls[endpoint] += 1
            self.requests.append((method, path, query))
        fault = self.faults.take()
        self.faults.wait()
        return fault

    def call_count(self, endpoint: str | None = None) -> int:
        with self.lock:
            return self.calls[endpoint] if endpoint else sum(self.calls.values())
