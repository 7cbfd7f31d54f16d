"""The Adgangsplatformen simulator's WSGI app: login.bib.dk's paths, parameters and answers.

Built to the facts in the project's login reference (shared/reference/login.md): plain OAuth 2
(no discovery, no ID token, no PKCE), `agency` fixes the library, codes live 5 minutes and are
used once, redirect URIs match exactly, the token endpoint wants the client secret in the form
(client_secret_post), userinfo answers `{"attributes": {...}}` to the Bearer user token, and
`/logout/` ends the single sign-on.

Single logout (`/logout/?singlelogout=true`): the simulator calls each client's single-logout
URL **server-side** (a POST with the user's token of that client as `access_token`), where real
DBC loads it in an iframe of its logout page in the browser. The server-side call is what the
tests can hold the portal to without a browser; the portal's endpoint also ends the session of
the browser that loads it, which covers the iframe.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from flask import Flask, Response, current_app, jsonify, redirect, render_template, request
from jinja2 import ChoiceLoader, FileSystemLoader
from werkzeug.wrappers import Response as WerkzeugResponse

from portal.devtools.adgangsplatformen.state import NOT_JSON, ApClient, ApState, Token
from portal.devtools.demo_data import DemoLibraryUser

EXTENSION = "adgangsplatformen_sim"
_HERE = Path(__file__).parent
AUTHORIZE_FIELDS = ("response_type", "client_id", "redirect_uri", "state", "agency", "presel", "idp")


def create_adgangsplatformen_app(state: ApState | None = None) -> Flask:
    """A separate WSGI app simulating Adgangsplatformen; `state` holds its clients and users."""
    app = Flask(__name__, static_folder="../idp/static")
    # The dev IdP's page frame (dev_page.html) too, after this app's own templates: one look for both.
    app.jinja_loader = ChoiceLoader(
        [FileSystemLoader(_HERE / "templates"), FileSystemLoader(_HERE.parent / "idp" / "templates")]
    )
    app.extensions[EXTENSION] = state if state is not None else ApState()
    app.add_url_rule("/oauth/authorize", view_func=authorize_page, methods=["GET"])
    app.add_url_rule("/oauth/authorize", view_func=authorize_decision, methods=["POST"], endpoint="decide")
    app.add_url_rule("/oauth/token", view_func=token, methods=["POST"])
    app.add_url_rule("/userinfo", view_func=userinfo, methods=["GET", "POST"])
    app.add_url_rule("/logout/", view_func=logout, methods=["GET"])
    app.after_request(_security_headers)
    return app


def _state() -> ApState:
    state: ApState = current_app.extensions[EXTENSION]
    return state


def _message(text: str, status: int, heading: str = "Login kan ikke gennemføres") -> tuple[str, int]:
    return render_template("ap_message.html", heading=heading, text=text), status


def _check_authorize(values: Any) -> tuple[ApClient, str] | str:
    """The client and redirect URI of an authorize request, or why not (an error page, never a redirect)."""
    client = _state().clients.get(values.get("client_id", ""))
    if client is None:
        return "Ukendt klient (client_id)."
    redirect_uri = values.get("redirect_uri", "")
    if redirect_uri not in client.redirect_uris:
        return f"redirect_uri er ikke registreret for klienten: {redirect_uri}"
    if values.get("response_type") != "code":
        return "response_type skal være code."
    return client, redirect_uri


def _offered(agency: str | None) -> list[DemoLibraryUser]:
    """Who can sign in: MitID users always; card + PIN users only at an agency they are registered at."""
    users = list(_state().users.values())
    return [u for u in users if not u.card_pin or agency is None or agency in u.agencies]


def authorize_page() -> str | tuple[str, int]:
    checked = _check_authorize(request.args)
    if isinstance(checked, str):
        return _message(checked, 400)
    client, _ = checked
    agency = request.args.get("agency") or None
    return render_template(
        "ap_authorize.html",
        client_id=client.client_id,
        agency=agency,
        users=_offered(agency),
        fields={name: request.args[name] for name in AUTHORIZE_FIELDS if name in request.args},
    )


def authorize_decision() -> WerkzeugResponse | tuple[str, int]:
    checked = _check_authorize(request.form)
    if isinstance(checked, str):
        return _message(checked, 400)
    client, redirect_uri = checked
    agency = request.form.get("agency") or None
    params: dict[str, str] = {}
    if "state" in request.form:
        params["state"] = request.form["state"]
    chosen = {u.unique_id: u for u in _offered(agency)}.get(request.form.get("user", ""))
    if "cancel" in request.form or chosen is None:
        params["error"] = "access_denied"
    else:
        params["code"] = _state().issue_code(client.client_id, redirect_uri, chosen, agency)
    separator = "&" if urlsplit(redirect_uri).query else "?"
    return redirect(f"{redirect_uri}{separator}{urlencode(params)}")


def _oauth_error(error: str, status: int) -> tuple[Response, int]:
    return jsonify({"error": error}), status


def _fault(endpoint: str) -> Response | tuple[Response, int] | None:
    fault = _state().take_fault(endpoint)
    if fault is None:
        return None
    if fault.kind == NOT_JSON:
        return Response("<html>not json</html>", 200, mimetype="text/html")
    return _oauth_error("server_error", fault.status)


def token() -> Response | tuple[Response, int]:
    faulted = _fault("token")
    if faulted is not None:
        return faulted
    state, form = _state(), request.form
    client = state.clients.get(form.get("client_id", ""))
    if client is None or form.get("client_secret") != client.client_secret:
        return _oauth_error("invalid_client", 401)
    if form.get("grant_type") != "authorization_code":
        return _oauth_error("unsupported_grant_type", 400)
    grant = state.take_code(form.get("code", ""))
    if grant is None or grant.client_id != client.client_id or grant.redirect_uri != form.get("redirect_uri"):
        return _oauth_error("invalid_grant", 400)
    return jsonify(
        {"access_token": state.issue_token(grant), "token_type": "bearer", "expires_in": state.token_lifetime}
    )


def _bearer() -> Token | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return _state().token(value.strip()) if scheme.lower() == "bearer" and value.strip() else None


def attributes(user: DemoLibraryUser, signed_in_at: str | None = None) -> dict[str, Any]:
    """Userinfo's attributes for `user`, in Adgangsplatformen's shapes.

    The agency the token was issued for (`agency=` at authorize) comes first: the FBS adapter
    simulator reads the first agency where the user is a patron, as the real adapter reads the
    token's own agency.
    """
    agencies = sorted(user.agencies.items(), key=lambda item: item[0] != signed_in_at)
    found: dict[str, Any] = {
        "uniqueId": user.unique_id,
        "municipality": "173",
        "idpUsed": "borchk" if user.card_pin else "nemlogin",
        "agencies": [
            {"agencyId": agency, "userId": user_id, "userIdType": "CPR" if user_id == user.cpr else "LOCAL"}
            for agency, user_id in agencies
        ],
    }
    if user.cpr is not None:
        found["cpr"] = user.cpr
        found["birthDate"] = user.cpr[:4]
    return found


def userinfo() -> Response | tuple[Response, int]:
    """The borrower behind a Bearer user token (also how the FBS adapter simulator resolves a token)."""
    faulted = _fault("userinfo")
    if faulted is not None:
        return faulted
    found = _bearer()
    if found is None:
        return _oauth_error("invalid_token", 401)
    return jsonify({"attributes": attributes(found.user, found.agency)})


def logout() -> WerkzeugResponse | tuple[str, int]:
    """End the single sign-on of the token's user; with `singlelogout=true` call every client's single logout."""
    state = _state()
    access_token = request.args.get("access_token", "")
    found = state.token(access_token)
    redirect_uri = request.args.get("redirect_uri")
    ended = state.end_single_sign_on(found.user.unique_id) if found is not None else {}
    if request.args.get("singlelogout") == "true":
        for user_token, issued in ended.items():
            _call_single_logout(state, state.clients.get(issued.client_id), user_token)
    # Like DBC: back only to a redirect URI of the token's client, with a message code.
    client = state.clients.get(found.client_id) if found is not None else None
    if client is not None and redirect_uri in client.redirect_uris:
        separator = "&" if urlsplit(redirect_uri).query else "?"
        return redirect(f"{redirect_uri}{separator}message=logout")
    return _message("Du er logget ud af bibliotekslogin. Du kan lukke vinduet.", 200, heading="Du er logget ud")


def _call_single_logout(state: ApState, client: ApClient | None, user_token: str) -> None:
    if client is None or client.single_logout_url is None:
        return
    try:
        answer = httpx.post(client.single_logout_url, data={"access_token": user_token}, timeout=5.0)
    except httpx.HTTPError:
        state.single_logouts.append((client.client_id, None, ""))
        return
    state.single_logouts.append((client.client_id, answer.status_code, answer.text))


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
    return response
