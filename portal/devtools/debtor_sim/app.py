"""The debtor simulator's WSGI app: the debtor-status API of docs/debtor-api.yaml.

Serves the raw claim JSON of its `SimState`, so the portal's parser meets what a
municipality's integration would send.
"""

from __future__ import annotations

import hmac
import re
from typing import Any

from flask import Flask, Response, current_app, jsonify, request

from portal.devtools.debtor_sim.state import SimState

CLAIMS_RULE = "/v1/libraries/<agency>/claims/search"
_CPR = re.compile(r"\d{10}")


def create_debtor_sim_app(state: SimState | None = None) -> Flask:
    """A separate WSGI app simulating a municipality's debtor-status API."""
    app = Flask(__name__)
    app.extensions["debtor_sim"] = state if state is not None else SimState()
    app.add_url_rule(CLAIMS_RULE, view_func=claims, methods=["POST"])
    app.after_request(_trickle)
    return app


def _state() -> SimState:
    state: SimState = current_app.extensions["debtor_sim"]
    return state


def _trickle(response: Response) -> Response:
    """Every answer, its body sent a few bytes at a time while a trickle is asked for."""
    if response.direct_passthrough:
        return response
    body = response.get_data()
    chunks = _state().trickle(body)
    if chunks is not None:
        # A generator is streamed by the server chunk by chunk; the length says what is to come.
        response.response = chunks
        response.headers["Content-Length"] = str(len(body))
    return response


def _error(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify({"code": code, "message": message}), status


def _authorised() -> bool:
    expected = f"Bearer {_state().api_key}"
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), expected.encode())


def claims(agency: str) -> Any:
    state = _state()
    fault = state.begin_call("claims", request.method, request.path, request.query_string.decode())
    if fault is not None and fault.kind == "status":
        return _error(fault.status, "simulated_failure", "simulated failure")
    if not _authorised():
        return _error(401, "unauthorized", "missing or wrong API key")
    if agency not in state.agencies:
        return _error(404, "unknown_library", "no such library at this municipality")
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("cpr"), str) or not _CPR.fullmatch(body["cpr"]):
        return _error(400, "bad_request", 'expected {"cpr": "<10 digits>"}')
    answer = {"agencyId": agency, "claims": state.claims_of(agency, body["cpr"])}
    return _garbage(fault.kind, answer) if fault is not None else jsonify(answer)


def _garbage(kind: str, answer: dict[str, Any]) -> Response:
    if kind == "invalid-json":
        return Response('{"agencyId": "x", "claims": [', mimetype="application/json")
    if kind == "wrong-shape":
        return jsonify(answer["claims"])  # a bare list where an object belongs
    if kind == "other-agency":
        return jsonify({**answer, "agencyId": "DK-000000"})
    # float-amount: a number where the API promises a decimal string.
    claims = answer["claims"] or [
        {
            "claimId": "X-1",
            "feeId": 1,
            "description": "x",
            "createdDate": "2024-01-01",
            "originalAmount": "1.00",
            "outstandingAmount": "1.00",
            "status": "invoiced",
        }
    ]
    claims[0] = {**claims[0], "outstandingAmount": 60.5}
    return jsonify({**answer, "claims": claims})
