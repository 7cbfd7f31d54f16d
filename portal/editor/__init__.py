"""The editor area /editor/: library editors change their libraries' cut-off date and texts.

Editors sign in with the organisation's IdP (PORTAL_EDITOR_OIDC_*, a client of its own), whose
libraries claim says which libraries each may edit. `guard` checks sign-in, library and CSRF
token before every view; the storage is portal.libraries.editing (docs/editing-contract.md).
Without PORTAL_EDITOR_OIDC_ISSUER (outside the demo) the area is not served at all.
"""

from __future__ import annotations

import logging

from flask import Flask

from portal.config import Settings

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Register the editor client and the /editor/ routes, if editor sign-in is configured."""
    settings: Settings = app.config["PORTAL_SETTINGS"]
    if settings.editor_oidc_issuer is None:
        log.info("editor area off: PORTAL_EDITOR_OIDC_ISSUER is not set")
        return
    # The route modules register themselves on the blueprint when imported.
    from portal.auth.views import keep_at_citizen_sign_in_and_out
    from portal.editor import guard, history, pages, payments, preview, signin, text_preview  # noqa: F401
    from portal.editor.blueprint import bp
    from portal.editor.headers import CSP_EXTENSION, editor_csp
    from portal.editor.identity import SESSION_KEY
    from portal.editor.oidc import init_editor_oidc

    init_editor_oidc(app, settings)
    app.extensions[CSP_EXTENSION] = editor_csp(settings)
    keep_at_citizen_sign_in_and_out(app, SESSION_KEY)
    app.register_blueprint(bp)
