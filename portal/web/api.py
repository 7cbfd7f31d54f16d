"""JSON for the same data as the page: GET /api/v1/libraries/<slug>/overview, and /total ("du skylder")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Blueprint, jsonify

from portal.domain.fees import Material
from portal.domain.overview import DebtRow, DebtSection
from portal.domain.works import Work
from portal.libraries.library import Library
from portal.web.libraries import library_or_404
from portal.web.outcome import Outcome, Refused, Shown, debts_or_outcome

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _material(material: Material, works: Mapping[str, Work]) -> dict[str, Any]:
    """One material with the title the page shows beside it (templates/components/fees.html).

    The bibliographic fields are null when the title look-up failed, was not configured or did
    not know the record: a courtesy, like on the page; the fee and the totals never depend on it.
    """
    work = works.get(material.record_id) if material.record_id else None
    return {
        "record_id": material.record_id,
        "item_number": material.item_number,
        "title": work.title if work is not None else None,
        "creators": list(work.creators) if work is not None else None,
        "material_type": work.material_type if work is not None else None,
        "year": work.year if work is not None else None,
    }


def _row(row: DebtRow, works: Mapping[str, Work]) -> dict[str, Any]:
    """One row; FBS's fields as before, plus what the debtor system adds (null without a claim)."""
    fee, claim = row.fee, row.claim
    return {
        "fee_id": row.fee_id,
        "type": row.type.value,
        "reason": row.reason,
        "amount": _amount(row.amount),  # the debtor's figure when there is a claim
        "counted": row.counted,  # false: shown, but not in the section total
        "created": row.created.isoformat(),
        "due": _date(row.due),
        "payable_by_client": fee.payable_by_client if fee is not None else None,
        "materials": [_material(m, works) for m in row.materials],
        "claim_id": row.claim_id,
        "status": row.status.value if row.status is not None else None,
        "note": row.note.value if row.note is not None else None,
        "added_by_municipality": row.added_by_municipality,
        "origin_claim_id": claim.origin_claim_id if claim is not None else None,
        "origin_fee_id": row.origin.fee_id if row.origin is not None else None,
        "fbs_amount": _amount(fee.amount) if fee is not None else None,
        "paid": _date(row.paid),
    }


def _rows(rows: Iterable[DebtRow], works: Mapping[str, Work]) -> list[dict[str, Any]]:
    return [_row(row, works) for row in rows]


def _section(section: DebtSection, works: Mapping[str, Work]) -> dict[str, Any]:
    return {"total": _amount(section.total), "count": section.count, "fees": _rows(section.rows, works)}


class _Refusal(Exception):
    """The JSON answer when there are no figures to give (signed out, not a borrower, FBS failed…)."""

    def __init__(self, status: int, body: dict[str, object]) -> None:
        super().__init__(body.get("error"))
        self.status, self.body = status, body


@bp.errorhandler(_Refusal)
def _refusal(refusal: _Refusal):  # type: ignore[no-untyped-def]
    return jsonify(**refusal.body), refusal.status


def _refused(library: Library, refused: Refused) -> _Refusal:
    """Each outcome's status and body."""
    slug = library.slug
    answers: dict[Outcome, tuple[int, dict[str, object]]] = {
        Outcome.SIGNED_OUT: (401, {"error": "not_signed_in", "message": f"Sign in at /{slug}/login first."}),
        # DBC's adapter refused the sign-in's token (expired, or signed out at DBC): not an outage.
        Outcome.SIGN_IN_AGAIN: (401, {"error": "sign_in_again", "message": f"Sign in again at /{slug}/login."}),
        Outcome.UNAVAILABLE: (503, {"error": "upstream_unavailable", "providers": {refused.provider: "error"}}),
        # Card + PIN at a library that finds borrowers by CPR number: "not a borrower" would be false.
        Outcome.MITID_REQUIRED: (409, {"error": "mitid_required", "library": slug}),
        Outcome.NOT_BORROWER: (404, {"error": "not_a_borrower", "library": slug}),
    }
    status, body = answers[refused.outcome]
    return _Refusal(status, body)


def _signed_in_debts(library: Library, what: str) -> Shown:
    """The signed-in citizen's debts at `library` (perhaps a stale snapshot), or _Refusal saying why none."""
    result = debts_or_outcome(library, f"api {what}")
    if isinstance(result, Refused):
        raise _refused(library, result)
    return result


def _staleness(shown: Shown) -> dict[str, Any]:
    """`stale`: FBS failed and these are the figures shown at `as_of` (ISO 8601); false and null normally."""
    return {"stale": shown.stale, "as_of": shown.as_of.isoformat() if shown.as_of is not None else None}


@bp.get("/libraries/<slug:slug>/overview")
def overview(slug: str):  # type: ignore[no-untyped-def]
    """The signed-in citizen's overview; 401 signed out, 404 not a borrower, 409 MitID needed, 503 FBS down."""
    library = library_or_404(slug)
    shown = _signed_in_debts(library, "overview")
    debts, ov = shown.debts, shown.debts.overview
    return jsonify(
        library=library.slug,
        cutoff_date=library.cutoff_date.isoformat(),
        blocked_for_fees=debts.patron.blocked_for_fees,
        payable_here=_section(ov.payable_here, debts.works),
        handed_over=_section(ov.handed_over, debts.works),
        recently_paid=_rows(ov.recently_paid, debts.works),  # the last 30 days; in no total
        total=_amount(ov.total),
        providers=debts.providers,
        **_staleness(shown),
    )


@bp.get("/libraries/<slug:slug>/total")
def total(slug: str):  # type: ignore[no-untyped-def]
    """What the signed-in citizen owes, for a library web site's "du skylder"; exact to the øre.

    Refused as the overview is. When the debtor system failed or could not be asked (no CPR
    number), `complete` is false and `total` is null: FBS's figure alone is then given as
    `library_system_total`, never as the whole (municipal reminder fees and recent payments are
    not in it).
    """
    library = library_or_404(slug)
    shown = _signed_in_debts(library, "total")
    debts, ov = shown.debts, shown.debts.overview
    complete = debts.complete  # False also without a CPR number: the debtor system was not asked
    body: dict[str, Any] = {
        "library": library.slug,
        "complete": complete,
        "total": _amount(ov.total) if complete else None,
        "payable_here": _amount(ov.payable_here.total),
        "handed_over": _amount(ov.handed_over.total),
        "providers": debts.providers,
        **_staleness(shown),
    }
    if not complete:
        body["library_system_total"] = _amount(ov.total)
    return jsonify(body)
