"""Demo citizens, their FBS data and their claims in the debtor system.

Shared by the dev IdP, the FBS simulator, the debtor simulator and the editor's
preview. CPR numbers here are fictitious (day 01-31, month 13+ never valid is
avoided on purpose so CPR validators accept them; none belongs to a real person we
know of). Fees are raw FBS JSON (`FeeV2`) exactly as the external API sends them;
claims are raw debtor-status API JSON (docs/debtor-api.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from portal import clock

LYNGBY = "DK-717300"
RODOVRE = "DK-717500"


@dataclass(frozen=True)
class DemoCitizen:
    """One person the dev IdP can sign in, and (optionally) their FBS records."""

    sub: str
    name: str
    cpr: str | None
    description: str  # shown on the dev IdP's sign-in page
    patrons: dict[str, int] = field(default_factory=dict)  # agency id -> patron id


def _material(record: str, item: str, group: str = "standard") -> dict[str, Any]:
    return {
        "recordId": record,
        "materialItemNumber": item,
        "materialGroup": {"name": group, "description": "Standard materiale"},
    }


def _fee(
    fee_id: int,
    type_: str,
    reason: str,
    amount: float | int | str,
    created: str,
    payable: bool,
    due: str | None = None,
    materials: list[dict[str, Any]] | None = None,
    paid: str | None = None,
) -> dict[str, Any]:
    fee: dict[str, Any] = {
        "feeId": fee_id,
        "type": type_,
        "reasonMessage": reason,
        "amount": amount,
        "creationDate": created,
        "payableByClient": payable,
        "materials": materials or [],
    }
    if due is not None:
        fee["dueDate"] = due
    if paid is not None:
        fee["paidDate"] = paid
    return fee


CITIZENS: tuple[DemoCitizen, ...] = (
    DemoCitizen(
        "demo-anne",
        "Anne Andersen",
        "0101901111",
        "Gebyrer begge steder: betales her og i Mit Betalingsoverblik",
        {LYNGBY: 1001, RODOVRE: 2001},
    ),
    DemoCitizen("demo-bent", "Bent Berg", "0202852222", "Spærret for gebyrer", {LYNGBY: 1002}),
    DemoCitizen("demo-clara", "Clara Christensen", "0303753333", "Ingen mellemværender", {LYNGBY: 1003, RODOVRE: 2003}),
    DemoCitizen("demo-dennis", "Dennis Dahl", "0404654444", "Ikke låner på biblioteket", {}),
    DemoCitizen("demo-eva", "Eva Eriksen", "0505955555", "Kun gebyrer i Mit Betalingsoverblik", {LYNGBY: 1005}),
    DemoCitizen("demo-frede", "Frede Fisker", None, "Login uden CPR-nummer (fejlside)", {}),
)

# patron id -> FeeV2 list. Lyngby's cut-off date is 2021-06-15: fees created on or
# after it were handed over (payableByClient false).
FEES: dict[int, list[dict[str, Any]]] = {
    1001: [
        _fee(
            501, "fee", "Gebyr (for sent)", 30, "2021-03-02", True, "2021-03-30", [_material("29830092", "3846990827")]
        ),
        _fee(
            502,
            "compensation",
            "Erstatning",
            249.5,
            "2020-11-19",
            True,
            "2020-12-17",
            [_material("27655033", "3846661520"), _material("52530331", "3850133211")],
        ),
        _fee(503, "fee", "Gebyr (fjernlån)", "15.25", "2021-01-11", True, None, []),
        _fee(
            504,
            "xyz-unknown",
            "Administrationsgebyr",
            20,
            "2021-05-03",
            True,
            "2021-06-01",
            [_material("22639862", "3846129855")],
        ),
        _fee(
            505, "fee", "Gebyr (for sent)", 60, "2021-06-15", False, "2021-07-13", [_material("46651209", "5012556398")]
        ),
        _fee(
            506,
            "compensation",
            "Erstatning",
            399,
            "2023-09-04",
            False,
            "2023-10-02",
            [_material("62050021", "5231778801")],
        ),
        _fee(
            507, "fee", "Gebyr (for sent)", 30, "2021-02-01", False, "2021-03-01", [_material("29830092", "3846990800")]
        ),
        _fee(
            508,
            "fee",
            "Gebyr (for sent)",
            30,
            "2020-08-01",
            True,
            "2020-08-29",
            [_material("29830092", "3846990811")],
            paid="2020-09-02",
        ),
    ],
    1002: [
        _fee(
            521,
            "compensation",
            "Erstatning",
            650,
            "2019-05-10",
            True,
            "2019-06-07",
            [_material("51980337", "3847012211")],
        ),
        _fee(
            522, "fee", "Gebyr (for sent)", 60, "2021-04-22", True, "2021-05-20", [_material("51980337", "3847012212")]
        ),
        _fee(
            523, "fee", "Gebyr (for sent)", 30, "2024-02-12", False, "2024-03-11", [_material("51980337", "3847012213")]
        ),
    ],
    1003: [],
    1005: [
        _fee(
            551, "fee", "Gebyr (for sent)", 30, "2022-01-20", False, "2022-02-17", [_material("38400915", "5102998877")]
        ),
        _fee(552, "fee", "Gebyr (fjernlån)", 45.75, "2022-08-09", False, None, []),
    ],
    2001: [
        _fee(
            601, "fee", "Gebyr (for sent)", 40, "2019-03-14", True, "2019-04-11", [_material("23915702", "4012345678")]
        ),
        _fee(
            602, "fee", "Gebyr (for sent)", 40, "2020-01-08", False, "2020-02-05", [_material("23915702", "4012345679")]
        ),
        # Paid here a few days ago: shown under "Betalt for nylig". Relative to the day the
        # process started, so the demo stays recent.
        _fee(
            603,
            "fee",
            "Gebyr (for sent)",
            25,
            "2019-02-01",
            True,
            "2019-03-01",
            [_material("23915702", "4012345680")],
            paid=(clock.today() - timedelta(days=6)).isoformat(),
        ),
    ],
    2003: [],
}

# patron id -> FBS blockStatus list
BLOCKS: dict[int, list[dict[str, Any]]] = {
    1002: [{"blockedReason": "E", "blockedSince": "2024-03-12", "message": "Maksimalt gældsbeløb overskredet"}],
}


def citizen_by_sub(sub: str) -> DemoCitizen | None:
    return next((c for c in CITIZENS if c.sub == sub), None)


# -- the debtor system ---------------------------------------------------------------------


def _claim(
    claim_id: str,
    description: str,
    created: str,
    original: str,
    status: str,
    *,
    fee_id: int | None = None,
    origin: str | None = None,
    type_: str = "fee",
    outstanding: str | None = None,
    due: str | None = None,
    paid_amount: str = "0.00",
    paid: date | None = None,
) -> dict[str, Any]:
    claim: dict[str, Any] = {
        "claimId": claim_id,
        "type": type_,
        "description": description,
        "createdDate": created,
        "originalAmount": original,
        "outstandingAmount": original if outstanding is None else outstanding,
        "status": status,
        "dueDate": due,
        "paidAmount": paid_amount,
        "paidDate": paid.isoformat() if paid else None,
    }
    if fee_id is not None:
        claim["feeId"] = fee_id
    if origin is not None:
        claim["originClaimId"] = origin
    return claim


def debtor_claims(today: date) -> dict[int, list[dict[str, Any]]]:
    """patron id -> the claims the municipality's debtor system holds for that borrower.

    Consistent with FEES: only handed-over fees (payableByClient false) have claims. Payments
    are dated relative to `today` so "paid yesterday, not yet in FBS" stays true in the demo.
    The debtor system knows citizens by CPR number; the simulator maps them via CITIZENS.
    """
    yesterday = today - timedelta(days=1)
    return {
        1001: [
            # 505: reminded, and the municipality added a reminder fee the library never sees.
            _claim(
                "LTK-2021-0505",
                "Gebyr (for sent)",
                "2021-06-16",
                "60.00",
                "reminder_sent",
                fee_id=505,
                due="2021-07-13",
            ),
            _claim(
                "LTK-2021-0505-R1",
                "Rykkergebyr",
                "2021-07-20",
                "65.00",
                "invoiced",
                origin="LTK-2021-0505",
                due="2021-08-03",
            ),
            # 506: paid in Mit Betalingsoverblik yesterday; FBS still lists it as unpaid.
            _claim(
                "LTK-2023-0506",
                "Erstatning",
                "2023-09-05",
                "399.00",
                "reminder_sent",
                fee_id=506,
                type_="compensation",
                outstanding="0.00",
                due="2023-10-02",
                paid_amount="399.00",
                paid=yesterday,
            ),
            _claim(
                "LTK-2023-0506-R1",
                "Rykkergebyr",
                "2023-10-16",
                "65.00",
                "invoiced",
                origin="LTK-2023-0506",
                outstanding="0.00",
                due="2023-10-30",
                paid_amount="65.00",
                paid=yesterday,
            ),
            # 507 is handed over in FBS but has no claim yet: "not yet visible".
        ],
        1002: [
            # Part paid in Mit Betalingsoverblik: the debtor's 20.00 differs from FBS's 30.00.
            _claim(
                "LTK-2024-0523",
                "Gebyr (for sent)",
                "2024-02-13",
                "30.00",
                "sent_to_collection",
                fee_id=523,
                outstanding="20.00",
                due="2024-03-11",
                paid_amount="10.00",
                paid=date(2024, 3, 20),
            ),
        ],
        1005: [
            _claim("LTK-2022-0551", "Gebyr (for sent)", "2022-01-21", "30.00", "not_invoiced", fee_id=551),
            _claim(
                "LTK-2022-0552", "Gebyr (fjernlån)", "2022-08-10", "45.75", "invoiced", fee_id=552, due="2022-09-07"
            ),
        ],
        2001: [
            _claim("RK-2020-0602", "Gebyr (for sent)", "2020-01-09", "40.00", "invoiced", fee_id=602, due="2020-02-19"),
        ],
    }
