"""Make requests to several simulators wait for each other: proof of concurrency without timing.

Wrap the FBS simulator and the debtor simulator with the same `Rendezvous`: while it is
armed, a matching request is held until one matching request has arrived at *each*
wrapped app. A portal that calls them one after the other never gets past the first;
the held request then answers 503 after `timeout` seconds, so the page fails.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

WsgiApp = Callable[..., Iterable[bytes]]


class Rendezvous:
    """A barrier for `parties` upstream requests, used through `wrap()`."""

    def __init__(self, parties: int = 2, timeout: float = 1.0) -> None:
        self._barrier = threading.Barrier(parties, timeout=timeout)
        self._armed = threading.Event()
        self.broken = 0  # how often a request waited in vain

    def arm(self) -> None:
        self._barrier.reset()
        self._armed.set()

    def disarm(self) -> None:
        self._armed.clear()
        self._barrier.reset()

    def wrap(self, app: WsgiApp, path: str) -> WsgiApp:
        """`app`, with requests whose path fully matches the regex `path` held while armed."""
        pattern = re.compile(path)

        def held(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if self._armed.is_set() and pattern.fullmatch(environ.get("PATH_INFO", "")):
                try:
                    self._barrier.wait()
                except threading.BrokenBarrierError:
                    self.broken += 1
                    body = json.dumps(
                        {"message": "rendezvous: the other upstream was not called at the same time"}
                    ).encode()
                    start_response(
                        "503 Service Unavailable",
                        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
                    )
                    return [body]
            return app(environ, start_response)

        return held
