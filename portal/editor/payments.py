"""Routes: a library's card payment orders for its payment staff, one order's report, resolving it.

The guard lets only the library's payment staff (the payments claim) in: every route here lives
under `<slug>/betalinger/` (guard.PAYMENTS_RULE_PREFIX). The rules are portal.payments.review;
these views pick the page.
"""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from portal.editor.blueprint import bp
from portal.editor.guard import signed_in_editor
from portal.editor.pages import load_or_404
from portal.editor.payment_labels import fbs_answer_label, outcome_label, review_label, source_label, state_label
from portal.libraries.editing import EditorState
from portal.payments import review
from portal.payments.setup import runtime
from portal.payments.states import State

Page = Response | tuple[str, int]
# The states the list can be filtered by: NEEDS_REVIEW orders are always listed first anyway.
FILTER_STATES = tuple(state for state in State if state is not State.NEEDS_REVIEW)


@bp.context_processor
def payment_helpers() -> dict[str, object]:
    return {
        "state_label": state_label,
        "outcome_label": outcome_label,
        "fbs_answer_label": fbs_answer_label,
        "source_label": source_label,
        "review_label": review_label,
    }


@bp.get("/<slug:slug>/betalinger/")
def payments(slug: str) -> Page:
    library = load_or_404(slug)
    state = review.parse_state(request.args.get("state"))
    with runtime().sessions() as session:
        orders = review.list_orders(session, slug, state)
    page = render_template("editor/payments.html", state=library, orders=orders, filter_states=FILTER_STATES)
    return page, 200


@bp.get("/<slug:slug>/betalinger/<order_id>")
def payment(slug: str, order_id: str) -> Page:
    return _report_page(load_or_404(slug), order_id, done=request.args.get("done") == "resolved")


@bp.post("/<slug:slug>/betalinger/<order_id>/resolve")
def resolve_payment(slug: str, order_id: str) -> Page:
    library = load_or_404(slug)
    note = request.form.get("note", "")
    try:
        with runtime().sessions() as session:
            review.resolve(session, slug, order_id, signed_in_editor().label, note)
    except review.OrderNotFound:
        abort(404)
    except review.NotInReview:
        return _report_page(library, order_id, refused="not_in_review", status=409)
    except review.ResolveRefused as refused:  # the note: kept in the form so nothing typed is lost
        return _report_page(library, order_id, refused=refused.code, note=note, status=422)
    # 303: the browser fetches the report with GET, so a reload never resolves twice.
    return redirect(url_for("editor.payment", slug=slug, order_id=order_id, done="resolved"), 303)


def _report_page(
    library: EditorState,
    order_id: str,
    *,
    done: bool = False,
    refused: str | None = None,
    note: str = "",
    status: int = 200,
) -> tuple[str, int]:
    with runtime().sessions() as session:
        report = review.load_report(session, library.published.slug, order_id)
    if report is None:
        abort(404)
    page = render_template(
        "editor/payment.html",
        state=library,
        report=report,
        done=done,
        refused=refused,
        note=note,
        max_note_length=review.MAX_NOTE_LENGTH,
    )
    return page, status
