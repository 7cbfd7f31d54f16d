"""Run the FBS simulator on a loopback port in a daemon thread (make run, tests)."""
from __future__ import annotations

import threading

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from portal.config import DEV_FBS_PORT
from portal.devtools.fbs_sim.app import create_fbs_sim_app
from portal.devtools.fbs_sim.state import SimState


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request: they would drown the portal's own log in `make run`."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def start_fbs_sim(host: str = "127.0.0.1", port: int = DEV_FBS_PORT,
                  state: SimState | None = None) -> BaseWSGIServer:
    """Serve a simulator (demo data unless `state` is given); port 0 picks a free port.

    The server's real port is `server.port`; stop it with `stop_fbs_sim(server)`.
    """
    app = create_fbs_sim_app(state)
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    # A short poll interval: shutdown() waits up to one interval, once per test.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name=f"fbs-sim:{server.port}", daemon=True)
    thread.start()
    return server


def sim_state(server: BaseWSGIServer) -> SimState:
    """The state of a simulator started by `start_fbs_sim`."""
    app: Flask = server.app  # type: ignore[assignment]  # always ours, see start_fbs_sim
    return app.extensions["fbs_sim"]


def stop_fbs_sim(server: BaseWSGIServer) -> None:
    """Stop serving and close the socket; slow (delayed) answers stop waiting."""
    sim_state(server).wake.set()
    server.shutdown()
    server.server_close()
