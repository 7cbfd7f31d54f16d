"""Wires observability into the Flask app: `/healthz`, `/readyz`, `/metrics`, logging, the request id.

`init_app(app)` runs first among the extensions, so logging is set up before anything logs;
what needs the other extensions (database engine, key-value store, upstreams) is looked up
when first used. See docs/observability.md.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import structlog
from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import NotFound
from werkzeug.wsgi import ClosingIterator

from portal.auth.sessionless import sessionless
from portal.config import Settings
from portal.observability import metrics
from portal.observability.logs import configure_logging
from portal.observability.payment_states import PaymentStates
from portal.observability.readiness import Readiness, standard_checks
from portal.observability.request_id import HEADER, accept_or_new, set_request_id

log = structlog.get_logger(__name__)

bp = Blueprint("observability", __name__)
_READINESS = "portal.observability.readiness"
_PAYMENT_STATES = "portal.observability.payment_states"
_build_lock = threading.Lock()
# Probes and scrapes come every few seconds: their request lines only at DEBUG.
_QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})


def init_app(app: Flask) -> None:
    settings: Settings = app.config["PORTAL_SETTINGS"]
    configure_logging(settings.log_format, settings.log_level)
    # Flask adds its own stderr handler to the app's logger when the root had none yet: lines
    # would then appear twice, once unformatted and unscrubbed.
    from flask.logging import default_handler

    logging.getLogger(app.import_name).removeHandler(default_handler)
    for url, provider in (
        (settings.fbs_base_url, "fbs"),
        (settings.fbs_adapter_base_url, "fbs_adapter"),
        (settings.debtor_base_url, "debtor"),
        (settings.fbi_base_url, "fbi"),
        (settings.nexi_base_url, "nexi"),
        (settings.adgangsplatformen_url, "adgangsplatformen"),
        (settings.oidc_issuer, "oidc"),
    ):
        metrics.register_upstream(url, provider)
    app.register_blueprint(bp)
    app.before_request(_start_timer)
    app.after_request(_record_request)
    app.wsgi_app = RequestIdMiddleware(app.wsgi_app)  # type: ignore[method-assign]


class RequestIdMiddleware:
    """Gives each request its id before Flask sees it, until its answer is sent; says it in `X-Request-ID`.

    A WSGI layer rather than `before_request`, so the id is also in the lines logged after the
    view has returned (the dev server's access log) and on answers Flask did not make.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request_id = accept_or_new(environ.get("HTTP_X_REQUEST_ID"))
        set_request_id(request_id)

        def with_id(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers = [(name, value) for name, value in headers if name.lower() != HEADER.lower()]
            return start_response(status, [*headers, (HEADER, request_id)], exc_info)

        try:
            body = self.app(environ, with_id)
        except BaseException:
            set_request_id(None)
            raise
        # Cleared when the server closes the answer: the server's thread may serve another next.
        return ClosingIterator(body, lambda: set_request_id(None))


def _start_timer() -> None:
    g.observability_started = time.perf_counter()


def _route() -> str:
    # The url rule bounds the metric's labels: `/<slug:slug>/`, never the path asked for.
    return request.url_rule.rule if request.url_rule is not None else "unmatched"


def _record_request(response: Response) -> Response:
    started = g.pop("observability_started", None)
    if started is None:
        return response
    seconds = time.perf_counter() - started
    route = _route()
    metrics.record_request(route, request.method, response.status_code, seconds)
    level = logging.DEBUG if route in _QUIET_ROUTES else logging.INFO
    log.log(
        level,
        "request",
        method=request.method,
        route=route,
        status=response.status_code,
        duration_ms=round(seconds * 1000, 1),
    )
    return response


@bp.get("/healthz")
@sessionless
def healthz() -> Response:
    """Alive: the process answers. Touches no dependency, so a restart is never caused by FBS."""
    return jsonify(status="ok")


@bp.get("/readyz")
@sessionless
def readyz() -> tuple[Response, int]:
    report = _readiness(current_app).report()
    return jsonify(report), 503 if report["status"] == "fail" else 200


@bp.get("/metrics")
@sessionless
def metrics_view() -> Response:
    """Prometheus text format, only with `Authorization: Bearer <PORTAL_METRICS_TOKEN>`; else 404.

    404 rather than 401: without the token the endpoint does not exist as far as anyone can
    tell, as when the token is unset (the metrics name routes, upstreams and payment volumes).
    """
    settings: Settings = current_app.config["PORTAL_SETTINGS"]
    if not settings.metrics_token or not _bearer_matches(settings.metrics_token):
        raise NotFound()
    body = metrics.exposition(settings.metrics_multiproc_dir, _payment_states(current_app).collect)
    return Response(body, content_type=metrics.CONTENT_TYPE)


def _bearer_matches(token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # Constant time: how much of a guess matched must not show in how long the answer takes.
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def _readiness(app: Flask) -> Readiness:
    with _build_lock:
        if _READINESS not in app.extensions:
            from portal import kvstore
            from portal.providers.setup import EXTENSION_KEY as UPSTREAMS

            checks = standard_checks(
                app.config["PORTAL_SETTINGS"],
                app.extensions["portal.db.engine"],
                kvstore.backend(app),
                app.extensions[UPSTREAMS].http,
            )
            app.extensions[_READINESS] = Readiness(checks)
        readiness: Readiness = app.extensions[_READINESS]
        return readiness


def _payment_states(app: Flask) -> PaymentStates:
    with _build_lock:
        if _PAYMENT_STATES not in app.extensions:
            app.extensions[_PAYMENT_STATES] = PaymentStates(app.extensions["portal.db.engine"])
        states: PaymentStates = app.extensions[_PAYMENT_STATES]
        return states
