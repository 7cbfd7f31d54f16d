"""Run the Nexi simulator on a loopback port in a daemon thread (tests; later make run)."""

from __future__ import annotations

from flask import Flask
from werkzeug.serving import BaseWSGIServer

from portal.devtools.nexi_sim.app import create_nexi_sim_app
from portal.devtools.nexi_sim.state import SimState
from portal.devtools.simulators import serve_in_thread, stop_serving

DEV_NEXI_PORT = 5004


def start_nexi_sim(host: str = "127.0.0.1", port: int = DEV_NEXI_PORT, state: SimState | None = None) -> BaseWSGIServer:
    """Serve a simulator (no payments unless `state` has some); port 0 picks a free port."""
    return serve_in_thread(create_nexi_sim_app(state), host, port, "nexi-sim")


def nexi_sim_state(server: BaseWSGIServer) -> SimState:
    """The state of a simulator started by `start_nexi_sim`."""
    app: Flask = server.app  # type: ignore[assignment]  # always ours, see start_nexi_sim
    state: SimState = app.extensions["nexi_sim"]
    return state


def stop_nexi_sim(server: BaseWSGIServer) -> None:
    """Stop serving and close the socket; slow answers and webhook re-posts stop waiting."""
    stop_serving(server, nexi_sim_state(server).wake)
