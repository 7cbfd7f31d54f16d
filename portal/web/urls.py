"""Links the portal builds: absolute ones from PORTAL_BASE_URL, language links from an allow-list.

Absolute URLs (the OIDC redirect_uri, post-logout and, later, payment return addresses) are the
configured public base URL plus the route's path, never the request's Host header, which
anyone can set. A page's links to itself in another language carry only the route's own values,
`lang`, when the page shows one, its checked way back to the library's website, and the query
parameters its view names with `@language_links_keep` (what the page shows depends on them): other
query parameters (`?endpoint=…`, `?_external=1`) never reach `url_for`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, request, url_for

from portal.config import Settings
from portal.i18n import LANGUAGES

__all__ = ["language_links_keep", "language_url", "public_url"]

F = TypeVar("F", bound=Callable[..., Any])
_KEPT = "_language_links_keep"
# A kept value longer than this is dropped: no query parameter the portal reads is longer.
_MAX_KEPT_LENGTH = 128


def language_links_keep(*names: str) -> Callable[[F], F]:
    """Mark a view whose page depends on the query parameters `names`: its language links keep them."""

    def mark(view: F) -> F:
        setattr(view, _KEPT, frozenset(names))
        return view

    return mark


def public_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of `endpoint` at the portal's public address (Settings.base_url)."""
    path = url_for(endpoint, **values)
    # url_for's path starts with the script root where the app is mounted; the base URL includes it.
    settings: Settings = current_app.config["PORTAL_SETTINGS"]
    return settings.base_url + path.removeprefix(request.script_root)


def language_url(code: str, return_to: str | None = None) -> str:
    """This page in another language (the switch sets a cookie, see portal.i18n).

    `return_to`: the page's way back to the library's website, already checked against the
    library's `embed_origins` (`auth.return_to`); the page in the other language keeps it.
    """
    if code not in LANGUAGES:
        raise ValueError(code)
    if request.endpoint is None or request.endpoint == "static" or request.url_rule is None:
        return f"?lang={code}"
    # Only the route's own values (the path), typed by its converters, and the language (which
    # replaces a `lang` in the path: the editor's preview of each language is its own route).
    values = {**_kept_query(), **(request.view_args or {}), "lang": code}
    if return_to:
        values["return_to"] = return_to
    return url_for(request.endpoint, **values)


def _kept_query() -> dict[str, str]:
    view = current_app.view_functions.get(request.endpoint or "")
    names: frozenset[str] = getattr(view, _KEPT, frozenset())
    return {
        name: value
        for name in names
        if (value := request.args.get(name)) is not None and len(value) <= _MAX_KEPT_LENGTH
    }
