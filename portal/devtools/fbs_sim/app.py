"""The FBS simulator's WSGI app: FBS's external API paths, fields and session rules.

Both ways of reaching FBS: direct mode (client login, `X-Session`, the patron found by CPR
number) and DBC's adapter mode (`Authorization: Bearer <Adgangsplatformen user token>`, paths
with the literal `agencyid`/`patronid`). In adapter mode the token is resolved to a borrower by
asking the Adgangsplatformen (simulator) `GET /userinfo` with it over HTTP
(`SimState.adgangsplatformen_url`): refused there → 401; anonymous (no `uniqueId`) → 403 "user
authenticated token is required", as the real adapter answers a library token; a signed-in user
who is no patron here → a patron answer without patron (fees and payment: 404).

Built to the facts in the project's FBS API reference (shared/reference/fbs-api.md).
Raw FeeV2 JSON from the state is served as it is (only a `paidDate` is added for
fees paid through the simulator), so the portal's parser meets the same quirks
as with real FBS.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from flask import Flask, Response, current_app, g, jsonify, request

from portal.devtools.fbs_sim.state import SimState

SESSION_HEADER = "X-Session"
_FLAGS = {"true": True, "false": False}


def create_fbs_sim_app(state: SimState | None = None) -> Flask:
    """A separate WSGI app simulating FBS; `state` defaults to the demo data."""
    app = Flask(__name__)
    app.extensions["fbs_sim"] = state if state is not None else SimState()

    app.add_url_rule("/external/v2/<agency>/authentication/login", view_func=login, methods=["POST"])
    app.add_url_rule("/external/v2/<agency>/patrons/preauthenticated", view_func=preauthenticated, methods=["POST"])
    app.add_url_rule("/external/<agency>/patrons/<int:patron_id>/v4", view_func=patron)
    app.add_url_rule("/external/<agency>/patron/<int:patron_id>/fees/v2", view_func=fees)
    # The older path answers the same.
    app.add_url_rule("/external/v1/<agency>/patron/<int:patron_id>/fees", view_func=fees, endpoint="fees_v1")
    app.add_url_rule("/external/v1/<agency>/patron/<int:patron_id>/payment", view_func=payment, methods=["POST"])
    # DBC's adapter: the literal words stand for the agency and patron the bearer token is for.
    app.add_url_rule("/external/agencyid/patrons/patronid/v4", view_func=adapter_patron)
    app.add_url_rule("/external/agencyid/patron/patronid/fees/v2", view_func=adapter_fees)
    app.add_url_rule("/external/v1/agencyid/patron/patronid/payment", view_func=adapter_payment, methods=["POST"])
    app.after_request(_trickle)
    return app


def _state() -> SimState:
    state: SimState = current_app.extensions["fbs_sim"]
    return state


def _error(status: int, message: str) -> tuple[Response, int]:
    return jsonify({"message": message}), status


def _begin(endpoint: str, agency: str, needs_session: bool = True) -> tuple[Response, int] | None:
    """Count, delay and fault the call, then check agency and session like FBS does.

    Returns the error answer, or None to go on.
    """
    state = _state()
    g.endpoint = endpoint
    fault = state.begin_call(endpoint)
    if fault is not None and fault.kind == "status":
        return _error(fault.status, "simulated failure")
    g.garbage = fault.kind if fault is not None else None
    if agency not in state.agencies():
        return _error(404, "unknown agency")
    if needs_session and not state.session_valid(request.headers.get(SESSION_HEADER), agency):
        return _error(401, "session key missing, unknown or expired")
    return None


def _trickle(response: Response) -> Response:
    """The answer of an endpoint a trickle is aimed at, its body sent a few bytes at a time."""
    endpoint = g.get("endpoint")
    if endpoint is None or response.direct_passthrough:
        return response
    body = response.get_data()
    chunks = _state().trickle(endpoint, body)
    if chunks is not None:
        # A generator is streamed by the server chunk by chunk; the length says what is to come.
        response.response = chunks
        response.headers["Content-Length"] = str(len(body))
    return response


def _answer(payload: Any) -> Response | tuple[Response, int]:
    """200 with `payload` — or with the garbage a test asked for."""
    garbage = g.get("garbage")
    if garbage == "invalid-json":
        return Response('{"sessionKey": "x", "feeId": 1,', mimetype="application/json")
    if garbage == "wrong-shape":
        # An object where a list belongs and vice versa.
        return jsonify({"unexpected": "shape"} if isinstance(payload, list) else ["unexpected"])
    return jsonify(payload)


def _patron_of(agency: str, patron_id: int) -> bool:
    return _state().agency_of(patron_id) == agency


def _patron_json(patron_id: int) -> dict[str, Any]:
    state = _state()
    data: dict[str, Any] = {
        "patronId": patron_id,
        "name": state.names.get(patron_id),
        "allowBookings": True,
        "receiveSms": False,
    }
    blocks = state.blocks.get(patron_id)
    if blocks:
        data["blockStatus"] = blocks
    return data


def login(agency: str) -> Any:
    failed = _begin("login", agency, needs_session=False)
    if failed:
        return failed
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _error(400, "expected {username, password}")
    state = _state()
    if not state.check_credentials(agency, body.get("username"), body.get("password")):
        return _error(403, "invalid client credentials")
    return _answer({"sessionKey": state.new_session(agency)})


def preauthenticated(agency: str) -> Any:
    failed = _begin("preauthenticated", agency)
    if failed:
        return failed
    cpr = request.get_json(silent=True)
    if not isinstance(cpr, str):
        return _error(400, "expected the CPR number as a JSON string")
    patron_id = _state().patrons_by_cpr.get(cpr, {}).get(agency)
    if patron_id is None:
        return _answer({"authenticateStatus": "INVALID", "patron": None})
    return _answer({"authenticateStatus": "VALID", "patron": _patron_json(patron_id)})


def patron(agency: str, patron_id: int) -> Any:
    failed = _begin("patron", agency)
    if failed:
        return failed
    return _patron_answer(agency, patron_id)


def _patron_answer(agency: str, patron_id: int) -> Any:
    if not _patron_of(agency, patron_id):
        return _error(404, "no such patron")
    return _answer({"authenticateStatus": "VALID", "patron": _patron_json(patron_id)})


def fees(agency: str, patron_id: int) -> Any:
    failed = _begin("fees", agency)
    if failed:
        return failed
    return _fees_answer(agency, patron_id)


def _fees_answer(agency: str, patron_id: int) -> Any:
    flags = {}
    for name in ("includepaid", "includenonpayable"):
        raw = request.args.get(name, "false")
        if raw not in _FLAGS:
            return _error(400, f"{name} must be true or false")
        flags[name] = _FLAGS[raw]
    if not _patron_of(agency, patron_id):
        return _error(404, "no such patron")
    state = _state()
    with state.lock:
        answer = []
        for raw_fee in state.fees.get(patron_id, []):
            fee = dict(raw_fee)
            paid = state.paid_by.get(fee["feeId"])
            if paid is not None and "paidDate" not in fee:
                fee["paidDate"] = paid[1]
            if "paidDate" in fee and not flags["includepaid"]:
                continue
            if not fee.get("payableByClient") and not flags["includenonpayable"]:
                continue
            answer.append(fee)
    return _answer(answer)


def payment(agency: str, patron_id: int) -> Any:
    failed = _begin("payment", agency)
    if failed:
        return failed
    return _payment_answer(agency, patron_id)


def _payment_answer(agency: str, patron_id: int) -> Any:
    order = request.get_json(silent=True)
    if (
        not isinstance(order, dict)
        or not isinstance(order.get("orderId"), str)
        or not order["orderId"]
        or not isinstance(order.get("feeId"), list)
        or not all(isinstance(f, int) and not isinstance(f, bool) for f in order["feeId"])
    ):
        return _error(400, "expected PaymentOrder {orderId, feeId: [..]}")
    if len(set(order["feeId"])) != len(order["feeId"]):
        return _error(400, "a feeId is listed twice")
    if not _patron_of(agency, patron_id):
        return _error(404, "no such patron")
    state = _state()
    order_id = order["orderId"]
    with state.lock:
        if order_id in state.payments:
            # Idempotent per orderId: a repeated call gets the first answer.
            return _answer(state.payments[order_id])
        own = {fee.get("feeId"): fee for fee in state.fees.get(patron_id, [])}
        if any(fee_id not in own for fee_id in order["feeId"]):
            return _error(400, "feeId not among the patron's fees")
        confirmations = [_register(state, order_id, own[fee_id]) for fee_id in order["feeId"]]
        state.payments[order_id] = confirmations
    return _answer(confirmations)


# -- DBC's adapter mode ---------------------------------------------------------------------

ANONYMOUS = "user authenticated token is required"
USERINFO_TIMEOUT = 5.0


def adapter_patron() -> Any:
    failed, found = _begin_adapter("patron")
    return failed or _patron_answer(*found)


def adapter_fees() -> Any:
    failed, found = _begin_adapter("fees")
    return failed or _fees_answer(*found)


def adapter_payment() -> Any:
    failed, found = _begin_adapter("payment")
    return failed or _payment_answer(*found)


def _begin_adapter(endpoint: str) -> tuple[tuple[Response, int] | None, tuple[str, int]]:
    """Count and fault the call like `_begin`, then resolve the bearer token.

    Returns (the error answer, _) or (None, (agency, patron id)).
    """
    state = _state()
    g.endpoint = endpoint
    fault = state.begin_call(endpoint)
    if fault is not None and fault.kind == "status":
        return _refused(fault.status, "simulated failure")
    g.garbage = fault.kind if fault is not None else None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _refused(401, "bearer token missing")
    if not state.adgangsplatformen_url:
        return _refused(503, "the simulator has no Adgangsplatformen to resolve tokens (FBS_SIM_ADGANGSPLATFORMEN_URL)")
    try:
        answer = httpx.get(
            state.adgangsplatformen_url.rstrip("/") + "/userinfo",
            headers={"Authorization": f"Bearer {token.strip()}", "Accept": "application/json"},
            timeout=USERINFO_TIMEOUT,
            trust_env=False,  # a loopback simulator: no proxy
        )
    except httpx.HTTPError:
        return _refused(503, "Adgangsplatformen could not be asked")
    if answer.status_code in (401, 403):
        return _refused(401, "token expired or unknown")
    if not answer.is_success:
        return _refused(503, "Adgangsplatformen answered an error")
    try:
        body = answer.json()
    except ValueError:
        return _refused(503, "Adgangsplatformen answered no JSON")
    attributes = body.get("attributes") if isinstance(body, dict) else None
    if not isinstance(attributes, dict) or not attributes.get("uniqueId"):
        # An anonymous (library) token stands for no user.
        return _refused(403, ANONYMOUS)
    found = state.patron_of_user(attributes)
    if found is None:
        # A signed-in user who is no borrower here: no patron, which is an answer, not a refusal.
        if endpoint == "patron":
            return (jsonify({"authenticateStatus": "INVALID", "patron": None}), 200), ("", 0)
        return _refused(404, "no such patron")
    return None, found


def _refused(status: int, message: str) -> tuple[tuple[Response, int], tuple[str, int]]:
    return _error(status, message), ("", 0)


def _register(state: SimState, order_id: str, fee: dict[str, Any]) -> dict[str, Any]:
    fee_id = fee["feeId"]
    confirmation: dict[str, Any] = {"orderId": order_id, "feeId": fee_id}
    if not fee.get("payableByClient"):
        confirmation["paymentStatus"] = "paymentNotAllowedByClient"
    elif "paidDate" in fee or fee_id in state.paid_by:
        confirmation["paymentStatus"] = "paymentRegisteredByDifferentOrderId"
    else:
        state.paid_by[fee_id] = (order_id, date.today().isoformat())
        confirmation["paymentStatus"] = "paymentRegistered"
        confirmation["confirmationId"] = f"SIM-{order_id}-{fee_id}"
    return confirmation
