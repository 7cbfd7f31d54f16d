"""The whole portal on loopback for end-to-end tests: FBS and debtor simulators, dev IdP, portal.

The portal runs its production code path: real OIDC against the dev IdP, real HTTP
to the FBS and debtor simulators, a real SQLite database with the demo libraries.
`rendezvous` (disarmed) holds FBS's fees call and the debtor's claims call until both
have arrived, for tests that prove the two are fetched concurrently.

With `card_payment=True` the stack also runs the Nexi Checkout simulator and Lyngby takes cards
(as in `make run`); the payment worker runs embedded in the portal process, so an order
completes through webhooks and the queue alone, with no step taken by the test.

With `fbi=True` the stack also runs the FBI simulator (titles of the fees' materials); off by
default, so pages elsewhere show item numbers as before.

With `adgangsplatformen=True` the stack also runs the Adgangsplatformen simulator and Lyngby offers
sign-in with it beside MitID (as in `make run`); `stack.ap_state` steers it. With `fbs_adapter=True`
as well, Lyngby reads FBS through DBC's adapter for those borrowers (the FBS simulator's adapter mode).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer

from portal import create_app
from portal.devtools import adgangsplatformen as ap_sim
from portal.devtools import debtor_sim, fbi_sim, nexi_sim
from portal.devtools.demo import (
    DEMO_LIBRARIES_FILE,
    DEMO_NEXI_SECRET_KEY_ENV,
    DEMO_TERMS_PATH,
    libraries_with_adgangsplatformen,
    libraries_with_card_payment,
)
from portal.devtools.fbs_sim import SimState, create_fbs_sim_app
from portal.devtools.idp import IdpClient, create_idp_app
from portal.payments.setup import QUEUE_KEY
from tests.support.live import LiveServer, start_live_server
from tests.support.settings import test_settings

CLIENT_ID = "portal-under-test"
CLIENT_SECRET = "portal-under-test-secret"
EDITOR_CLIENT_ID = "portal-editor-under-test"
EDITOR_CLIENT_SECRET = "portal-editor-under-test-secret"
DEBTOR_API_KEY = "debtor-key-under-test"
AP_CLIENT_ID = "portal-adgangsplatformen-under-test"
AP_CLIENT_SECRET = "portal-adgangsplatformen-under-test-secret"
FBS_FEES_PATH = r"/external/[^/]+/patron/\d+/fees/v2"
DEBTOR_CLAIMS_PATH = r"/v1/libraries/[^/]+/claims/search"
FBS_PAYMENT_PATH = r"/external/v1/[^/]+/patron/\d+/payment"
# Upstream timeouts of the card-payment stack: longer than a test holds FBS at the gate.
CARD_HTTP_TIMEOUT = "30"
GATE_LIMIT = 20.0


class Gate:
    """Holds requests to one path until opened, so a test can look at an order mid-way.

    Open unless a test closes it. A held request goes on by itself after `GATE_LIMIT` seconds,
    so a failing test never leaves a worker waiting for ever.
    """

    def __init__(self) -> None:
        self._open = threading.Event()
        self._open.set()
        self.held = threading.Semaphore(0)  # released once per request that reached a closed gate

    def close(self) -> None:
        self._open.clear()

    def open(self) -> None:
        self._open.set()

    def wait_until_held(self, timeout: float = GATE_LIMIT) -> None:
        """Wait until a request waits at the closed gate (raises on timeout)."""
        if not self.held.acquire(timeout=timeout):
            raise TimeoutError("no request reached the gate")

    def wrap(self, app: Callable[..., Any], path: str) -> Callable[..., Any]:
        pattern = re.compile(path)

        def gated(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if pattern.fullmatch(environ.get("PATH_INFO", "")) and not self._open.is_set():
                self.held.release()
                self._open.wait(GATE_LIMIT)
            result: Iterable[bytes] = app(environ, start_response)
            return result

        return gated


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
    nexi: BaseWSGIServer | None = None
    nexi_state: nexi_sim.SimState = field(default_factory=nexi_sim.SimState)
    fbs_payment_gate: Gate = field(default_factory=Gate)
    fbi_state: fbi_sim.SimState | None = None  # with start_stack(fbi=True)
    ap_state: ap_sim.ApState | None = None  # with start_stack(adgangsplatformen=True)
    ap_url: str | None = None

    @property
    def url(self) -> str:
        return self.portal.url

    def stop(self) -> None:
        # The worker first, so it takes no step against a simulator that is going away.
        self.fbs_payment_gate.open()
        self.app.extensions[QUEUE_KEY].stop()
        for server in self.servers:
            server.stop()
        if self.nexi is not None:
            nexi_sim.stop_nexi_sim(self.nexi)


def start_stack(
    tmp_path: Path,
    *,
    card_payment: bool = False,
    fbi: bool = False,
    adgangsplatformen: bool = False,
    fbs_adapter: bool = False,
    **env: str,
) -> Stack:
    """Start simulators, IdP and portal; `env` overrides PORTAL_* settings.

    `PORTAL_DEBTOR_BASE_URL=""` leaves the debtor system unconfigured. `card_payment` adds the
    Nexi simulator and gives Lyngby card payment, with the embedded worker. `fbi` adds the FBI
    simulator (titles).
    """
    portal, idp, fbs, debtor = (start_live_server(), start_live_server(), start_live_server(), start_live_server())
    state = SimState()
    rendezvous = debtor_sim.Rendezvous(parties=2, timeout=1.0)
    gate = Gate()
    fbs.set_app(gate.wrap(rendezvous.wrap(create_fbs_sim_app(state), FBS_FEES_PATH), FBS_PAYMENT_PATH))
    debtor_state = debtor_sim.SimState(api_key=DEBTOR_API_KEY)
    debtor.set_app(rendezvous.wrap(debtor_sim.create_debtor_sim_app(debtor_state), DEBTOR_CLAIMS_PATH))
    debtor_env = {"PORTAL_DEBTOR_BASE_URL": debtor.url, "PORTAL_DEBTOR_API_KEY": DEBTOR_API_KEY}
    if env.get("PORTAL_DEBTOR_BASE_URL") == "":
        debtor_env = {}
    nexi, nexi_state = None, nexi_sim.SimState()
    card_env = {"PORTAL_LIBRARIES_FILE": str(DEMO_LIBRARIES_FILE)}
    if card_payment:
        nexi = nexi_sim.start_nexi_sim("127.0.0.1", 0, nexi_state)
        card_env = {
            "PORTAL_NEXI_BASE_URL": f"http://127.0.0.1:{nexi.server_port}",
            "PORTAL_QUEUE_WORKER": "embedded",
            DEMO_NEXI_SECRET_KEY_ENV: nexi_sim.DEV_NEXI_SECRET_KEY,
            "PORTAL_LIBRARIES_FILE": str(libraries_with_card_payment(tmp_path, portal.url + DEMO_TERMS_PATH)),
            "PORTAL_HTTP_TIMEOUT": CARD_HTTP_TIMEOUT,
            "PORTAL_UPSTREAM_DEADLINE": CARD_HTTP_TIMEOUT,
        }
    fbi_server, fbi_state, fbi_env = _fbi_sim() if fbi else (None, None, {})
    ap_server, ap_state, ap_env = _ap_sim(portal.url) if adgangsplatformen else (None, None, {})
    if adgangsplatformen:
        card_env["PORTAL_LIBRARIES_FILE"] = str(
            libraries_with_card_payment(tmp_path, portal.url + DEMO_TERMS_PATH, adgangsplatformen=True)
            if card_payment
            else libraries_with_adgangsplatformen(tmp_path)
        )
    if fbs_adapter:  # with adgangsplatformen: Lyngby reads FBS through DBC's adapter (the FBS simulator's)
        assert ap_server is not None, "fbs_adapter=True needs adgangsplatformen=True"
        path = Path(card_env["PORTAL_LIBRARIES_FILE"])
        lyngby = 'slug = "lyngby"\n'
        path.write_text(path.read_text().replace(lyngby, lyngby + 'fbs_access = "dbc_adapter"\n', 1))
        state.adgangsplatformen_url = ap_server.url  # where the simulator resolves bearer tokens
        ap_env["PORTAL_FBS_ADAPTER_BASE_URL"] = fbs.url
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
            "PORTAL_HTTP_TIMEOUT": "2",
            "PORTAL_EDITOR_OIDC_ISSUER": idp.url,
            "PORTAL_EDITOR_OIDC_CLIENT_ID": EDITOR_CLIENT_ID,
            "PORTAL_EDITOR_OIDC_CLIENT_SECRET": EDITOR_CLIENT_SECRET,
            **debtor_env,
            **card_env,
            **fbi_env,
            **ap_env,
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
        servers=[portal, idp, fbs, debtor, *([fbi_server] if fbi_server else []), *([ap_server] if ap_server else [])],
        debtor=debtor,
        debtor_state=debtor_state,
        rendezvous=rendezvous,
        nexi=nexi,
        nexi_state=nexi_state,
        fbs_payment_gate=gate,
        fbi_state=fbi_state,
        ap_state=ap_state,
        ap_url=ap_server.url if ap_server else None,
    )


def _fbi_sim() -> tuple[LiveServer, fbi_sim.SimState, dict[str, str]]:
    """The FBI simulator on a free port, and the settings that point the portal at it."""
    server, state = start_live_server(), fbi_sim.SimState()
    server.set_app(fbi_sim.create_fbi_sim_app(state))
    env = {"PORTAL_FBI_BASE_URL": f"{server.url}/775100/next", "PORTAL_FBI_TOKEN": state.token}
    return server, state, env


def _ap_sim(portal_url: str) -> tuple[LiveServer, ap_sim.ApState, dict[str, str]]:
    """The Adgangsplatformen simulator on a free port, the portal its client, and the settings for it."""
    server, state = start_live_server(), ap_sim.ApState()
    state.add_clients([ap_sim.portal_client(portal_url, AP_CLIENT_ID, AP_CLIENT_SECRET)])
    server.set_app(ap_sim.create_adgangsplatformen_app(state))
    env = {
        "PORTAL_ADGANGSPLATFORMEN_URL": server.url,
        "PORTAL_ADGANGSPLATFORMEN_CLIENT_ID": AP_CLIENT_ID,
        "PORTAL_ADGANGSPLATFORMEN_CLIENT_SECRET": AP_CLIENT_SECRET,
    }
    return server, state, env
