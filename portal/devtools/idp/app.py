"""The dev IdP as a Flask app of its own: discovery, JWKS, authorize, token, userinfo, end_session."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import cast

from authlib.oauth2.rfc6749 import OAuth2Error
from authlib.oidc.rpinitiated import EndSessionRequest
from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request
from joserfc.jwk import RSAKey

from portal.devtools import demo_data
from portal.devtools.demo_data import DemoCitizen
from portal.devtools.idp.editors import EDITORS, DemoEditor
from portal.devtools.idp.grants import ID_TOKEN_ALG, IdpAuthorizationServer, IdpState, build_server
from portal.devtools.idp.models import NSIS_SUBSTANTIAL, IdpClient

EXTENSION = "portal.dev_idp"

bp = Blueprint("idp", __name__)


def create_idp_app(
    issuer: str,
    clients: Sequence[IdpClient],
    citizens: Iterable[DemoCitizen] = demo_data.CITIZENS,
    *,
    cpr_claim: str = "cpr",
    cpr_in_id_token: bool = True,
    code_lifetime: int = 60,
    token_lifetime: int = 3600,
    editors: Iterable[DemoEditor] = EDITORS,
    editor_claim: str = "gebyrportal_libraries",
    editor_claim_in_id_token: bool = True,
) -> Flask:
    """A dev OpenID provider for `clients`, signing in one of `citizens` (or `editors`).

    `issuer` must be the URL the app is served at (no path). `cpr_claim` renames
    the CPR claim; with `cpr_in_id_token=False` the CPR is only in userinfo.
    Clients registered with people="editors" sign in one of `editors` instead, whose
    libraries go in `editor_claim` (only in userinfo with `editor_claim_in_id_token=False`).
    An RSA signing key is generated on every start.
    """
    app = Flask(__name__)
    app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"authorization_code": token_lifetime}
    key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": ID_TOKEN_ALG}, auto_kid=True)
    state = IdpState(
        issuer=issuer.rstrip("/"),
        clients={c.client_id: c for c in clients},
        citizens={c.sub: c for c in citizens},
        key=key,
        cpr_claim=cpr_claim,
        cpr_in_id_token=cpr_in_id_token,
        code_lifetime=code_lifetime,
        editors={e.sub: e for e in editors},
        editor_claim=editor_claim,
        editor_claim_in_id_token=editor_claim_in_id_token,
    )
    app.extensions[EXTENSION] = (state, build_server(app, state))
    app.register_blueprint(bp)
    app.after_request(_security_headers)
    return app


def idp_state(app: Flask) -> IdpState:
    """The state of a dev IdP app (tests use it to reach the store and the key)."""
    return _parts(app)[0]


def _state() -> IdpState:
    return _parts(current_app)[0]


def _server() -> IdpAuthorizationServer:
    return _parts(current_app)[1]


def _parts(app: Flask) -> tuple[IdpState, IdpAuthorizationServer]:
    parts: tuple[IdpState, IdpAuthorizationServer] = app.extensions[EXTENSION]
    return parts


def _flask_response(answer: object) -> Response:
    """What authlib's Flask server answers (through its handle_response): a flask Response.

    The stubs can only type the framework-neutral server's answers.
    """
    return cast(Response, answer)


@bp.get("/.well-known/openid-configuration")
def discovery() -> Response:
    state = _state()
    base = state.issuer
    return jsonify(
        {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "jwks_uri": f"{base}/jwks",
            "end_session_endpoint": f"{base}/end_session",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [ID_TOKEN_ALG],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "profile"],
            "claims_supported": [
                "sub",
                "name",
                "acr",
                state.cpr_claim,
                state.editor_claim,
                state.editor_payments_claim,
            ],
            "acr_values_supported": [NSIS_SUBSTANTIAL],
        }
    )


@bp.get("/jwks")
def jwks() -> Response:
    return jsonify(_state().public_jwks())


@bp.get("/authorize")
def authorize_page() -> Response | str | tuple[str, int]:
    try:
        grant = _server().get_consent_grant(end_user=None)
    except OAuth2Error as error:
        return _authorization_error(error)
    client = grant.client
    return render_template(
        "authorize.html",
        client_id=client.client_id,
        for_editors=client.people == "editors",
        people=list(_state().people(client).values()),
        action=request.full_path,
    )


@bp.post("/authorize")
def authorize_decision() -> Response | tuple[str, int]:
    server = _server()
    try:
        # Validated first: which people may be chosen depends on the client.
        grant = server.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        return _authorization_error(error)
    # No button for a person (the cancel button, or a sub this client cannot sign in) means "denied".
    people = _state().people(grant.client)
    person = None if "cancel" in request.form else people.get(request.form.get("sub", ""))
    return _flask_response(server.create_authorization_response(grant_user=person, grant=grant))


@bp.post("/token")
def token() -> Response:
    return _flask_response(_server().create_token_response())


@bp.route("/userinfo", methods=["GET", "POST"])
def userinfo() -> Response:
    return _flask_response(_server().create_endpoint_response("userinfo"))


@bp.route("/end_session", methods=["GET", "POST"])
def end_session() -> Response | tuple[str, int]:
    server = _server()
    try:
        # The end-session endpoint validates into its own kind of request.
        validated = cast(EndSessionRequest, server.validate_endpoint_request("end_session"))
    except OAuth2Error as error:
        return _message(error.description or error.error or "invalid_request", 400)
    asked_for = request.values.get("post_logout_redirect_uri")
    if asked_for and validated.redirect_uri is None:
        # The spec forbids redirecting to an unregistered URI; say so loudly
        # instead of silently stopping here, so a misconfigured RP is noticed.
        return _message(f"post_logout_redirect_uri er ikke registreret for klienten: {asked_for}", 400)
    response = server.create_endpoint_response("end_session", validated)
    return _flask_response(response) if response is not None else _message(None, 200)


def _authorization_error(error: OAuth2Error) -> Response | tuple[str, int]:
    if error.redirect_uri:
        # Client and redirect URI are known good: report the error to the client (RFC 6749 4.1.2.1).
        # No request to pass: the Flask server's get_error_uri does not look at it.
        return _flask_response(_server().handle_error_response(None, error))  # type: ignore[arg-type]
    return _message(error.description or error.error or "invalid_request", 400)


def _message(error: str | None, status: int) -> tuple[str, int]:
    return render_template("message.html", error=error), status


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
    return response
