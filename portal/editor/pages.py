"""Routes: the editor's libraries, and one library's form — save a draft, discard, publish, schedule.

Views orchestrate only: the guard has already checked the editor and the library, the storage
(portal.libraries.editing) checks the values and the version, and this module picks the page.
Every change carries the `version` its page was loaded with; a stale one gets a conflict page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from portal import clock, db
from portal.domain.kodelinje import KodelinjeError, parse_kodelinje
from portal.editor import csrf, unsent
from portal.editor.blueprint import bp
from portal.editor.display import CUTOFF_DRAFTED, DONE_MESSAGES, SUGGESTION_REFUSED, edit_done_messages, when
from portal.editor.forms import (
    LANGUAGE_NAMES,
    SCHEDULED_CUTOFF,
    SHORT_TEXT_KEYS,
    TEXT_LABELS,
    ScheduleForm,
    error_messages,
    field_label,
    parse_schedule,
    schedule_errors,
    submitted,
)
from portal.editor.guard import request_editor, signed_in_editor
from portal.editor.text_defaults import defaults_for, possible_defaults, render_preview, without_defaults
from portal.libraries import disagreements, editing
from portal.libraries.defaults import LANGUAGES, TEXT_KEYS, default_text
from portal.libraries.editing import EditConflict, EditorState, ValidationFailed
from portal.libraries.repository import list_libraries
from portal.payments.setup import runtime as payments_runtime

Page = Response | tuple[str, int] | str


@bp.context_processor
def form_helpers() -> dict[str, object]:
    return {
        "field_label": field_label,
        "text_labels": TEXT_LABELS,
        "language_names": LANGUAGE_NAMES,
        "languages": LANGUAGES,
        "default_text": default_text,
        "short_text_keys": SHORT_TEXT_KEYS,
        "done_messages": DONE_MESSAGES,
        "when": when,
    }


@bp.get("/")
def index() -> Page:
    """Signed out: the invitation to sign in. Signed in: the libraries this editor may edit or review payments of."""
    editor = request_editor()
    if editor is None:
        return render_template("editor/sign_in.html")
    libraries = [
        library
        for library in list_libraries()
        if editor.may_edit(library.slug) or editor.may_review_payments(library.slug)
    ]
    return render_template("editor/libraries.html", libraries=libraries)


def load_or_404(slug: str) -> EditorState:
    """The library's editor state; 404 for an unknown library (as for a foreign one, see guard)."""
    state = editing.load_state(db.session(), slug)
    if state is None:
        abort(404)
    return state


@bp.get("/<slug:slug>/")
def edit(slug: str) -> Page:
    state = load_or_404(slug)
    kept = unsent.take(slug)
    if kept is not None:
        # Sent after the sign-in had ended (portal.editor.guard): the editor's typing, still unsaved.
        message = _(
            "You sent this form after your sign-in had ended. Nothing was saved; your changes are in the "
            "form below. Check them, then save."
        )
        return render_edit(state, kept.fields, kept_input=True, problem=message, version=kept.version)
    library = state.draft or state.published
    return render_edit(state, editing.form_values(library), done=request.args.get("done"))


@bp.post("/<slug:slug>/")
def save(slug: str) -> Page:
    """Save the form as the library's draft; nothing is saved when any field is refused."""
    values = submitted(request.form)
    before = load_or_404(slug)
    # The form shows the defaults filled in: a text left at its default is stored as no text.
    to_store = without_defaults(values, possible_defaults([before.draft or before.published, before.published], values))
    try:
        editing.save_draft(db.session(), slug, to_store, signed_in_editor().label, _version())
    except ValidationFailed as refused:
        future = refused.codes.get("cutoff_date") == "future"
        return render_edit(
            load_or_404(slug),
            values,
            errors=error_messages(refused.codes, values),
            version=_version(),
            # A later cut-off date belongs in the schedule form: it is filled in there, one step away.
            schedule_form=ScheduleForm({SCHEDULED_CUTOFF: values["cutoff_date"]}, {}) if future else None,
            future_cutoff=future,
            status=422,
        )
    except EditConflict as conflict:
        # The editor's typing is kept on the page; the form now carries the new version.
        return render_edit(load_or_404(slug), values, conflict=conflict, kept_input=True, status=409)
    return _done(slug, "saved")


def _form_of_an_old_sign_in() -> Page:
    """The main form sent with a stale token from the editor's own page: shown again as typed, unsaved.

    With the version it was loaded at, so saving it again still meets any change made meanwhile.
    """
    slug = str((request.view_args or {})["slug"])
    message = _(
        "The form was from before you signed in again. Nothing was saved; your changes are still in the "
        "form below. Save them again."
    )
    return render_edit(
        load_or_404(slug), submitted(request.form), kept_input=True, problem=message, version=_version(), status=400
    )


csrf.show_again_when_refused("editor.save", _form_of_an_old_sign_in)


@bp.post("/<slug:slug>/suggested-cutoff")
def draft_suggested_cutoff(slug: str) -> Page:
    """The tally's one step: a draft with the suggested cut-off date, the rest of the draft kept.

    The form sends the date the editor was shown; it is drafted only while it is still the tally's
    suggestion and not after today, so a page loaded before the tally moved drafts nothing.
    """
    state = load_or_404(slug)
    if _version() != state.version:
        # Checked before the suggestion: after another editor's change the page is shown afresh.
        return _conflict_page(slug, EditConflict(state.version))
    offered = request.form.get("cutoff_date", "")
    refusal = _suggestion_refusal(state, offered)
    if refusal is not None:
        return render_edit(state, _current_values(state), problem=str(SUGGESTION_REFUSED[refusal]), status=422)
    # Everything else as the draft (or, without one, what is published) holds it now.
    values = {**_current_values(state), "cutoff_date": offered}
    try:
        editing.save_draft(db.session(), slug, values, signed_in_editor().label, _version())
    except EditConflict as conflict:  # another change between loading and saving
        return _conflict_page(slug, conflict)
    except ValidationFailed as refused:
        # The draft holds what cannot be saved again (saved before a rule existed): shown at its fields.
        fresh = load_or_404(slug)
        values = _current_values(fresh)
        return render_edit(fresh, values, errors=error_messages(refused.codes, values), status=422)
    return _done(slug, CUTOFF_DRAFTED)


def _suggestion_refusal(state: EditorState, offered: str) -> str | None:
    """Why `offered` may not be drafted as the suggested date (a SUGGESTION_REFUSED key), or None."""
    suggested = disagreements.summary(db.session(), state.published.slug, state.current_cutoff).suggested_cutoff
    if suggested is None or offered != suggested.isoformat():
        return "changed"
    if suggested > clock.today():
        return "future"
    return None


@bp.post("/<slug:slug>/discard")
def discard(slug: str) -> Page:
    try:
        editing.discard_draft(db.session(), slug, signed_in_editor().label, _version())
    except EditConflict as conflict:
        return _conflict_page(slug, conflict)
    return _done(slug, "discarded")


@bp.post("/<slug:slug>/publish")
def publish(slug: str) -> Page:
    """Make the draft what citizens see."""
    try:
        editing.publish(db.session(), slug, signed_in_editor().label, _version())
    except EditConflict as conflict:
        return _conflict_page(slug, conflict)
    except ValidationFailed as refused:
        state = load_or_404(slug)
        if "draft" in refused.codes:  # no draft (any more) to publish
            return render_edit(state, _current_values(state), problem=_first_message(refused), status=422)
        # The draft holds what cannot be published (saved before a rule existed): shown at its fields.
        values = _current_values(state)
        return render_edit(state, values, errors=error_messages(refused.codes, values), status=422)
    return _done(slug, "published")


@bp.post("/<slug:slug>/schedule")
def schedule(slug: str) -> Page:
    """From a future day, the cut-off date changes by itself."""
    parsed = parse_schedule(request.form)
    if isinstance(parsed, ScheduleForm):
        return _schedule_refused(slug, parsed)
    effective_from, cutoff_date = parsed
    try:
        editing.schedule_cutoff(db.session(), slug, effective_from, cutoff_date, signed_in_editor().label, _version())
    except ValidationFailed as refused:
        return _schedule_refused(slug, schedule_errors(refused.codes, request.form))
    except EditConflict as conflict:
        return _conflict_page(slug, conflict)
    return _done(slug, "scheduled")


@bp.post("/<slug:slug>/schedule/<rowid:schedule_id>/cancel")
def cancel_schedule(slug: str, schedule_id: int) -> Page:
    try:
        editing.cancel_scheduled_cutoff(db.session(), slug, schedule_id, signed_in_editor().label, _version())
    except EditConflict as conflict:
        return _conflict_page(slug, conflict)
    except ValidationFailed as refused:  # already in force
        state = load_or_404(slug)
        return render_edit(state, _current_values(state), problem=_first_message(refused), status=422)
    return _done(slug, "unscheduled")


def render_edit(
    state: EditorState,
    values: Mapping[str, str],
    *,
    errors: Mapping[str, str] | None = None,
    version: str | None = None,
    conflict: EditConflict | None = None,
    kept_input: bool = False,
    schedule_form: ScheduleForm | None = None,
    problem: str | None = None,
    done: str | None = None,
    future_cutoff: bool = False,
    status: int = 200,
) -> tuple[str, int]:
    """The library's form. After a conflict it carries the new version, so saving again is a choice."""
    card_payment = payments_runtime().offers_card_payment(state.published)
    done_messages = edit_done_messages(state.draft.cutoff_date if state.draft else None)
    # Text fields are filled in with these where the library has no wording of its own: those that
    # go with the code line in the form (a form shown again may have just emptied or filled it in).
    code_line = bool(values.get("kodelinje", "").strip())
    default_of = defaults_for(state.draft or state.published, card_payment=card_payment, code_line=code_line)
    page = render_template(
        "editor/edit.html",
        state=state,
        values=values,
        errors=errors or {},
        version=conflict.current_version if conflict else (version or state.version),
        conflict=conflict,
        kept_input=kept_input,
        schedule_form=schedule_form or ScheduleForm({}, {}),
        problem=problem,
        # ?done=… after a change (Post/Redirect/Get): a fixed set, so no text from the URL is shown.
        # These replace the context processor's: one of them names the draft's cut-off date.
        done_messages=done_messages,
        done=done if done in done_messages else None,
        # The defaults shown beside empty fields are the ones citizens get: they promise card payment
        # only where the library takes it.
        card_payment=card_payment,
        default_of=default_of,
        code_line_missing=_code_line_promised_but_missing(state, values),
        shared_payment_id=_shared_payment_id(values.get("kodelinje", "")),
        text_preview=lambda key, language, text: render_preview(key, language, text, state.current_cutoff),
        future_cutoff=future_cutoff,
        # What FBS's flags said about the cut-off date on citizens' pages (anonymous tally).
        disagreements=disagreements.summary(db.session(), state.published.slug, state.current_cutoff),
    )
    return page, status


def _current_values(state: EditorState) -> dict[str, str]:
    return editing.form_values(state.draft or state.published)


# What the default texts say of the code line (Danish and English): that it is shown below.
_PROMISES_A_CODE_LINE = re.compile(r"kodelinjen?\s+(?:står\s+)?nedenfor|code line (?:is shown )?below", re.IGNORECASE)


def _code_line_promised_but_missing(state: EditorState, values: Mapping[str, str]) -> bool:
    """The library's own texts in the form say the code line is below, but the form has none:
    citizens would look for it in vain. A text left at its default does not count: without a code
    line the defaults leave the bank way out (portal.libraries.defaults)."""
    if values.get("kodelinje", "").strip():
        return False
    own = without_defaults(values, possible_defaults([state.draft or state.published, state.published], values))
    texts = (own.get(f"text.{language}.{key}", "") for key in TEXT_KEYS for language in LANGUAGES)
    return any(_PROMISES_A_CODE_LINE.search(text) for text in texts)


def _shared_payment_id(text: str) -> str | None:
    """The payment id of a +71/+75 line that carries one: every borrower would pay with it."""
    try:
        line = parse_kodelinje(text)
    except KodelinjeError:
        return None  # empty, or refused at its field
    return line.payment_id if line.has_check_digit and line.payment_id else None


def _conflict_page(slug: str, conflict: EditConflict) -> tuple[str, int]:
    # Nothing of this request was done; the page shows the state as it is now.
    state = load_or_404(slug)
    return render_edit(state, _current_values(state), conflict=conflict, status=409)


def _schedule_refused(slug: str, form: ScheduleForm) -> tuple[str, int]:
    state = load_or_404(slug)
    return render_edit(state, _current_values(state), schedule_form=form, version=_version(), status=422)


def _first_message(refused: ValidationFailed) -> str:
    return next(iter(error_messages(refused.codes, {}).values()))


def _version() -> str:
    return request.form.get("version", "")


def _done(slug: str, what: str) -> Response:
    # 303: the browser fetches the page with GET, so a reload never repeats the change.
    return redirect(url_for("editor.edit", slug=slug, done=what), 303)
