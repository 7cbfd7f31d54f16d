"""The FBI simulator's WSGI app: `POST /<profile>/graphql`, answering the portal's works query.

No GraphQL engine: it understands the one query shape the portal sends, a
`manifestations(faust: $faust)` list with the FAUST numbers in `variables.faust`, and answers
other queries with a GraphQL error, as the real service answers queries it cannot run.
"""

from __future__ import annotations

import hmac
import re
from typing import Any

from flask import Flask, Response, current_app, jsonify, request

from portal.devtools.fbi_sim.state import SimState

GRAPHQL_RULE = "/<path:profile>/graphql"
_MANIFESTATIONS = re.compile(r"\bmanifestations\s*\(\s*faust\s*:\s*\$faust\s*\)")


def create_fbi_sim_app(state: SimState | None = None) -> Flask:
    """A separate WSGI app simulating DBC's FBI API for one or more search profiles."""
    app = Flask(__name__)
    app.extensions["fbi_sim"] = state if state is not None else SimState()
    app.add_url_rule(GRAPHQL_RULE, view_func=graphql, methods=["POST"])
    return app


def _state() -> SimState:
    state: SimState = current_app.extensions["fbi_sim"]
    return state


def _authorised() -> bool:
    expected = f"Bearer {_state().token}".encode()
    return hmac.compare_digest(request.headers.get("Authorization", "").encode(), expected)


def _graphql_error(message: str, status: int = 200) -> tuple[Response, int]:
    return jsonify({"errors": [{"message": message}]}), status


def _fausts(body: Any) -> list[str] | None:
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return None
    if not _MANIFESTATIONS.search(body["query"]):
        return None
    variables = body.get("variables")
    fausts = variables.get("faust") if isinstance(variables, dict) else None
    if not isinstance(fausts, list) or not all(isinstance(f, str) for f in fausts):
        return None
    return fausts


def graphql(profile: str) -> Any:
    state = _state()
    body = request.get_json(silent=True)
    fausts = _fausts(body) or []
    fault = state.begin_request(fausts)
    if fault is not None and fault.kind == "status":
        return _graphql_error("simulated failure", fault.status)
    if not _authorised():
        return _graphql_error("Unauthorized: missing or wrong token", 401)
    if _fausts(body) is None:
        return _graphql_error("this simulator answers only manifestations(faust: $faust) with variables.faust")
    answer = {"data": {"manifestations": state.manifestations(fausts)}}
    return _garbage(fault.kind, answer) if fault is not None else jsonify(answer)


def _garbage(kind: str, answer: dict[str, Any]) -> Response:
    items: list[Any] = answer["data"]["manifestations"]
    if kind == "invalid-json":
        return Response('{"data": {"manifestations": [', mimetype="application/json")
    if kind == "no-data":
        return jsonify({"errors": [{"message": "simulated internal error"}], "data": None})
    if kind == "short-list":
        return jsonify({"data": {"manifestations": items[:-1]}})
    # bad-entries: every other entry of the wrong shape; the rest stay readable.
    odd: list[Any] = ["not a manifestation", {"titles": {"full": [42]}}]
    mixed = [item if i % 2 == 0 else odd[(i // 2) % 2] for i, item in enumerate(items)]
    return jsonify({"data": {"manifestations": mixed}})
