"""Route: the live preview of one text of the editor form (static/js/editor-preview.js).

Rendered on the server with the citizen page's own renderer (portal.editor.text_defaults), so it
cannot differ from what citizens see. A POST behind the editor guard (sign-in, the library, the
CSRF token), answering JSON.
"""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext
from werkzeug.wrappers import Response

from portal.editor.blueprint import bp
from portal.editor.pages import load_or_404
from portal.editor.text_defaults import defaults_for, render_preview
from portal.libraries.defaults import LANGUAGES, TEXT_KEYS
from portal.libraries.validation import MAX_TEXT
from portal.payments.setup import runtime as payments_runtime


@bp.post("/<slug:slug>/text-preview")
def text_preview(slug: str) -> Response | tuple[Response, int]:
    """{"html": …}: the posted `text` of field `field` rendered as on the citizen page."""
    state = load_or_404(slug)
    name = request.form.get("field", "")
    parts = name.split(".")
    if len(parts) != 3 or parts[0] != "text" or parts[1] not in LANGUAGES or parts[2] not in TEXT_KEYS:
        return jsonify(error="unknown field"), 400
    language, key = parts[1], parts[2]
    text = request.form.get("text", "")
    if len(text) > MAX_TEXT:
        return jsonify(error=gettext("The text is too long. Shorten it.")), 422
    if not text.strip():  # empty: citizens get the default
        library = state.draft or state.published
        card_payment = payments_runtime().offers_card_payment(state.published)
        text = defaults_for(library, card_payment=card_payment)(key, language)
    return jsonify(html=str(render_preview(key, language, text, state.current_cutoff)))
