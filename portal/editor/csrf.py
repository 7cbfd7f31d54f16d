"""CSRF protection: every POST of the editor area carries the sign-in's token in a hidden field.

The token is made at sign-in and kept server-side with the editor (portal.editor.identity);
it never travels in a cookie or a URL. `guard` checks it centrally before any view runs.
"""

from __future__ import annotations

import hmac
import logging

from flask import abort, make_response, render_template, request

from portal.editor.identity import Editor

log = logging.getLogger(__name__)

FIELD = "csrf_token"


def check_csrf(editor: Editor) -> None:
    """Refuse (400, nothing done) a form whose token is missing or not this sign-in's."""
    sent = request.form.get(FIELD, "")
    # compare_digest: no timing hint about how much of a guessed token was right.
    if not hmac.compare_digest(sent.encode(), editor.csrf_token.encode()):
        log.warning("editor form refused: %s CSRF token on %s", "wrong" if sent else "no", request.path)
        abort(make_response(render_template("editor/form_refused.html"), 400))
