"""Run the debtor simulator on a loopback port in a daemon thread (make run, tests)."""

from __future__ import annotations

from flask import Flask
from werkzeug.serving import BaseWSGIServer

from portal.devtools.debtor_sim.app import create_debtor_sim_app
from portal.devtools.debtor_sim.state import SimState
from portal.devtools.demo import DEV_DEBTOR_PORT
from portal.devtools.simulators import serve_in_thread, stop_serving


def start_debtor_sim(
    host: str = "127.0.0.1", port: int = DEV_DEBTOR_PORT, state: SimState | None = None
) -> BaseWSGIServer:
    """Serve a simulator (demo data unless `state` is given); port 0 picks a free port."""
    return serve_in_thread(create_debtor_sim_app(state), host, port, "debtor-sim")


def debtor_sim_state(server: BaseWSGIServer) -> SimState:
    """The state of a simulator started by `start_debtor_sim`."""
    app: Flask = server.app  # type: ignore[assignment]  # always ours, see start_debtor_sim
    state: SimState = app.extensions["debtor_sim"]
    return state


def stop_debtor_sim(server: BaseWSGIServer) -> None:
    """Stop serving and close the socket; slow (delayed) answers stop waiting."""
    stop_serving(server, debtor_sim_state(server).wake)
