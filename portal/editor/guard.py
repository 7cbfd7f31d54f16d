"""The one guard of the editor area, run before every one of its views.

1. Only an editor signed in with the organisation's IdP gets past (a citizen's MitID login
   counts for nothing here). Signed out: GET → the sign-in, POST → 401 (the library form's
   typing kept for after the sign-in, portal.editor.unsent).
2. A route with a library (`<slug:slug>`) answers 404 unless the editor may edit that library
   — the same answer as for a library that does not exist, so a foreign library's existence
   is not revealed. Enforced here, not by hiding links: a new route cannot forget it.
   Routes under `<slug>/betalinger/` (card payment review) need the payments claim for that
   library instead: being its editor does not open them, nor does being its payment staff open
   the page editing. The rule is chosen by the route's path, so a new payments route is covered
   by being put there.
3. Every POST must carry the sign-in's CSRF token (portal.editor.csrf).
"""

from __future__ import annotations

from datetime import timedelta

from flask import Response, abort, current_app, g, redirect, render_template, request, url_for
from werkzeug.exceptions import NotFound as HttpNotFound
from werkzeug.wrappers import Response as BaseResponse

from portal.editor import unsent
from portal.editor.blueprint import bp
from portal.editor.csrf import FIELD, check_csrf, from_own_pages
from portal.editor.headers import CSP_EXTENSION, set_editor_headers
from portal.editor.identity import Editor, current_editor
from portal.libraries.editing import NotFound

# Reachable without an editor sign-in: the sign-in page itself and the OpenID Connect round trip.
PUBLIC_ENDPOINTS = frozenset({"editor.index", "editor.login", "editor.callback"})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A route whose rule starts with this is a payments route (portal.editor.payments): payments claim.
PAYMENTS_RULE_PREFIX = "/editor/<slug:slug>/betalinger/"
# The form whose typing is kept when it arrives after the sign-in ended: the library's texts and date.
KEPT_ENDPOINT = "editor.save"


@bp.before_request
def guard() -> BaseResponse | tuple[str, int] | None:
    editor = current_editor()
    g.editor = editor
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if editor is None:
        return _sign_in_required()
    slug = (request.view_args or {}).get("slug")
    if slug is not None and not _may_open(editor, slug):
        abort(404)
    if request.method not in _SAFE_METHODS:
        check_csrf(editor)
    return None


def _may_open(editor: Editor, slug: str) -> bool:
    """Whether this request's route, for library `slug`, is open to `editor`."""
    if is_payments_rule(request.url_rule.rule if request.url_rule else ""):
        return editor.may_review_payments(slug)
    return editor.may_edit(slug)


def is_payments_rule(rule: str) -> bool:
    return rule.startswith(PAYMENTS_RULE_PREFIX)


def request_editor() -> Editor | None:
    """The editor of this request, or None (for the public views)."""
    editor: Editor | None = g.get("editor")
    return editor


def signed_in_editor() -> Editor:
    """The editor of this request; views behind the guard can rely on one."""
    editor: Editor | None = g.get("editor")
    if editor is None:  # only reachable if a public view calls this by mistake
        abort(401)
    return editor


def _sign_in_required() -> BaseResponse | tuple[str, int]:
    if request.method in _SAFE_METHODS:
        # Back to this page after signing in; only the path (portal.editor.signin checks it again).
        return redirect(url_for("editor.login", next=request.path))
    slug = str((request.view_args or {}).get("slug", ""))
    # The library form, from the portal's own page: its typing waits for the sign-in (unsent).
    kept = request.endpoint == KEPT_ENDPOINT and bool(slug) and from_own_pages()
    if kept:
        unsent.keep(slug, request.form)
    next_path = url_for("editor.edit", slug=slug) if kept else None
    hours = unsent.KEPT_FOR // timedelta(hours=1)
    page = render_template("editor/sign_in_required.html", kept=kept, kept_hours=hours, next_path=next_path)
    return page, 401


@bp.errorhandler(NotFound)
def not_found(_: NotFound) -> Response:
    """No such library, revision or scheduled date: the portal's ordinary 404 page."""
    return current_app.handle_http_exception(HttpNotFound())  # type: ignore[return-value]


@bp.after_request
def headers(response: Response) -> Response:
    return set_editor_headers(response, current_app.extensions[CSP_EXTENSION])


@bp.context_processor
def template_helpers() -> dict[str, object]:
    editor = g.get("editor")
    return {"editor": editor, "csrf_field_name": FIELD, "csrf_token": editor.csrf_token if editor else ""}
