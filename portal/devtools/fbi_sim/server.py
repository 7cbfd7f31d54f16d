"""Run the FBI simulator on a loopback port in a daemon thread (make run, tests)."""

from __future__ import annotations

from flask import Flask
from werkzeug.serving import BaseWSGIServer

from portal.devtools.demo import DEV_FBI_PORT
from portal.devtools.fbi_sim.app import create_fbi_sim_app
from portal.devtools.fbi_sim.state import SimState
from portal.devtools.simulators import serve_in_thread, stop_serving


def start_fbi_sim(host: str = "127.0.0.1", port: int = DEV_FBI_PORT, state: SimState | None = None) -> BaseWSGIServer:
    """Serve a simulator (the demo titles unless `state` is given); port 0 picks a free port."""
    return serve_in_thread(create_fbi_sim_app(state), host, port, "fbi-sim")


def fbi_sim_state(server: BaseWSGIServer) -> SimState:
    """The state of a simulator started by `start_fbi_sim`."""
    app: Flask = server.app  # type: ignore[assignment]  # always ours, see start_fbi_sim
    state: SimState = app.extensions["fbi_sim"]
    return state


def stop_fbi_sim(server: BaseWSGIServer) -> None:
    """Stop serving and close the socket; delayed answers stop waiting."""
    stop_serving(server, fbi_sim_state(server).wake)
