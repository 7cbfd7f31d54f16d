"""Run the debtor simulator on a loopback port in a daemon thread (make run, tests)."""
from __future__ import annotations

import threading

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from portal.config import DEV_DEBTOR_PORT
from portal.devtools.debtor_sim.app import create_debtor_sim_app
from portal.devtools.debtor_sim.state import SimState


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request: they would drown the portal's own log in `make run`."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def start_debtor_sim(host: str = "127.0.0.1", port: int = DEV_DEBTOR_PORT,
                     state: SimState | None = None) -> BaseWSGIServer:
    """Serve a simulator (demo data unless `state` is given); port 0 picks a free port."""
    app = create_debtor_sim_app(state)
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name=f"debtor-sim:{server.port}", daemon=True)
    thread.start()
    return server


def debtor_sim_state(server: BaseWSGIServer) -> SimState:
    """The state of a simulator started by `start_debtor_sim`."""
    app: Flask = server.app  # type: ignore[assignment]  # always ours, see start_debtor_sim
    return app.extensions["debtor_sim"]


def stop_debtor_sim(server: BaseWSGIServer) -> None:
    """Stop serving and close the socket; slow (delayed) answers stop waiting."""
    debtor_sim_state(server).wake.set()
    server.shutdown()
    server.server_close()
