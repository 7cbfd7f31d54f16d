"""CSRF protection: every POST of the editor area carries the sign-in's token in a hidden field.

The token is made at sign-in and kept server-side with the editor (portal.editor.identity);
it never travels in a cookie or a URL. `guard` checks it centrally before any view runs.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable

from flask import abort, make_response, render_template, request
from flask.typing import ResponseReturnValue

from portal.editor.identity import Editor

log = logging.getLogger(__name__)

FIELD = "csrf_token"


# Views whose refused form is shown again with what was typed in it (`show_again_when_refused`).
_SHOWN_AGAIN: dict[str, Callable[[], ResponseReturnValue]] = {}


def show_again_when_refused(endpoint: str, page: Callable[[], ResponseReturnValue]) -> None:
    """When `endpoint`'s form from the editor's own pages has a stale token, answer `page()` (nothing done)."""
    _SHOWN_AGAIN[endpoint] = page


def check_csrf(editor: Editor) -> None:
    """Refuse (400, nothing done) a form whose token is missing or not this sign-in's."""
    sent = request.form.get(FIELD, "")
    # compare_digest: no timing hint about how much of a guessed token was right.
    if not hmac.compare_digest(sent.encode(), editor.csrf_token.encode()):
        log.warning("editor form refused: %s CSRF token on %s", "wrong" if sent else "no", request.path)
        page = _SHOWN_AGAIN.get(request.endpoint or "")
        if page is not None and from_own_pages():
            abort(make_response(page()))
        abort(make_response(render_template("editor/form_refused.html"), 400))


def from_own_pages() -> bool:
    """The browser says the form was sent from the portal's own pages (Fetch Metadata).

    Then a stale token means a page from before a new sign-in, and what the form holds is the
    editor's own typing, safe to show again. A post from another site never gets it back: a
    page that showed a forged form's values would invite the editor to save them.
    """
    return request.headers.get("Sec-Fetch-Site") == "same-origin"
