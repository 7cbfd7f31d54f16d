"""Routes: /<slug>/login, the callbacks (one redirect URI per IdP for all libraries), /<slug>/logout.

Two sign-in profiles (a library's `sign_in`): "mitid", the deployment's OpenID Connect provider
(/auth/callback), and "adgangsplatformen", DBC's login.bib.dk (/auth/adgangsplatformen/callback,
its logout's way back /auth/adgangsplatformen/logged-out and DBC's single logout
/auth/adgangsplatformen/single-logout). `return_to` (sign-in and sign-out) is honoured only for a
page of the library's own embedding sites (portal.auth.return_to).
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from typing import Any, NamedTuple, cast

from authlib.common.urls import add_params_to_uri
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.local import LocalProxy
from werkzeug.wrappers import Response

from portal import signals
from portal.auth import adgangsplatformen, oidc, single_logout
from portal.auth.citizen_session import (
    ADGANGSPLATFORMEN,
    MITID,
    Citizen,
    current_citizen,
    session_patrons,
    start_citizen_session,
)
from portal.auth.failures import MESSAGES, LoginRefused, Refusal
from portal.auth.return_to import allowed_return_to
from portal.auth.sessions import destroy_session, regenerate_session
from portal.libraries.library import SIGN_IN_PROFILES
from portal.libraries.repository import get_library
from portal.web.security import origin
from portal.web.urls import public_url

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)

# state -> {slug, profile, return_to} of logins under way; a few, so parallel tabs do not clobber each other.
_PENDING = "auth_pending"
# After a logout that goes round the IdP: which library, and the allow-listed page to end on.
_AFTER_LOGOUT = "auth_after_logout"
_MAX_PENDING = 5
# app.config key: session keys of other areas (the editor area's sign-in) that a citizen's
# login and logout leave alone, so each area signs in and out on its own.
_KEPT_KEYS = "PORTAL_SESSION_KEYS_OF_OTHER_AREAS"


def keep_at_citizen_sign_in_and_out(app: Flask, key: str) -> None:
    """Let another area's session entry `key` survive a citizen's login and logout."""
    app.config.setdefault(_KEPT_KEYS, set()).add(key)


def _other_areas() -> dict[str, Any]:
    return {key: session[key] for key in current_app.config.get(_KEPT_KEYS, ()) if key in session}


@bp.get("/<slug:slug>/login")
def login(slug: str) -> Response | tuple[str, int]:
    """Start signing in with `?profile=` (the library's first profile when absent), back to `?return_to=`."""
    library = get_library(slug)
    if library is None:
        abort(404)
    profile = request.args.get("profile") or (library.sign_in[0] if library.sign_in else MITID)
    if profile not in SIGN_IN_PROFILES or not library.offers(profile):
        abort(404)  # a profile this library does not offer is no page of it
    return_to = allowed_return_to(library, request.args.get("return_to"))
    citizen = current_citizen()
    # Signed in already: nothing to do, unless another profile was asked for explicitly (the
    # "sign in with MitID instead" of a card + PIN borrower whose library finds them by CPR only).
    if citizen is not None and (citizen.profile == profile or "profile" not in request.args):
        return redirect(return_to or _library_path(slug))
    try:
        if profile == ADGANGSPLATFORMEN:
            callback_url = public_url("auth.adgangsplatformen_callback")
            url, state = adgangsplatformen.start_login(callback_url, library.agency_id)
        else:
            url, state = oidc.start_login(public_url("auth.callback"))
    except LoginRefused as refused:
        return _refused(refused, _Pending(slug, profile, return_to))
    entry = {"slug": slug, "profile": profile, "return_to": return_to}
    pending = {**session.get(_PENDING, {}), state: entry}
    session[_PENDING] = dict(list(pending.items())[-_MAX_PENDING:])
    return redirect(url)


@bp.get("/auth/callback")
def callback() -> Response | tuple[str, int]:
    """The citizens' OpenID Connect provider (MitID) sends the browser back here."""
    return _finish_sign_in(MITID, oidc.forget_login, lambda _: oidc.finish_login())


@bp.get("/auth/adgangsplatformen/callback")
def adgangsplatformen_callback() -> Response | tuple[str, int]:
    """Adgangsplatformen sends the browser back here (register this URL at DBC as the redirect URI)."""
    return _finish_sign_in(ADGANGSPLATFORMEN, adgangsplatformen.forget_login, _finish_adgangsplatformen)


def _finish_adgangsplatformen(pending: _Pending) -> Citizen:
    library = get_library(pending.slug)
    if library is None or not library.offers(ADGANGSPLATFORMEN):
        raise _LoginGone(Refusal.STATE, "the library no longer offers Adgangsplatformen")
    citizen = adgangsplatformen.finish_login(library.agency_id)
    assert citizen.access_token is not None  # finish_login refuses an answer without one
    # Written once the new session is stored, under its id (portal.auth.single_logout).
    single_logout.index_at_sign_in(citizen.access_token)
    return citizen


class _LoginGone(LoginRefused):
    """A refusal that leaves no login to try again (the library no longer offers it)."""


def _finish_sign_in(
    profile: str, forget_login: Callable[[str], None], finish: Callable[[_Pending], Citizen]
) -> Response | tuple[str, int]:
    """The steps both callbacks share: the state, the IdP's error, a refusal; `finish` is the profile's own.

    `finish(pending)` completes the login at the IdP and returns the citizen, or raises
    `LoginRefused` (the page offers the same login again) or `_LoginGone` (it offers none).
    """
    state = request.args.get("state", "")
    pending = _take_pending(state, profile)
    if pending is None:
        return _refused(LoginRefused(Refusal.STATE, "unknown or missing state"), None)
    if "error" in request.args:
        forget_login(state)
        return _refused(_idp_error(), pending)
    try:
        citizen = finish(pending)
    except LoginRefused as refused:
        return _refused(refused, None if isinstance(refused, _LoginGone) else pending)
    return _signed_in(citizen, pending)


def _idp_error() -> LoginRefused:
    error = re.sub(r"[^a-z_]", "", request.args["error"])[:64]  # an error code, never free text in logs
    reason = Refusal.CANCELLED if error == "access_denied" else Refusal.IDP_ERROR
    return LoginRefused(reason, error)


def _signed_in(citizen: Citizen, pending: _Pending) -> Response:
    # A new session id at login: an id planted before it (fixation) is worthless.
    kept = _other_areas()
    regenerate_session()
    start_citizen_session(citizen)
    session.update(kept)
    app = cast("LocalProxy[Flask]", current_app)._get_current_object()
    signals.citizen_signed_in.send(app, citizen=citizen, slug=pending.slug)
    return redirect(pending.return_to or _library_path(pending.slug))


@bp.get("/<slug:slug>/logout")
def logout_page(slug: str) -> Response | str:
    """A bookmarked or typed logout URL: a page with the sign-out button, or home when signed out.

    Signing out itself stays a POST, so that no link or image on another site can sign anyone out.
    """
    library = get_library(slug)
    if library is None:
        abort(404)
    citizen = current_citizen()
    if citizen is None:
        return redirect(_library_path(slug))
    return render_template("auth/logout.html", library=library, citizen=citizen)


@bp.post("/<slug:slug>/logout")
def logout(slug: str) -> Response | str:
    """Sign out here, then at the IdP (its single sign-on too), then back to the library's page or `return_to`."""
    library = get_library(slug)
    if library is None:
        abort(404)
    citizen = current_citizen()
    return_to = allowed_return_to(library, request.form.get("return_to"))
    # Before the session goes: listeners drop what they cached for these patrons. The sender is
    # the app itself, not the proxy (which flask types as Flask).
    app = cast("LocalProxy[Flask]", current_app)._get_current_object()
    signals.citizen_logged_out.send(app, patrons=session_patrons())
    kept = _other_areas()
    destroy_session()
    session.update(kept)  # stored under a new id
    if citizen is not None and citizen.profile == ADGANGSPLATFORMEN:
        dbc_logout = adgangsplatformen.logout_url(citizen, public_url("auth.adgangsplatformen_logged_out"))
        if dbc_logout is not None:
            session[_AFTER_LOGOUT] = {"slug": slug, "return_to": return_to}
            # A page, not a redirect: browsers hold a form's redirects to the page's form-action,
            # which names only the citizens' OIDC provider. The page goes on by itself (meta refresh).
            return render_template("auth/leaving.html", library=library, logout_url=dbc_logout)
        return redirect(return_to or _library_path(slug))
    back = public_url("citizen.overview", slug=slug)
    idp_logout = oidc.logout_url(citizen, back) if citizen is not None else None
    if idp_logout is not None and return_to is not None:
        # The post-logout URI stays the portal's own (registered at the IdP); the IdP hands the
        # state back, and `_return_after_idp_logout` then sends the browser on to `return_to`.
        state = secrets.token_urlsafe(16)
        idp_logout = add_params_to_uri(idp_logout, [("state", state)])
        session[_AFTER_LOGOUT] = {"slug": slug, "return_to": return_to, "state": state}
    return redirect(idp_logout or return_to or _library_path(slug))


@bp.get("/auth/adgangsplatformen/logged-out")
def adgangsplatformen_logged_out() -> Response:
    """Adgangsplatformen's logout sends the browser back here (register it at DBC as a redirect URI too)."""
    after = session.pop(_AFTER_LOGOUT, None)
    if not isinstance(after, dict) or not isinstance(after.get("slug"), str):
        return redirect(url_for("citizen.index"))
    library = get_library(after["slug"])
    if library is None:
        return redirect(url_for("citizen.index"))
    # Checked again: the library's sites may have changed since the logout began.
    return redirect(allowed_return_to(library, after.get("return_to")) or _library_path(library.slug))


@bp.route("/auth/adgangsplatformen/single-logout", methods=["GET", "POST"])
def adgangsplatformen_single_logout() -> Response:
    """DBC's single logout: end the session of this browser, or of the token given; `{"statusCode":200}`.

    DBC loads it in an iframe of its logout page, in the borrower's browser: the session cookie
    comes along where the browser sends it there. A caller holding the user token may also name
    it (`Authorization: Bearer`, or `access_token` in a POST body; never in the URL), which ends
    the session signed in with it wherever it is (portal.auth.single_logout).
    """
    token = _bearer_token() or request.form.get("access_token", "").strip() or None
    if token is not None:
        single_logout.end_sessions_of(token)
    citizen = current_citizen() if _from_dbc_or_same_site() else None
    if citizen is not None and citizen.profile == ADGANGSPLATFORMEN:
        app = cast("LocalProxy[Flask]", current_app)._get_current_object()
        signals.citizen_logged_out.send(app, patrons=session_patrons())
        if citizen.access_token:
            single_logout.end_sessions_of(citizen.access_token)
        kept = _other_areas()
        destroy_session()
        session.update(kept)
    response = jsonify({"statusCode": 200})
    # Framed by Adgangsplatformen's logout page only. The security layer keeps a policy a view set.
    response.headers["Content-Security-Policy"] = f"default-src 'none'; frame-ancestors {_dbc_origin()}"
    return response


def _dbc_origin() -> str:
    return origin(current_app.config["PORTAL_SETTINGS"].adgangsplatformen_url)


def _from_dbc_or_same_site() -> bool:
    """Whether this browser request may end the browser's own session: loaded by DBC, or by the portal's site.

    With a cross-site session cookie (embedding) any site's image or frame would carry the cookie
    here; only DBC's logout page (its address as Referer) or a same-site page may sign out by it.
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site in (None, "same-origin", "same-site", "none"):
        return True
    return bool(request.referrer) and origin(request.referrer) == _dbc_origin()


def _bearer_token() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


@bp.before_app_request
def _return_after_idp_logout() -> Response | None:
    """Back from the MitID provider's logout with our state: on to the `return_to` the logout was given."""
    if request.endpoint != "citizen.overview" or "state" not in request.args:
        return None
    after = session.get(_AFTER_LOGOUT)
    if not isinstance(after, dict) or not after.get("state") or after.get("state") != request.args["state"]:
        return None
    session.pop(_AFTER_LOGOUT, None)
    library = get_library(str((request.view_args or {}).get("slug", "")))
    if library is None or library.slug != after.get("slug"):
        return None
    target = allowed_return_to(library, after.get("return_to"))
    return redirect(target) if target else None


class _Pending(NamedTuple):
    """A login under way: at which library, with which profile, back to where."""

    slug: str
    profile: str
    return_to: str | None = None


def _take_pending(state: str, profile: str) -> _Pending | None:
    pending = dict(session.get(_PENDING, {}))
    entry = pending.pop(state, None) if state else None
    if pending:
        session[_PENDING] = pending
    else:
        # Not an empty dict: an empty session must stay empty so it is never stored.
        session.pop(_PENDING, None)
    if isinstance(entry, str):  # stored before profiles existed: a MitID login
        entry = {"slug": entry, "profile": MITID}
    if not isinstance(entry, dict) or entry.get("profile") != profile or not isinstance(entry.get("slug"), str):
        return None  # unknown, or a state of the other profile's login: not this callback's
    return_to = entry.get("return_to")
    return _Pending(entry["slug"], profile, return_to if isinstance(return_to, str) else None)


def _library_path(slug: str) -> str:
    return f"{request.script_root}/{slug}/"


def _refused(refused: LoginRefused, pending: _Pending | None) -> tuple[str, int]:
    log.warning("login refused: %s", refused)
    message = MESSAGES[refused.reason]
    library = get_library(pending.slug) if pending else None
    # Trying the same login again answers the same for a login without a CPR number, or at a
    # library the borrower is not registered at: the IdP's own session signs the same person
    # straight in again. So those pages lead back to the library's page instead.
    back_home = refused.reason in (Refusal.NO_CPR, Refusal.UNKNOWN_AGENCY)
    if library is None or pending is None:
        retry_url = url_for("citizen.index")
    elif back_home:
        retry_url = url_for("citizen.overview", slug=library.slug)
    else:
        retry_url = _login_url(library.slug, pending.profile, pending.return_to)
    page = render_template(
        "auth/login_failed.html",
        heading=message.heading,
        text=message.text,
        reason=refused.reason.value,
        retry_url=retry_url,
        back_home=back_home,
        library=library,
    )
    return page, message.status


def _login_url(slug: str, profile: str, return_to: str | None) -> str:
    values: dict[str, Any] = {}
    if profile != MITID:
        values["profile"] = profile
    if return_to:
        values["return_to"] = return_to
    return url_for("auth.login", slug=slug, **values)
