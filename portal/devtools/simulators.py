"""What the upstream simulators (FBS, debtor status, FBI, Nexi, Adgangsplatformen) share: serving in a
thread, the faults, delays and trickles tests inject (`FaultQueue`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request: they would drown the portal's own log in `make run`."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def serve_in_thread(app: Callable[..., Any], host: str, port: int, name: str) -> BaseWSGIServer:
    """Serve the WSGI `app` from a daemon thread named `<name>:<port>`; port 0 picks a free port."""
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    # A short poll interval: shutdown() waits up to one interval, once per test.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"{name}:{server.port}", daemon=True
    )
    thread.start()
    return server


def stop_serving(server: BaseWSGIServer, wake: threading.Event) -> None:
    """Stop serving and close the socket; `wake` first, so slow (delayed) answers stop waiting."""
    wake.set()
    server.shutdown()
    server.server_close()


@dataclass
class Fault:
    """One injected fault: the simulator answers `kind` ("status": `status`; else a kind of garbage)."""

    kind: str
    remaining: int | None  # None: until the faults are reset
    status: int = 500
    endpoint: str | None = None  # None: every endpoint


class FaultQueue:
    """What a test injected into one simulator: faults used up one call at a time, a delay, a trickle.

    Each simulator's state holds one and keeps its own public methods (`fail_next`, `delay_answers`,
    …) as thin words for it. A fault, delay or trickle is aimed at one endpoint or, without one, at
    all. Thread-safe (the servers are threaded); `wake` is the state's shutdown event, which ends
    delays and trickles early.
    """

    def __init__(self, wake: threading.Event, endpoints: tuple[str, ...] = ()) -> None:
        self.wake = wake
        self._endpoints = endpoints
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._delay: tuple[float, str | None] = (0.0, None)  # (seconds, endpoint)
        self._trickle: tuple[int, float, str | None] | None = None  # (bytes per chunk, pause, endpoint)

    def add(self, kind: str, remaining: int | None, status: int = 500, endpoint: str | None = None) -> None:
        """Answer `kind` to the next `remaining` calls (of `endpoint`); None: until `reset()`."""
        if remaining is not None and remaining < 1:
            raise ValueError("a fault must apply at least once")
        self._check_endpoint(endpoint)
        with self._lock:
            self._faults.append(Fault(kind, remaining, status, endpoint))

    def take(self, endpoint: str | None = None) -> Fault | None:
        """The first fault aimed at a call of `endpoint`, one of its uses counted (dropped once used up)."""
        with self._lock:
            fault = next((f for f in self._faults if f.endpoint in (None, endpoint)), None)
            if fault is not None and fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
        return fault

    def delay(self, seconds: float, endpoint: str | None = None) -> None:
        """Sleep before answering (0 turns it off)."""
        self._check_endpoint(endpoint)
        with self._lock:
            self._delay = (seconds, endpoint)

    def wait(self, endpoint: str | None = None) -> None:
        """The delay aimed at a call of `endpoint`, if any; cut short at shutdown."""
        with self._lock:
            seconds, aimed = self._delay
        if seconds and aimed in (None, endpoint):
            self.wake.wait(seconds)

    def trickle_answers(self, pause: float, chunk: int = 1, endpoint: str | None = None) -> None:
        """Send each answer's body `chunk` bytes at a time, `pause` seconds apart (0 turns it off)."""
        if pause < 0 or chunk < 1:
            raise ValueError("a trickle needs chunk >= 1 and pause >= 0")
        self._check_endpoint(endpoint)
        with self._lock:
            self._trickle = (chunk, pause, endpoint) if pause else None

    def trickle(self, body: bytes, endpoint: str | None = None) -> Iterator[bytes] | None:
        """`body` in the chunks of the trickle aimed at a call of `endpoint`, or None when none is."""
        with self._lock:
            trickle = self._trickle
        if trickle is None or trickle[2] not in (None, endpoint):
            return None
        return trickled(body, trickle[0], trickle[1], self.wake)

    def reset(self) -> None:
        """No faults, no delay, no trickle."""
        with self._lock:
            self._faults.clear()
            self._delay = (0.0, None)
            self._trickle = None

    def _check_endpoint(self, endpoint: str | None) -> None:
        if endpoint is not None and endpoint not in self._endpoints:
            raise ValueError(f"unknown endpoint {endpoint!r}; one of {self._endpoints}")


def trickled(body: bytes, chunk: int, pause: float, wake: threading.Event) -> Iterator[bytes]:
    """`body` in pieces of `chunk` bytes, `pause` seconds apart; ends early once `wake` is set (shutdown)."""
    for start in range(0, len(body), chunk):
        if start and wake.wait(pause):
            return  # shutting down: end the answer (short of its Content-Length)
        yield body[start : start + chunk]
