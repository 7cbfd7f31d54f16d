"""Real servers on loopback for tests: any WSGI app on a free port, in a daemon thread."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import BaseWSGIServer

from portal.devtools.simulators import serve_in_thread


class DeferredApp:
    """A WSGI app set after the server is bound, so apps can learn each other's ports."""

    def __init__(self) -> None:
        self.app: Callable[..., Any] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self.app is None:
            raise RuntimeError("DeferredApp used before its app was set")
        return self.app(environ, start_response)


@dataclass
class LiveServer:
    server: BaseWSGIServer
    deferred: DeferredApp

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def set_app(self, app: Callable[..., Any]) -> None:
        self.deferred.app = app

    def stop(self) -> None:
        # shutdown() returns once serve_forever has stopped.
        self.server.shutdown()
        self.server.server_close()


def start_live_server(app: Callable[..., Any] | None = None) -> LiveServer:
    """Bind 127.0.0.1:<free port> now; serve `app` (or the one given later by set_app)."""
    deferred = DeferredApp()
    deferred.app = app
    return LiveServer(serve_in_thread(deferred, "127.0.0.1", 0, "live"), deferred)
