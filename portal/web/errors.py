"""Error pages: one place turns HTTP errors into friendly pages (JSON under /api/)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from urllib.parse import quote

from flask import Flask, Response, jsonify, redirect, render_template, request
from flask_babel import gettext, lazy_gettext
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.libraries.cache import library_cache
from portal.libraries.library import Library
from portal.libraries.repository import get_library
from portal.observability import metrics
from portal.web.converters import SlugConverter
from portal.web.embed import framed_error
from portal.web.security import LAST_RESORT_PAGE
from portal.web.unavailable import TryAgainSoon

log = logging.getLogger(__name__)
_SLUG = re.compile(SlugConverter.regex)

# flask_babel ships no type information; its gettext returns the translated str.
_: Callable[..., str] = gettext


class DatabaseUnreachable(TryAgainSoon):
    """The database could not be reached: nothing is known, so nothing is shown."""

    title = lazy_gettext("The portal is unavailable right now")
    message = lazy_gettext("The portal cannot reach its data right now. Please try again in a moment.")


def is_unreachable(exc: Exception) -> bool:
    """True when `exc` says the database cannot be reached now (refused, dropped, every connection busy),
    as against a statement it refused (a constraint, a bug): the one passes, the other is ours to fix."""
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


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
        if exc.code == 404 and (moved := _lowercase_library_path()) is not None:
            return redirect(moved, 308)
        library = _library(exc)
        if library is not None and request.blueprint == "embed":
            return framed_error(library, exc.code or 500, _title(exc)), _own_headers(exc)
        page = render_template("errors/http_error.html", code=exc.code, title=_title(exc), library=library)
        return page, exc.code, _own_headers(exc)

    def database_error(exc: Exception):  # type: ignore[no-untyped-def]
        if not is_unreachable(exc):
            return unexpected(exc)
        metrics.record_database_error()
        # A warning, not a traceback per request: in an outage every request says the same.
        log.warning("database unreachable on %s: %s", request.path, _first_line(exc))
        return http_error(DatabaseUnreachable())

    # A PostgreSQL restart or failover, a full pool: 503 and Retry-After, as for the session store.
    app.register_error_handler(DBAPIError, database_error)
    app.register_error_handler(PoolTimeout, database_error)

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


def _lowercase_library_path() -> str | None:
    """/Lyngby/… as /lyngby/… (with its query) when that is a library: slugs are lower case, addresses
    typed or printed in a leaflet often are not. None for anything else, which stays a 404."""
    if request.method not in ("GET", "HEAD"):
        return None
    first, slash, rest = request.path.removeprefix("/").partition("/")
    lowered = first.lower()
    if lowered == first or not slash or not _SLUG.fullmatch(lowered) or get_library(lowered) is None:
        return None
    query = request.query_string.decode("ascii", "replace")
    return f"{request.script_root}/{quote(lowered)}/{quote(rest)}" + (f"?{query}" if query else "")


def _library(exc: HTTPException | None = None) -> Library | None:
    """The library of a /<slug>/… page, so its error page says whom to ask; None when there is none.

    When the error is the database's, the library as this process last read it: asking the
    database again would wait for it a second time, and the contact and embed policy rarely change.
    """
    slug = (request.view_args or {}).get("slug")
    if not isinstance(slug, str):
        return None
    if isinstance(exc, DatabaseUnreachable):
        return library_cache().last_known(slug)
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
    if isinstance(exc, TryAgainSoon):
        return str(exc.title)
    if code == 404:
        return _("Page not found")
    if code == 405:
        return _("That action is not allowed here")
    if code is not None and code < 500:
        return _("The request could not be handled")
    return _("Something went wrong on our side")


def _first_line(exc: Exception) -> str:
    """The driver's own message, first line: what failed, without the statement or its parameters."""
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {lines[0][:200] if lines else ''}"
