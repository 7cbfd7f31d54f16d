"""Response headers of the editor area: the portal's strict CSP, but never framed, and the
editor IdP allowed as a form target (logout is a POST that redirects there)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response

from portal.config import Settings
from portal.web.security import _CSP

CSP_EXTENSION = "portal.editor_csp"  # app.extensions key of the policy, built once at start-up


def editor_csp(settings: Settings) -> str:
    """The citizen pages' policy with frame-ancestors 'none' and the editor IdP as form-action."""
    issuer = urlsplit(settings.editor_oidc_issuer or "")
    policy = _CSP.format(idp=f"{issuer.scheme}://{issuer.netloc}")
    # Editor pages change what citizens see: no other page, not even the portal's own, may frame them
    # (clickjacking), and the IdP's login page is then never opened inside a frame from here.
    framed = "frame-ancestors 'self'"
    if framed not in policy:
        raise RuntimeError("portal.web.security's CSP changed; update editor_csp")
    return policy.replace(framed, "frame-ancestors 'none'")


def set_editor_headers(response: Response, csp: str) -> Response:
    # Set before portal.web.security's after_request, which only fills in what is missing.
    response.headers["Content-Security-Policy"] = csp
    response.headers["X-Frame-Options"] = "DENY"
    return response
