"""Routes: /<slug>/login, /auth/callback (one redirect URI for all libraries), /<slug>/logout."""

from __future__ import annotations

import logging
import re
from typing import Any, cast

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, session, url_for
from werkzeug.local import LocalProxy
from werkzeug.wrappers import Response

from portal import signals
from portal.auth import oidc
from portal.auth.citizen_session import current_citizen, session_patrons, start_citizen_session
from portal.auth.failures import MESSAGES, LoginRefused, Refusal
from portal.auth.sessions import destroy_session, regenerate_session
from portal.libraries.repository import get_library
from portal.web.urls import public_url

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)

# state -> slug of logins under way; a few, so parallel tabs do not clobber each other.
_PENDING = "auth_pending"
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
    if get_library(slug) is None:
        abort(404)
    if current_citizen() is not None:
        return redirect(_library_path(slug))
    try:
        url, state = oidc.start_login(public_url("auth.callback"))
    except LoginRefused as refused:
        return _refused(refused, slug)
    pending = {**session.get(_PENDING, {}), state: slug}
    session[_PENDING] = dict(list(pending.items())[-_MAX_PENDING:])
    return redirect(url)


@bp.get("/auth/callback")
def callback() -> Response | tuple[str, int]:
    state = request.args.get("state", "")
    slug = _take_pending(state)
    if slug is None:
        return _refused(LoginRefused(Refusal.STATE, "unknown or missing state"), None)
    if "error" in request.args:
        oidc.forget_login(state)
        error = re.sub(r"[^a-z_]", "", request.args["error"])[:64]  # an error code, never free text in logs
        reason = Refusal.CANCELLED if error == "access_denied" else Refusal.IDP_ERROR
        return _refused(LoginRefused(reason, error), slug)
    try:
        citizen = oidc.finish_login()
    except LoginRefused as refused:
        return _refused(refused, slug)
    # A new session id at login: an id planted before it (fixation) is worthless.
    kept = _other_areas()
    regenerate_session()
    start_citizen_session(citizen)
    session.update(kept)
    return redirect(_library_path(slug))


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
def logout(slug: str) -> Response:
    if get_library(slug) is None:
        abort(404)
    citizen = current_citizen()
    # Before the session goes: listeners drop what they cached for these patrons. The sender is
    # the app itself, not the proxy (which flask types as Flask).
    app = cast("LocalProxy[Flask]", current_app)._get_current_object()
    signals.citizen_logged_out.send(app, patrons=session_patrons())
    kept = _other_areas()
    destroy_session()
    session.update(kept)  # stored under a new id
    back = public_url("citizen.overview", slug=slug)
    idp_logout = oidc.logout_url(citizen, back) if citizen is not None else None
    return redirect(idp_logout or _library_path(slug))


def _take_pending(state: str) -> str | None:
    pending = dict(session.get(_PENDING, {}))
    slug = pending.pop(state, None) if state else None
    if pending:
        session[_PENDING] = pending
    else:
        # Not an empty dict: an empty session must stay empty so it is never stored.
        session.pop(_PENDING, None)
    return slug


def _library_path(slug: str) -> str:
    return f"{request.script_root}/{slug}/"


def _refused(refused: LoginRefused, slug: str | None) -> tuple[str, int]:
    log.warning("login refused: %s", refused)
    message = MESSAGES[refused.reason]
    library = get_library(slug) if slug else None
    # Trying the same login again answers the same for a login without a CPR number: the IdP's
    # own session signs the same person straight in again. So that page leads back to the
    # library's page instead, where signing in starts afresh.
    back_home = refused.reason is Refusal.NO_CPR
    if library is None:
        retry_url = url_for("citizen.index")
    elif back_home:
        retry_url = url_for("citizen.overview", slug=library.slug)
    else:
        retry_url = url_for("auth.login", slug=slug)
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
