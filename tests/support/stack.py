"""The whole portal on loopback for end-to-end tests: FBS simulator, dev IdP, portal.

The portal runs its production code path: real OIDC against the dev IdP, real HTTP
to the FBS simulator, a real SQLite database with the demo libraries.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask

from portal import create_app
from portal.config import DEMO_LIBRARIES_FILE, load_settings
from portal.devtools.fbs_sim import SimState, create_fbs_sim_app
from portal.devtools.idp import IdpClient, create_idp_app
from tests.support.live import LiveServer, start_live_server

CLIENT_ID = "portal-under-test"
CLIENT_SECRET = "portal-under-test-secret"


@dataclass
class Stack:
    portal: LiveServer
    idp: LiveServer
    fbs: LiveServer
    fbs_state: SimState
    app: Flask
    servers: list[LiveServer] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.portal.url

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def start_stack(tmp_path: Path, **env: str) -> Stack:
    """Start simulator, IdP and portal; `env` overrides PORTAL_* settings."""
    portal, idp, fbs = start_live_server(), start_live_server(), start_live_server()
    state = SimState()
    fbs.set_app(create_fbs_sim_app(state))
    client = IdpClient(client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                       redirect_uris=[f"{portal.url}/auth/callback"],
                       post_logout_redirect_uris=[f"{portal.url}/lyngby/", f"{portal.url}/rodovre/"])
    idp.set_app(create_idp_app(idp.url, [client]))
    settings = load_settings({
        "PORTAL_SECRET_KEY": "s" * 40,
        "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        "PORTAL_OIDC_ISSUER": idp.url,
        "PORTAL_OIDC_CLIENT_ID": CLIENT_ID,
        "PORTAL_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "PORTAL_FBS_BASE_URL": fbs.url,
        "PORTAL_LIBRARIES_FILE": str(DEMO_LIBRARIES_FILE),
        "PORTAL_HTTP_TIMEOUT": "2",
        **env,
    })
    app = create_app(settings)
    portal.set_app(app)
    return Stack(portal, idp, fbs, state, app, servers=[portal, idp, fbs])
