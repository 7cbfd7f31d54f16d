"""What the upstream simulators (FBS, debtor status, FBI, Nexi) share: serving in a thread, fault counting."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar

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


class Fault(Protocol):
    remaining: int | None  # None: until the faults are reset


F = TypeVar("F", bound=Fault)


def check_fault_uses(fault: Fault) -> None:
    if fault.remaining is not None and fault.remaining < 1:
        raise ValueError("a fault must apply at least once")


def use_fault(faults: list[F], fault: F | None) -> None:
    """Count one use of `fault` (taken from `faults`), dropping it when used up; caller holds the lock."""
    if fault is not None and fault.remaining is not None:
        fault.remaining -= 1
        if fault.remaining <= 0:
            faults.remove(fault)


def trickled(body: bytes, chunk: int, pause: float, wake: threading.Event) -> Iterator[bytes]:
    """`body` in pieces of `chunk` bytes, `pause` seconds apart; ends early once `wake` is set (shutdown)."""
    for start in range(0, len(body), chunk):
        if start and wake.wait(pause):
            return  # shutting down: end the answer (short of its Content-Length)
        yield body[start : start + chunk]
