"""Error pages: one place turns HTTP errors into friendly pages (JSON under /api/)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.auth.sessions import SessionsUnreachable
from portal.libraries.library import Library
from portal.libraries.repository import get_library
from portal.web.embed import framed_error
from portal.web.security import LAST_RESORT_PAGE

log = logging.getLogger(__name__)

# flask_babel ships no type information; its gettext returns the translated str.
_: Callable[..., str] = gettext


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        # An HTTP error raised after the view (the session could not be stored) reaches Flask as
        # a 500 wrapping it: it is answered as itself.
        original = getattr(exc, "original_exception", None)
        if isinstance(exc, InternalServerError) and isinstance(original, HTTPException):
            exc = original
        if request.path.startswith("/api/"):
            answer = jsonify(error=exc.name.lower().replace(" ", "_"), message=str(exc.description))
            return answer, exc.code, _own_headers(exc)
        library = _library()
        if library is not None and request.blueprint == "embed":
            return framed_error(library, exc.code or 500, _title(exc)), _own_headers(exc)
        page = render_template("errors/http_error.html", code=exc.code, title=_title(exc), library=library)
        return page, exc.code, _own_headers(exc)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        log.exception("unhandled error on %s", request.path)
        if request.path.startswith("/api/"):
            return jsonify(error="internal_error"), 500
        try:
            title, library = _title(InternalServerError()), _library()
            if library is not None and request.blueprint == "embed":
                return framed_error(library, 500, title)
            return render_template("errors/http_error.html", code=500, title=title, library=library), 500
        except Exception:
            # Whatever broke the page may break its error page too (the database, a template).
            log.exception("the error page failed too on %s", request.path)
            return Response(LAST_RESORT_PAGE, 500, content_type="text/html; charset=utf-8")


def _library() -> Library | None:
    """The library of a /<slug>/… page, so its error page says whom to ask; None when there is none."""
    slug = (request.view_args or {}).get("slug")
    if not isinstance(slug, str):
        return None
    try:
        return get_library(slug)
    except Exception:
        # The error may be the database's: the page must still render, without the contact.
        log.warning("error page for %s: the library could not be read", request.path)
        return None


def _own_headers(exc: HTTPException) -> list[tuple[str, str]]:
    """The error's own headers (Retry-After of a 503, Allow of a 405), without werkzeug's Content-Type."""
    return [(name, value) for name, value in exc.get_headers() if name.lower() != "content-type"]


def _title(exc: HTTPException) -> str:
    code = exc.code
    if isinstance(exc, SessionsUnreachable):
        return _("We cannot check your sign-in right now")
    if code == 404:
        return _("Page not found")
    if code == 405:
        return _("That action is not allowed here")
    if code is not None and code < 500:
        return _("The request could not be handled")
    return _("Something went wrong on our side")
