"""Response headers of the editor area: the portal's strict CSP, but never framed, and the
editor IdP allowed as a form target (logout is a POST that redirects there)."""

from __future__ import annotations

from flask import Response

from portal.config import Settings
from portal.web.security import content_security_policy, origin

CSP_EXTENSION = "portal.editor_csp"  # app.extensions key of the policy, built once at start-up


def editor_csp(settings: Settings) -> str:
    """The citizen pages' policy with frame-ancestors 'none' and the editor IdP as form-action."""
    # Editor pages change what citizens see: no other page, not even the portal's own, may frame them
    # (clickjacking), and the IdP's login page is then never opened inside a frame from here.
    return content_security_policy(form_action=origin(settings.editor_oidc_issuer or ""), frame_ancestors="'none'")


def set_editor_headers(response: Response, csp: str) -> Response:
    # portal.web.security's layer only fills in what is missing.
    response.headers["Content-Security-Policy"] = csp
    response.headers["X-Frame-Options"] = "DENY"
    return response
