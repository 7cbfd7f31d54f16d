"""Run the Adgangsplatformen simulator on a loopback port in a daemon thread (make run, tests)."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from flask import Flask
from werkzeug.serving import BaseWSGIServer

from portal.devtools.adgangsplatformen.app import EXTENSION, create_adgangsplatformen_app
from portal.devtools.adgangsplatformen.state import ApClient, ApState
from portal.devtools.simulators import serve_in_thread, stop_serving


def start_adgangsplatformen_sim(
    host: str, port: int, clients: Iterable[ApClient], state: ApState | None = None
) -> BaseWSGIServer:
    """Serve a simulator for `clients` (demo users unless `state` says otherwise); port 0 picks a free port."""
    state = state if state is not None else ApState()
    state.add_clients(clients)
    return serve_in_thread(create_adgangsplatformen_app(state), host, port, "adgangsplatformen-sim")


def sim_state(server: BaseWSGIServer) -> ApState:
    app: Flask = server.app  # type: ignore[assignment]  # always ours, see start_adgangsplatformen_sim
    state: ApState = app.extensions[EXTENSION]
    return state


def stop_adgangsplatformen_sim(server: BaseWSGIServer) -> None:
    stop_serving(server, threading.Event())


def portal_client(portal_url: str, client_id: str, client_secret: str) -> ApClient:
    """The portal as a client: its callback and logged-out URLs, and its single-logout URL."""
    base = portal_url.rstrip("/")
    return ApClient(
        client_id,
        client_secret,
        (f"{base}/auth/adgangsplatformen/callback", f"{base}/auth/adgangsplatformen/logged-out"),
        f"{base}/auth/adgangsplatformen/single-logout",
    )
