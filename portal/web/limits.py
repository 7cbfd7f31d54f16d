"""Rate limits and request size limits (Flask-Limiter): sign-in, the JSON API and the webhook.

Why Flask-Limiter: the field's maintained limiter for Flask, with fixed and moving windows,
`Retry-After`, and the same Redis the cache and sessions use, so a limit holds across every worker
of a scaled-out deployment. Counted per client address (`request.remote_addr`, which is the
browser's own behind `PORTAL_TRUSTED_PROXIES`). Limited only where a flood costs something:
starting a sign-in (a round trip to the IdP and a state in the session), the callbacks (token
exchanges), the JSON API (upstream calls) and Nexi's webhook (a gateway read per call). The
citizen page itself is not limited: a library's whole branch behind one address must not be
locked out of its own page on reminder day.

When Redis is down, counting falls back to each process's memory rather than failing the
request: a limiter must never take the portal down with it.

Only the limited endpoints pay for the limiter. Flask-Limiter hooks itself into every request
(a check before the view, headers after it, a clean-up at the end), and this version (4.x) has no
switch to leave that out (its `auto_check` is gone). Here no limit applies outside the
decorated views — no default, application or meta limits —, so on every other request those
hooks would only find nothing to do, at a cost on each citizen page; they are wrapped to run for
LIMITED_ENDPOINTS alone (tests/web/test_limiter_scope.py). The decorator does the counting there,
as before.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from portal.config import REDIS_SOCKET_TIMEOUT, Settings

if TYPE_CHECKING:
    from flask.typing import RouteCallable

__all__ = ["LIMITED_ENDPOINTS", "MAX_REQUEST_BYTES", "init_limits"]

# The largest body the portal takes: the editor's form with every text at its maximum length
# (portal.libraries.validation.MAX_TEXT) stays below it; a webhook or a form is far smaller.
MAX_REQUEST_BYTES = 2 * 1024 * 1024

# endpoint -> the Settings field holding its limit ("60 per minute"; Flask-Limiter's notation).
LIMITED_ENDPOINTS: dict[str, str] = {
    "auth.login": "rate_limit_sign_in",
    "auth.callback": "rate_limit_sign_in",
    "auth.adgangsplatformen_callback": "rate_limit_sign_in",
    "api.overview": "rate_limit_api",
    "api.total": "rate_limit_api",
    "payments.webhook": "rate_limit_webhook",
}


def _redis_options(settings: Settings) -> dict[str, Any]:
    # Float seconds: redis-py takes them, though Flask-Limiter's annotation says str | int.
    if not settings.cache_url:
        return {}
    return {"socket_timeout": REDIS_SOCKET_TIMEOUT, "socket_connect_timeout": REDIS_SOCKET_TIMEOUT}


def init_limits(app: Flask, settings: Settings) -> None:
    """Limit LIMITED_ENDPOINTS (after their blueprints are registered) and cap request bodies."""
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.config["MAX_FORM_MEMORY_SIZE"] = MAX_REQUEST_BYTES
    if not settings.rate_limits:
        return
    hooks_before = _request_hooks(app)
    # No default, application or meta limits: a limit is only ever on a view of LIMITED_ENDPOINTS,
    # which is what lets the limiter's request hooks be skipped everywhere else (below).
    limiter = Limiter(
        key_func=get_remote_address,
        app=app,
        storage_uri=settings.cache_url or "memory://",
        storage_options=_redis_options(settings),
        strategy="moving-window",
        headers_enabled=True,  # Retry-After and X-RateLimit-* on limited answers
        swallow_errors=True,
        in_memory_fallback_enabled=True,
    )
    _only_on_limited_endpoints(app, hooks_before)
    for endpoint, setting in LIMITED_ENDPOINTS.items():
        view = app.view_functions.get(endpoint)
        if view is None:
            raise RuntimeError(f"rate limit for {endpoint!r}: no such endpoint (renamed? update LIMITED_ENDPOINTS)")
        # The wrapped view keeps its name, which is how Flask-Limiter finds its limit per request.
        # One counter per setting: the API's two routes share theirs, as do the sign-in steps.
        limit = limiter.shared_limit(getattr(settings, setting), scope=setting)
        app.view_functions[endpoint] = cast("RouteCallable", limit(view))
    app.register_error_handler(RateLimitExceeded, _too_many)


Hook = Callable[..., Any]


def _request_hooks(app: Flask) -> dict[str, list[Hook]]:
    """The app-wide request hooks, by kind, as they are now."""
    return {kind: list(getattr(app, kind).get(None, ())) for kind in _GUARDS}


def _only_on_limited_endpoints(app: Flask, before: dict[str, list[Hook]]) -> None:
    """Makes the hooks added since `before` (the limiter's) run only for LIMITED_ENDPOINTS.

    Otherwise each does what it would have done with no limit to apply: let the request through,
    give the answer back unchanged, nothing at the end.
    """
    for kind, guard in _GUARDS.items():
        hooks = getattr(app, kind).get(None, [])
        hooks[:] = [hook if any(hook is old for old in before[kind]) else guard(hook) for hook in hooks]


def _limited() -> bool:
    return request.endpoint in LIMITED_ENDPOINTS


def _skip_returning_none(hook: Hook) -> Hook:
    @functools.wraps(hook)
    def on_limited_endpoints(*args: Any) -> Any:
        return hook(*args) if _limited() else None

    return on_limited_endpoints


def _skip_returning_response(hook: Hook) -> Hook:
    @functools.wraps(hook)
    def on_limited_endpoints(response: Response) -> Any:
        return hook(response) if _limited() else response

    return on_limited_endpoints


# Per kind of hook, what Flask expects of one that has nothing to do.
_GUARDS: dict[str, Callable[[Hook], Hook]] = {
    "before_request_funcs": _skip_returning_none,  # None: on to the view
    "after_request_funcs": _skip_returning_response,
    "teardown_request_funcs": _skip_returning_none,
}


def _too_many(exc: RateLimitExceeded) -> tuple[Response | str, int]:
    # The API answers JSON, the rest a page; both say when to come back (Retry-After is set too).
    if request.path.startswith("/api/"):
        return jsonify(error="too_many_requests", message="Too many requests; try again later."), 429
    title = gettext("Too many attempts")
    return render_template("errors/http_error.html", code=429, title=title, library=None), 429
