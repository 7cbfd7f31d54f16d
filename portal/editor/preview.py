"""Route: the citizen page as it will look once published, with demo debts, in either language.

Rendered with the citizen page's own template: templates/editor/preview.html extends
overview/overview.html and only adds the editor's bar (back to the form, publish), with the
same context (portal.web.overview_page.overview_context(..., preview=True)), so the preview
cannot drift from the page citizens get.
"""

from __future__ import annotations

from flask import render_template
from flask_babel import force_locale

from portal.editor.blueprint import bp
from portal.editor.pages import load_or_404
from portal.services.preview_debts import preview_debts
from portal.web.overview_page import overview_context


@bp.get("/<slug:slug>/preview/<any(da, en):lang>")
def preview(slug: str, lang: str) -> str:
    """The draft (or, without one, what is published) as citizens will see it, in `lang`."""
    state = load_or_404(slug)
    library = state.draft or state.published
    debts = preview_debts(library)
    # The whole page in the previewed language. The variable is called `lang` so that the
    # language switch (portal.web.citizen.language_url) leads to the other preview.
    with force_locale(lang):
        # overview_context reads the language from the locale forced here; the editor's bar
        # needs `state` and `language` on top.
        return render_template(
            "editor/preview.html", state=state, language=lang, **overview_context(library, debts, preview=True)
        )
