"""Security headers on every response, set in one place."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request

# No inline script or style anywhere: DKFDS and our own JS are static files.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'; form-action 'self' {idp}"
)


def init_app(app: Flask) -> None:
    issuer = urlsplit(app.config["PORTAL_SETTINGS"].oidc_issuer)
    # Logout is a POST whose answer redirects to the IdP; browsers check form-action on that redirect.
    csp = _CSP.format(idp=f"{issuer.scheme}://{issuer.netloc}")

    @app.after_request
    def set_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.endpoint != "static":
            # Pages show personal debts: never keep them in a browser or proxy cache.
            response.headers["Cache-Control"] = "no-store"
        return response
