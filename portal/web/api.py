"""JSON for the same data as the page: GET /api/v1/libraries/<slug>/overview."""
from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from flask import Blueprint, jsonify

from portal.auth import citizen as citizen_session
from portal.domain.fees import Fee
from portal.domain.overview import Section
from portal.providers.errors import UpstreamError
from portal.services.debts import citizen_debts
from portal.web.citizen import session_memo
from portal.web.libraries import library_or_404

log = logging.getLogger(__name__)
bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _fee(fee: Fee) -> dict[str, Any]:
    return {
        "fee_id": fee.fee_id,
        "type": fee.type.value,
        "reason": fee.reason,
        "amount": _amount(fee.amount),
        "created": fee.created.isoformat(),
        "due": fee.due.isoformat() if fee.due else None,
        "payable_by_client": fee.payable_by_client,
        "materials": [{"record_id": m.record_id, "item_number": m.item_number} for m in fee.materials],
    }


def _section(section: Section) -> dict[str, Any]:
    return {"total": _amount(section.total), "count": section.count, "fees": [_fee(f) for f in section.fees]}


@bp.get("/libraries/<slug:slug>/overview")
def overview(slug: str):  # type: ignore[no-untyped-def]
    """The signed-in citizen's overview; 401 signed out, 404 not a borrower, 503 upstream down."""
    library = library_or_404(slug)
    citizen = citizen_session.current_citizen()
    if citizen is None:
        return jsonify(error="not_signed_in", message="Sign in at /%s/login first." % slug), 401
    try:
        debts = citizen_debts(library, citizen.cpr, session_memo())
    except UpstreamError as exc:
        log.warning("library=%s api overview unavailable: %s", library.slug, exc)
        return jsonify(error="upstream_unavailable", providers={exc.provider: "error"}), 503
    if debts is None:
        return jsonify(error="not_a_borrower", library=library.slug), 404
    ov = debts.overview
    return jsonify(
        library=library.slug,
        cutoff_date=library.cutoff_date.isoformat(),
        blocked_for_fees=debts.patron.blocked_for_fees,
        payable_here=_section(ov.payable_here),
        handed_over=_section(ov.handed_over),
        total=_amount(ov.total),
        providers={"fbs": "ok"},
    )
