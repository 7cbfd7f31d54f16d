"""Run the dev IdP on a loopback port in a daemon thread (for `make run` and tests)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from portal.devtools.demo import (
    DEV_EDITOR_CLIENT_ID,
    DEV_EDITOR_CLIENT_SECRET,
    DEV_OIDC_CLIENT_ID,
    DEV_OIDC_CLIENT_SECRET,
)
from portal.devtools.idp.app import create_idp_app
from portal.devtools.idp.models import IdpClient, prefix_rule


@dataclass
class DevIdp:
    """A running dev IdP. `issuer` is what the portal's PORTAL_OIDC_ISSUER should be."""

    server: BaseWSGIServer
    thread: threading.Thread
    app: Flask
    issuer: str

    @property
    def server_port(self) -> int:
        return self.server.server_port

    def shutdown(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class _PathOnlyLog(WSGIRequestHandler):
    """Logs requests without their query: id_token_hint (with the CPR claim) and codes travel there."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.log("info", '"%s %s" %s', self.command, self.path.split("?", 1)[0], code)


class _Deferred:
    """A WSGI app filled in after the socket is bound, so port 0 can be used
    and the issuer still names the real port."""

    app: Flask | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        assert self.app is not None
        return self.app(environ, start_response)


def start_dev_idp(host: str, port: int, issuer: str | None, clients: Sequence[IdpClient], **options: Any) -> DevIdp:
    """Serve a dev IdP at host:port (0 = any free port) in a daemon thread.

    `issuer` defaults to http://host:<bound port>. `options` go to `create_idp_app`
    (cpr_claim, cpr_in_id_token, citizens, code_lifetime, token_lifetime).
    Raises OSError when the port is taken.
    """
    deferred = _Deferred()
    server = make_server(host, port, deferred, threaded=True, request_handler=_PathOnlyLog)
    issuer = issuer or f"http://{host}:{server.server_port}"
    app = create_idp_app(issuer, clients, **options)
    deferred.app = app
    # A short poll interval makes shutdown() quick (tests start many IdPs).
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=f"dev-idp-{server.server_port}", daemon=True
    )
    thread.start()
    return DevIdp(server=server, thread=thread, app=app, issuer=issuer)


def portal_dev_client(portal_url: str = "http://127.0.0.1:5000") -> IdpClient:
    """The portal as `make run` serves it: one callback, back to any page of the portal after logout."""
    base = portal_url.rstrip("/")
    return IdpClient(DEV_OIDC_CLIENT_ID, DEV_OIDC_CLIENT_SECRET, [f"{base}/auth/callback"], prefix_rule(f"{base}/"))


def portal_editor_dev_client(portal_url: str = "http://127.0.0.1:5000") -> IdpClient:
    """The portal's editor area as `make run` serves it: signs in demo editors, back to /editor/ after logout."""
    base = portal_url.rstrip("/")
    return IdpClient(
        DEV_EDITOR_CLIENT_ID,
        DEV_EDITOR_CLIENT_SECRET,
        [f"{base}/editor/callback"],
        prefix_rule(f"{base}/editor/"),
        people="editors",
    )
