"""Security headers on every answer, and the last-resort error page, in one WSGI layer.

The layer wraps the whole Flask app, so its headers are on every answer, also on those Flask
makes after something failed (a 500 whose after-request step raised, a session store that is
down): Content-Security-Policy, nosniff, Referrer-Policy, `Cache-Control: no-store` (pages show
personal debts; only static files may be cached) and, over HTTPS, Strict-Transport-Security.
A header a view set itself (the editor area's stricter policy, an embed page's frame-ancestors)
is left as it is. No page may be framed (`frame-ancestors 'none'`) except the embed pages, which
name exactly the sites of their library (`embed_policy`, docs/embedding.md).

Citizen POSTs also carry a same-origin check (`check_post_origin`): with the cross-site session
cookie (SameSite=None) the browser sends the cookie on a form posted from any site, so besides the
session-bound CSRF token a POST whose Origin (or Referer) names another site is refused.

When even Flask's own error handling fails, the layer answers with a fixed page made at start-up:
no template, no database, no translation lookup — nothing that can fail again.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, request

from portal.providers.nexi import checkout_origin

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
HSTS = "max-age=31536000"


def content_security_policy(*, form_action: str, frame_ancestors: str) -> str:
    """The portal's policy: no inline script or style (DKFDS and our JS are static files).

    `form_action` is the origin a form may post to besides the portal (the IdP, whose logout the
    logout POST redirects to); `frame_ancestors` who may frame the page ('none', or origins).
    """
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors {frame_ancestors}; "
        f"form-action 'self' {form_action}"
    )


def origin(url: str) -> str:
    """`https://idp.example/path` -> `https://idp.example`."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# The catalogue's wording of the same message, in both languages.
LAST_RESORT_PAGE = """<!DOCTYPE html>
<html lang="da">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Der gik noget galt hos os</title>
</head>
<body>
  <main>
    <h1>Der gik noget galt hos os</h1>
    <p>Prøv igen om lidt. Kontakt dit bibliotek, hvis det bliver ved med at ske.</p>
    <p><a href="/">Gå til listen over biblioteker</a></p>
    <div lang="en">
      <h2>Something went wrong on our side</h2>
      <p>Please try again in a moment. If it keeps happening, contact your library.</p>
      <p><a href="/">Go to the list of libraries</a></p>
    </div>
  </main>
</body>
</html>
""".encode()


class SecurityHeaders:
    """WSGI middleware: the headers on every answer, and the fixed page when all else failed."""

    def __init__(self, app: WSGIApp, csp: str, static_prefix: str) -> None:
        self.app = app
        self._csp = csp
        self._static_prefix = static_prefix.rstrip("/") + "/"

    def headers_for(self, environ: dict[str, Any]) -> list[tuple[str, str]]:
        headers = [
            ("Content-Security-Policy", self._csp),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "same-origin"),
        ]
        if not environ.get("PATH_INFO", "").startswith(self._static_prefix):
            headers.append(("Cache-Control", "no-store"))
        if environ.get("wsgi.url_scheme") == "https":
            headers.append(("Strict-Transport-Security", HSTS))
        return headers

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        ours = self.headers_for(environ)
        started = False

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            nonlocal started
            started = True
            present = {name.lower() for name, _ in headers}
            # Static files keep their own caching; everything else is never stored.
            if any(name == "Cache-Control" for name, _ in ours):
                headers = [(name, value) for name, value in headers if name.lower() != "cache-control"]
                present.discard("cache-control")
            headers = headers + [(name, value) for name, value in ours if name.lower() not in present]
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, start)
        except Exception:
            # Flask's own error handling failed (its error page could not be made): nothing here
            # may fail again, so the answer is fixed bytes and fixed headers.
            log.exception("unhandled error escaped the app on %s", environ.get("PATH_INFO", "?"))
            headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(LAST_RESORT_PAGE)))]
            # PEP 3333: exc_info only when the app had already started an answer (it replaces it).
            start_response("500 Internal Server Error", headers + ours, *([sys.exc_info()] if started else []))
            return [LAST_RESORT_PAGE]


_FORM_TARGETS = "portal.csp_form_targets"  # app.extensions key: the form-action origins besides 'self'
# Blueprints whose POSTs act for the signed-in citizen (the editor area checks its own token).
_CITIZEN_BLUEPRINTS = frozenset({"citizen", "auth", "payments", "embed"})
# Called by other parties, not by a form of the portal: Nexi's webhook (no browser), and DBC's
# single logout, which login.bib.dk may post from its own page (it only ends a session).
_NOT_OUR_FORMS = frozenset({"payments.webhook", "auth.adgangsplatformen_single_logout"})


def embed_policy(embed_origins: tuple[str, ...]) -> str:
    """The policy of an embed page: framed only by exactly `embed_origins` ('none' without any).

    Its forms (sign-out with the way back, card payment) may also lead to those sites: a form's
    redirects are held to form-action too.
    """
    targets = current_app.extensions[_FORM_TARGETS]
    ancestors = " ".join(embed_origins) or "'none'"
    return content_security_policy(form_action=" ".join([*targets, *embed_origins]), frame_ancestors=ancestors)


def check_post_origin() -> None:
    """Refuse a citizen POST sent from another site (Origin, else Referer, not the portal's origin).

    Browsers send Origin on every form POST; a request with neither header comes from no browser
    page (a client like curl or the tests' httpx), which no CSRF can drive, and is let through to
    the view's own token check.
    """
    if request.method != "POST" or request.blueprint not in _CITIZEN_BLUEPRINTS:
        return
    if request.endpoint in _NOT_OUR_FORMS:
        return
    own = origin(current_app.config["PORTAL_SETTINGS"].base_url)
    sent = request.headers.get("Origin")
    if sent is None and request.referrer:
        sent = origin(request.referrer)
    if sent is not None and sent != own:
        # "null" (a sandboxed or privacy-stripped origin) is refused too.
        log.warning("POST %s refused: sent from another origin", request.endpoint)
        abort(403)


def init_app(app: Flask) -> None:
    """Wrap the app in the headers layer (the citizens' IdP and Nexi's payment page are form targets)."""
    settings = app.config["PORTAL_SETTINGS"]
    targets = [origin(settings.oidc_issuer)]
    if settings.nexi_base_url:
        # "Betal med kort" posts to the portal, which redirects to Nexi's hosted payment page:
        # browsers hold a form's redirects to form-action too.
        targets.append(checkout_origin(settings.nexi_base_url))
    app.extensions[_FORM_TARGETS] = tuple(targets)
    # Nothing in the portal frames its own pages (the editor's preview is a page of its own), so
    # no page may be framed; the embed pages set their library's policy themselves.
    csp = content_security_policy(form_action=" ".join(targets), frame_ancestors="'none'")
    app.before_request(check_post_origin)
    app.wsgi_app = SecurityHeaders(app.wsgi_app, csp, app.static_url_path or "/static")  # type: ignore[method-assign]
