"""A stand-in for Adgangsplatformen's `GET /userinfo`, for the FBS simulator's adapter mode in tests.

Only the one endpoint the FBS simulator asks, answering each known bearer token with its
`{"attributes": ...}` (the shape of `../shared/reference/login.md`) or with a refusal status;
an unknown token is refused (401), as Adgangsplatformen refuses an expired one. The project's
Adgangsplatformen simulator (portal/devtools/adgangsplatformen/) serves the same endpoint for
`make run`; point `SimState.adgangsplatformen_url` at either.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.serving import BaseWSGIServer

from portal.devtools.simulators import serve_in_thread, stop_serving


@dataclass
class UserinfoStub:
    """token -> attributes (a dict) or a refusal (an int status). Thread-safe enough: tests set it up first."""

    tokens: dict[str, dict[str, Any] | int] = field(default_factory=dict)
    asked: Counter[str] = field(default_factory=Counter)  # token -> how often

    def app(self) -> Flask:
        app = Flask("userinfo-stub")

        @app.get("/userinfo")
        def userinfo() -> Any:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            self.asked[token] += 1
            answer = self.tokens.get(token, 401) if scheme.lower() == "bearer" else 401
            if isinstance(answer, int):
                return jsonify({"error": "invalid_token"}), answer
            return jsonify({"attributes": answer})

        return app


def start_userinfo_stub(stub: UserinfoStub, host: str = "127.0.0.1", port: int = 0) -> BaseWSGIServer:
    """Serve `stub` in a daemon thread; its base URL is `http://<host>:<server.port>`."""
    return serve_in_thread(stub.app(), host, port, "userinfo-stub")


def stop_userinfo_stub(server: BaseWSGIServer) -> None:
    stop_serving(server, threading.Event())
