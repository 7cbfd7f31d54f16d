"""Routes that never read the session, marked where they are defined (`@sessionless`).

The session interface (`sessions.py` beside it) does not look such a request's session up: a
liveness probe every few seconds costs no store round trip, and it answers while the store is
down (a probe failing with Redis would have every web process restarted, and a restart fixes
nothing). A marked view sees an empty session that refuses writes (Flask's NullSession).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask

__all__ = ["sessionless", "sessionless_paths"]

_MARK = "portal_sessionless"
View = TypeVar("View", bound=Callable[..., object])


def sessionless(view: View) -> View:
    """Mark `view`: its requests never read the session (a route without URL variables only)."""
    setattr(view, _MARK, True)
    return view


def sessionless_paths(app: Flask) -> tuple[frozenset[str], tuple[str, ...]]:
    """The paths of `app`'s marked routes, and the prefix of its static files (a missing file reaches Flask)."""
    exact = set()
    for rule in app.url_map.iter_rules():
        if getattr(app.view_functions.get(rule.endpoint), _MARK, False):
            if rule.arguments:
                raise RuntimeError(f"@sessionless {rule.endpoint}: only routes without URL variables")
            exact.add(rule.rule)
    prefixes = (f"{app.static_url_path}/",) if app.static_url_path and app.has_static_folder else ()
    return frozenset(exact), prefixes
