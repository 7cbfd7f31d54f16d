"""Run the FBS simulator on a loopback port in a daemon thread (make run, tests)."""

from __future__ import annotations

from flask import Flask
from werkzeug.serving import BaseWSGIServer

from portal.devtools.demo import DEV_FBS_PORT
from portal.devtools.fbs_sim.app import create_fbs_sim_app
from portal.devtools.fbs_sim.state import SimState
from portal.devtools.simulators import serve_in_thread, stop_serving


def start_fbs_sim(host: str = "127.0.0.1", port: int = DEV_FBS_PORT, state: SimState | None = None) -> BaseWSGIServer:
    """Serve a simulator (demo data unless `state` is given); port 0 picks a free port.

    The server's real port is `server.port`; stop it with `stop_fbs_sim(server)`.
    """
    return serve_in_thread(create_fbs_sim_app(state), host, port, "fbs-sim")


def sim_state(server: BaseWSGIServer) -> SimState:
    """The state of a simulator started by `start_fbs_sim`."""
    app: Flask = server.app  # type: ignore[assignment]  # always ours, see start_fbs_sim
    state: SimState = app.extensions["fbs_sim"]
    return state


def stop_fbs_sim(server: BaseWSGIServer) -> None:
    """Stop serving and close the socket; slow (delayed) answers stop waiting."""
    stop_serving(server, sim_state(server).wake)
