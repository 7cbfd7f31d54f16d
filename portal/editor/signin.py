"""Routes: /editor/login, /editor/callback, /editor/logout — the editor's OpenID Connect round trip."""

from __future__ import annotations

import logging
import re

from flask import redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from portal.auth.failures import MESSAGES, LoginRefused, Refusal
from portal.editor import oidc, unsent
from portal.editor.blueprint import bp
from portal.editor.guard import signed_in_editor
from portal.editor.identity import current_editor, end_editor_session, start_editor_session
from portal.web.urls import public_url

log = logging.getLogger(__name__)

# state -> path to return to, for the editor logins under way (a few: parallel tabs).
_PENDING = "editor_pending"
_MAX_PENDING = 5
# Where a sign-in may lead back to: a path of the editor area, nothing else (no open redirect).
_NEXT = re.compile(r"/editor/[a-z0-9/-]*")


@bp.get("/login")
def login() -> Response | tuple[str, int]:
    """Off to the IdP; back to `next` (an editor path) afterwards."""
    target = _safe_next(request.args.get("next"))
    if request.headers.get("Sec-Fetch-Dest") in ("iframe", "frame"):
        # The IdP's login page must be top-level, never inside a frame (where the address bar cannot
        # be checked and clicks can be hijacked). Browsers do not apply frame-ancestors to a redirect,
        # so refuse here; the page (blocked in the frame by the area's CSP) offers a top-level link.
        return render_template("editor/open_top_level.html", login_url=url_for("editor.login", next=target)), 403
    if current_editor() is not None:
        return redirect(target)
    try:
        url, state = oidc.start_login(public_url("editor.callback"))
    except LoginRefused as refused:
        return _refused(refused)
    pending = {**session.get(_PENDING, {}), state: target}
    session[_PENDING] = dict(list(pending.items())[-_MAX_PENDING:])
    return redirect(url)


@bp.get("/callback")
def callback() -> Response | tuple[str, int]:
    state = request.args.get("state", "")
    target = _take_pending(state)
    if target is None:
        return _refused(LoginRefused(Refusal.STATE, "unknown or missing state"))
    if "error" in request.args:
        oidc.forget_login(state)
        error = re.sub(r"[^a-z_]", "", request.args["error"])[:64]  # a code, never free text in logs
        return _refused(LoginRefused(Refusal.CANCELLED if error == "access_denied" else Refusal.IDP_ERROR, error))
    try:
        editor = oidc.finish_login()
    except LoginRefused as refused:
        return _refused(refused)
    start_editor_session(editor)
    log.info(
        "editor signed in: sub=%s administrator=%s libraries=%s all_payments=%s payment_libraries=%s",
        editor.sub,
        editor.administrator,
        ",".join(editor.libraries),
        editor.all_payments,
        ",".join(editor.payment_libraries),
    )
    return redirect(target)


@bp.post("/logout")
def logout() -> Response:
    """Sign the editor out here and at the IdP; a citizen signed in in this browser stays."""
    editor = signed_in_editor()
    unsent.forget()  # a shared computer's next editor never gets this one's unsent typing
    end_editor_session()
    idp_logout = oidc.logout_url(editor, public_url("editor.index"))
    return redirect(idp_logout or url_for("editor.index"))


def _safe_next(value: str | None) -> str:
    return value if value and _NEXT.fullmatch(value) and "//" not in value else url_for("editor.index")


def _take_pending(state: str) -> str | None:
    pending = dict(session.get(_PENDING, {}))
    target = pending.pop(state, None) if state else None
    if pending:
        session[_PENDING] = pending
    else:
        # Not an empty dict: an empty session must stay empty so it is never stored.
        session.pop(_PENDING, None)
    return target


def _refused(refused: LoginRefused) -> tuple[str, int]:
    log.warning("editor login refused: %s", refused)
    message = MESSAGES[refused.reason]
    page = render_template(
        "editor/login_failed.html", heading=message.heading, text=message.text, reason=refused.reason.value
    )
    return page, message.status
