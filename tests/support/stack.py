"""The whole portal on loopback for end-to-end tests: FBS and debtor simulators, dev IdP, portal.

The portal runs its production code path: real OIDC against the dev IdP, real HTTP
to the FBS and debtor simulators, a real SQLite database with the demo libraries.
`rendezvous` (disarmed) holds FBS's fees call and the debtor's claims call until both
have arrived, for tests that prove the two are fetched concurrently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask

from portal import create_app
from portal.devtools import debtor_sim
from portal.devtools.demo import DEMO_LIBRARIES_FILE
from portal.devtools.fbs_sim import SimState, create_fbs_sim_app
from portal.devtools.idp import IdpClient, create_idp_app
from tests.support.live import LiveServer, start_live_server
from tests.support.settings import test_settings

CLIENT_ID = "portal-under-test"
CLIENT_SECRET = "portal-under-test-secret"
EDITOR_CLIENT_ID = "portal-editor-under-test"
EDITOR_CLIENT_SECRET = "portal-editor-under-test-secret"
DEBTOR_API_KEY = "debtor-key-under-test"
FBS_FEES_PATH = r"/external/[^/]+/patron/\d+/fees/v2"
DEBTOR_CLAIMS_PATH = r"/v1/libraries/[^/]+/claims/search"


@dataclass
class Stack:
    portal: LiveServer
    idp: LiveServer
    fbs: LiveServer
    fbs_state: SimState
    app: Flask
    servers: list[LiveServer] = field(default_factory=list)
    debtor: LiveServer | None = None
    debtor_state: debtor_sim.SimState = field(default_factory=debtor_sim.SimState)
    rendezvous: debtor_sim.Rendezvous = field(default_factory=debtor_sim.Rendezvous)

    @property
    def url(self) -> str:
        return self.portal.url

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def start_stack(tmp_path: Path, **env: str) -> Stack:
    """Start simulators, IdP and portal; `env` overrides PORTAL_* settings.

    `PORTAL_DEBTOR_BASE_URL=""` leaves the debtor system unconfigured.
    """
    portal, idp, fbs, debtor = (start_live_server(), start_live_server(), start_live_server(), start_live_server())
    state = SimState()
    rendezvous = debtor_sim.Rendezvous(parties=2, timeout=1.0)
    fbs.set_app(rendezvous.wrap(create_fbs_sim_app(state), FBS_FEES_PATH))
    debtor_state = debtor_sim.SimState(api_key=DEBTOR_API_KEY)
    debtor.set_app(rendezvous.wrap(debtor_sim.create_debtor_sim_app(debtor_state), DEBTOR_CLAIMS_PATH))
    debtor_env = {"PORTAL_DEBTOR_BASE_URL": debtor.url, "PORTAL_DEBTOR_API_KEY": DEBTOR_API_KEY}
    if env.get("PORTAL_DEBTOR_BASE_URL") == "":
        debtor_env = {}
    client = IdpClient(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uris=[f"{portal.url}/auth/callback"],
        post_logout_redirect_uris=[f"{portal.url}/lyngby/", f"{portal.url}/rodovre/"],
    )
    # The same dev IdP also plays the organisation's IdP for the editor area (/editor/).
    editor_client = IdpClient(
        client_id=EDITOR_CLIENT_ID,
        client_secret=EDITOR_CLIENT_SECRET,
        redirect_uris=[f"{portal.url}/editor/callback"],
        post_logout_redirect_uris=[f"{portal.url}/editor/"],
        people="editors",
    )
    idp.set_app(create_idp_app(idp.url, [client, editor_client]))
    settings = test_settings(
        **{
            "PORTAL_SECRET_KEY": "s" * 40,
            "PORTAL_BASE_URL": portal.url,
            "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
            "PORTAL_OIDC_ISSUER": idp.url,
            "PORTAL_OIDC_CLIENT_ID": CLIENT_ID,
            "PORTAL_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "PORTAL_FBS_BASE_URL": fbs.url,
            "PORTAL_LIBRARIES_FILE": str(DEMO_LIBRARIES_FILE),
            "PORTAL_HTTP_TIMEOUT": "2",
            "PORTAL_EDITOR_OIDC_ISSUER": idp.url,
            "PORTAL_EDITOR_OIDC_CLIENT_ID": EDITOR_CLIENT_ID,
            "PORTAL_EDITOR_OIDC_CLIENT_SECRET": EDITOR_CLIENT_SECRET,
            **debtor_env,
            **env,
        }
    )
    app = create_app(settings)
    portal.set_app(app)
    return Stack(
        portal,
        idp,
        fbs,
        state,
        app,
        servers=[portal, idp, fbs, debtor],
        debtor=debtor,
        debtor_state=debtor_state,
        rendezvous=rendezvous,
    )
