"""What the FBI simulator knows and does: manifestations by FAUST number, injected faults.

The titles are made up for the demo's record ids (portal.devtools.demo_data and the editor's
preview); none describes a real book. Tests hold the `SimState` of a running simulator and
change it in-process, and read how often and for which FAUST numbers it was asked.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

from portal.devtools.demo import DEV_FBI_TOKEN
from portal.devtools.simulators import Fault, FaultQueue

GarbageKind = Literal["invalid-json", "no-data", "short-list", "bad-entries"]


def manifestation(title: str, creators: list[str], material_type: str, year: str) -> dict[str, Any]:
    """A Manifestation as the FBI API answers the fields the portal asks for."""
    return {
        "titles": {"full": [title], "main": [title.split(":")[0]]},
        "creators": [{"display": name} for name in creators],
        "materialTypes": [{"materialTypeSpecific": {"display": material_type}}],
        "edition": {"publicationYear": {"display": year}},
    }


DEMO_WORKS: dict[str, dict[str, Any]] = {
    "29830092": manifestation("Havet om natten", ["Karen Holm"], "bog", "2019"),
    "27655033": manifestation("Skovens stemmer : en lydfortælling", ["Mads Lind"], "lydbog (cd-mp3)", "2017"),
    "52530331": manifestation("Kagebogen for begyndere", ["Sofie Bager", "Peter Mel"], "bog", "2021"),
    "22639862": manifestation("Rejsen til Nordkap", ["Ole Vind"], "film (dvd)", "[2003]"),
    "46651209": manifestation("Fuglene i haven", ["Lise Ravn"], "bog", "2015"),
    "62050021": manifestation("Brætspil for hele familien", ["Dansk Spilforlag"], "spil", "2022"),
    "51980337": manifestation("Byen under sneen", ["Jonas Frost"], "bog", "2020"),
    "38400915": manifestation("Klaverstykker for unge", ["Anna Tone"], "node", "2011"),
    "23915702": manifestation("Historien om Danmark i billeder", ["Erik Krønike"], "tegneserie", "2001"),
}


@dataclass
class SimState:
    """Data and behaviour of one FBI simulator. Thread-safe: the server is threaded."""

    token: str = DEV_FBI_TOKEN
    # FAUST number -> raw Manifestation JSON; a number not here is answered with null.
    works: dict[str, dict[str, Any]] = field(default_factory=lambda: copy.deepcopy(DEMO_WORKS))
    # The FAUST numbers of every request, in order: tests check the portal batches.
    requests: list[list[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        # Set at shutdown so delayed answers (timeout tests) stop sleeping.
        self.wake = threading.Event()
        self.faults = FaultQueue(self.wake)

    def manifestations(self, fausts: list[str]) -> list[dict[str, Any] | None]:
        with self.lock:
            return [copy.deepcopy(self.works.get(faust)) for faust in fausts]

    @property
    def request_count(self) -> int:
        with self.lock:
            return len(self.requests)

    # -- faults -------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """The next `n` requests answer `status`."""
        self.faults.add("status", n, status)

    def answer_garbage(self, kind: GarbageKind = "invalid-json", times: int | None = 1) -> None:
        """Answer 200 with something the portal must not trust: not JSON, GraphQL errors without
        data, a list shorter than asked for, or entries of the wrong shape. `times=None`: until reset.
        """
        self.faults.add(kind, times)

    def delay_answers(self, seconds: float) -> None:
        """Sleep before answering (0 turns it off)."""
        self.faults.delay(seconds)

    def reset_faults(self) -> None:
        self.faults.reset()

    def begin_request(self, fausts: list[str]) -> Fault | None:
        """Record the request, take the next fault, and apply any delay."""
        with self.lock:
            self.requests.append(list(fausts))
        fault = self.faults.take()
        self.faults.wait()
        return fault
