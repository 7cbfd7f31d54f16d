"""Card payment pages: start a payment, follow it, the receipt; and Nexi's webhook.

Views orchestrate only: the order's rules are in `portal.payments` and `portal.domain.payment`.
Every order page answers 404 unless the order is the signed-in citizen's at that library, so
another citizen's order id (or payment id on the return URL) shows nothing.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass

from flask import Blueprint, abort, jsonify, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from portal import db
from portal.auth import citizen_session
from portal.domain import money
from portal.domain.digits import ascii_digits
from portal.domain.overview import DebtOverview, DebtRow
from portal.domain.payment import NotPayable
from portal.libraries.library import Library
from portal.payments import checkout, store, webhooks
from portal.payments.models import PaymentOrderRow
from portal.payments.runtime import PaymentsUnavailable
from portal.payments.setup import runtime
from portal.payments.states import FINISHED, State
from portal.payments.store import owner_of
from portal.providers.errors import UpstreamError
from portal.providers.fbs_adapter import FbsTokenRejected
from portal.services.debts import adapter_token
from portal.web.embed_params import parent_url
from portal.web.libraries import library_or_404
from portal.web.urls import language_links_keep

log = logging.getLogger(__name__)
bp = Blueprint("payments", __name__)

Page = str | tuple[str, int] | BaseResponse


def order_owner(library: Library) -> str | None:
    """The signed-in citizen's owner hash at the library, or None (signed out, or not looked up there)."""
    if citizen_session.current_citizen() is None:
        return None
    patron_id = citizen_session.remembered_patron(library.agency_id)
    if not isinstance(patron_id, int):
        return None
    return owner_of(runtime().settings.secret_key, library.agency_id, patron_id)


@bp.post("/<slug:slug>/betaling/")
def start(slug: str) -> Page:
    """ "Betal med kort": the chosen fees, from FBS now, to Nexi's hosted payment page."""
    library = library_or_404(slug)
    patron_id = citizen_session.remembered_patron(library.agency_id)
    if citizen_session.current_citizen() is None or not isinstance(patron_id, int):
        return redirect(url_for("citizen.overview", slug=slug), 303)
    if not _csrf_ok():
        # Most often a page from before a new sign-in (in another tab): a way back, not a dead end.
        return _refused(library, "stale_form", 400)
    chosen = _chosen_fees()
    if not chosen:
        return _refused(library, "none_chosen", 400)
    owner = owner_of(runtime().settings.secret_key, library.agency_id, patron_id)
    db.release()
    try:
        token = adapter_token(library, citizen_session.current_citizen())  # DBC's adapter (issue 10)
        started = checkout.start(runtime(), library, patron_id, owner, chosen, adapter_token=token)
    except NotPayable:
        return _refused(library, "not_payable", 409)
    except store.FeesHeld as exc:
        return _refused(library, "in_payment", 409, exc.order_id)
    except PaymentsUnavailable:
        return _refused(library, "unavailable", 404)
    except FbsTokenRejected:  # DBC's adapter no longer takes the sign-in: nothing was written
        return _refused(library, "sign_in_again", 401)
    except (checkout.CheckoutFailed, UpstreamError) as exc:
        log.warning("library=%s payment could not start: %s", slug, exc)
        return _refused(library, "failed", 503)
    _remember_way_back(library, started.order_id)
    return redirect(started.redirect_url, 303)


@bp.get("/<slug:slug>/betaling/<order_id>/")
@language_links_keep("paymentid")  # back from the hosted page: the same page in the other language
def order(slug: str, order_id: str) -> Page:
    """The order: "received, being registered" until done, then the outcome and the receipt."""
    library, row = _owned(slug, order_id)
    # Back from the hosted page (whatever payment id it carries: only this citizen's order is touched).
    came_back = "paymentid" in request.args
    if came_back:
        checkout.returned(runtime(), row)
    return _order_page(library, row, came_back=came_back)


def _order_page(library: Library, row: PaymentOrderRow, *, came_back: bool, stale: bool = False) -> Page:
    # The refresh link and the script's reload keep the query, so "came back" stays true.
    refresh_url = url_for("payments.order", slug=library.slug, order_id=row.order_id)
    if came_back:
        refresh_url = url_for(
            "payments.order", slug=library.slug, order_id=row.order_id, paymentid=request.args["paymentid"]
        )
    page = _page(
        "payment/order.html",
        library,
        order=row,
        lines=checkout.fee_lines(row),
        FeeResult=checkout.FeeResult,
        State=State,
        finished=row.state in FINISHED,
        came_back=came_back,
        refresh_url=refresh_url,
        way_back=_way_back(library, row.order_id),
        csrf_token=citizen_session.csrf_token(),
        stale=stale,
    )
    return (page, 400) if stale else page


@bp.post("/<slug:slug>/betaling/<order_id>/annuller")
def cancel(slug: str, order_id: str) -> Page:
    """The order page's "Cancel the payment": for a payment window closed without pressing cancel there.

    As Nexi's cancelUrl: the checkout ends once the gateway shows nothing reserved (money already
    reserved in another window is still registered and charged, never lost), and its fees are
    payable again at once rather than when the checkout expires.
    """
    library, row = _owned(slug, order_id)
    if not _csrf_ok():  # a page from before a new sign-in: shown afresh, nothing cancelled
        return _order_page(library, row, came_back=False, stale=True)
    checkout.cancel_requested(runtime(), row)
    return redirect(url_for("payments.order", slug=slug, order_id=order_id), 303)


@bp.get("/<slug:slug>/betaling/<order_id>/annuller")
def cancelled(slug: str, order_id: str) -> Page:
    """Nexi's cancelUrl: the citizen left the hosted page without paying."""
    _library, row = _owned(slug, order_id)
    checkout.cancel_requested(runtime(), row)
    return redirect(url_for("payments.order", slug=slug, order_id=order_id), 303)


@bp.get("/<slug:slug>/betaling/<order_id>/status")
def status(slug: str, order_id: str) -> Page:
    """The order's state, for the page's script that reloads it once the state changes."""
    _library, row = _owned(slug, order_id)
    response = jsonify(state=row.state, finished=row.state in FINISHED)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post(checkout.WEBHOOK_PATH)
def webhook() -> Page:
    """Nexi's webhook: verified, stored, answered; the work happens in the worker."""
    answer = webhooks.receive(runtime(), request.headers.get("Authorization"), request.get_data(cache=False))
    return "", answer.value


def _owned(slug: str, order_id: str) -> tuple[Library, PaymentOrderRow]:
    library = library_or_404(slug)
    owner = order_owner(library)
    if owner is None:
        # Signed out (the session ended while paying) or not yet looked up at this library: the
        # overview signs in, finds the borrower and lists the order. Nothing about it is shown here.
        abort(redirect(url_for("citizen.overview", slug=slug), 303))
    row = checkout.owned_order(runtime(), order_id, owner, slug)
    if row is None:
        abort(404)
    return library, row


# order id -> the library web page (CMS) the payment was started from inside its iframe. In the
# server-side session, not the database: it is only the citizen's way back, for this visit.
_WAY_BACK = "payment_way_back"
_MAX_WAYS_BACK = 5


def _remember_way_back(library: Library, order_id: str) -> None:
    """Keep the CMS page the embedded form named, when it is on one of the library's sites."""
    parent = parent_url(request.form.get("parent"), library.embed_origins)
    if parent is None:
        return
    ways = {**session.get(_WAY_BACK, {}), order_id: parent}
    session[_WAY_BACK] = dict(list(ways.items())[-_MAX_WAYS_BACK:])


def _way_back(library: Library, order_id: str) -> str | None:
    """The CMS page to return to after this order, checked again (the library's sites may have changed)."""
    stored = session.get(_WAY_BACK, {}).get(order_id)
    return parent_url(stored, library.embed_origins) if isinstance(stored, str) else None


def _chosen_fees() -> list[int]:
    chosen = []
    for raw in request.form.getlist("fee"):
        if not ascii_digits(raw, most=12):
            abort(400)
        chosen.append(int(raw))
    return chosen


def _csrf_ok() -> bool:
    sent = request.form.get("csrf_token", "")
    if hmac.compare_digest(sent.encode(), citizen_session.csrf_token().encode()):
        return True
    log.warning("payment form refused: %s CSRF token", "wrong" if sent else "no")
    return False


def _refused(library: Library, reason: str, status: int, order_id: str | None = None) -> tuple[str, int]:
    return _page("payment/refused.html", library, reason=reason, order_id=order_id), status


def _page(template: str, library: Library, **context: object) -> str:
    """A payment page in the citizen's frame (the header names who is signed in)."""
    return render_template(template, library=library, citizen=citizen_session.current_citizen(), **context)


@dataclass(frozen=True)
class CardChoice:
    """One fee of "Betales her" in the card form: a checkbox, or shown as held by a live payment."""

    row: DebtRow
    fee_id: int
    amount_ore: int  # for the script that sums the ticked fees: whole øre, never a float
    held: bool  # in a payment being processed: not selectable
    held_by: str | None  # that payment's order id, when it is the citizen's own


def card_payment_offered(library: Library) -> bool:
    """The library takes card payment on the page: the texts may promise it."""
    return runtime().offers_card_payment(library)


def card_payment_context(library: Library, overview: DebtOverview) -> dict[str, object] | None:
    """What the overview's "Pay by card" form needs, or None when the library takes no card payment here."""
    rt = runtime()
    if not rt.offers_card_payment(library):
        return None  # asked first: cheaper than the owner's hash, and most views end here
    owner = order_owner(library)
    if owner is None:
        return None
    rows = [(row, row.fee) for row in overview.payable_here.rows if checkout.payable_by_card(row.fee)]
    with rt.sessions() as session:
        held = store.held_fees(session, library.agency_id, [fee.fee_id for _row, fee in rows if fee is not None])
    live, recent = checkout.citizen_orders(rt, library, owner)
    own = {row.order_id for row in live}
    choices = [
        CardChoice(
            row,
            fee.fee_id,
            money.as_ore(fee.amount),
            fee.fee_id in held,
            held[fee.fee_id] if held.get(fee.fee_id) in own else None,
        )
        for row, fee in rows
        if fee is not None
    ]
    return {
        "choices": choices,
        "selectable": [choice for choice in choices if not choice.held],
        "total_ore": sum(choice.amount_ore for choice in choices if not choice.held),
        "live": live,
        "recent": recent,
        "csrf_token": citizen_session.csrf_token(),
    }
