"""Routes: a library's history (who, when, what changed, before and after) and restoring a version."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from portal import db
from portal.editor.blueprint import bp
from portal.editor.display import action_label, iso_long_date
from portal.editor.forms import error_messages, field_label, is_date_field
from portal.editor.guard import signed_in_editor
from portal.editor.pages import load_or_404
from portal.libraries import editing
from portal.libraries.editing import EditConflict, EditorState, ValidationFailed


@bp.get("/<slug:slug>/history")
def history(slug: str) -> tuple[str, int]:
    return render_history(load_or_404(slug), done=request.args.get("done"))


@bp.post("/<slug:slug>/history/<rowid:number>/restore")
def restore(slug: str, number: int) -> Response | tuple[str, int]:
    """Publish again what revision `number` published; recorded as a restore in the history."""
    try:
        editing.restore(db.session(), slug, number, signed_in_editor().label, request.form.get("version", ""))
    except EditConflict as conflict:
        return render_history(load_or_404(slug), conflict=conflict, status=409)
    except ValidationFailed as refused:  # the version holds what can no longer be stored, or is the live one
        problems = error_messages(refused.codes, {})
        if "restore" in problems:  # identical to what citizens see: not about a field
            return render_history(load_or_404(slug), problem=problems["restore"], status=422)
        return render_history(load_or_404(slug), refused={field_label(f): m for f, m in problems.items()}, status=422)
    return redirect(url_for("editor.history", slug=slug, done="restored"), 303)


def render_history(
    state: EditorState,
    *,
    conflict: EditConflict | None = None,
    refused: dict[str, str] | None = None,
    problem: str | None = None,
    done: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    revisions = editing.history(db.session(), state.published.slug)
    page = render_template(
        "editor/history.html",
        state=state,
        revisions=revisions,
        conflict=conflict,
        refused=refused or {},
        problem=problem,
        # Restoring one of these would publish nothing new: no button is offered for them.
        live=editing.live_revisions(db.session(), state.published.slug),
        version=conflict.current_version if conflict else state.version,
        done=done == "restored",
        action_label=action_label,
        is_date_field=is_date_field,
        iso_long_date=iso_long_date,
    )
    return page, status
