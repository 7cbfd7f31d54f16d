"""Demo citizens and their FBS data, shared by the dev IdP and the FBS simulator.

CPR numbers here are fictitious (day 01-31, month 13+ never valid is avoided on
purpose so CPR validators accept them; none belongs to a real person we know of).
Fees are raw FBS JSON (`FeeV2`) exactly as the external API sends them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LYNGBY = "DK-717300"
RODOVRE = "DK-717500"


@dataclass(frozen=True)
class DemoCitizen:
    """One person the dev IdP can sign in, and (optionally) their FBS records."""

    sub: str
    name: str
    cpr: str | None
    description: str                      # shown on the dev IdP's sign-in page
    patrons: dict[str, int] = field(default_factory=dict)   # agency id -> patron id


def _material(record: str, item: str, group: str = "standard") -> dict[str, Any]:
    return {"recordId": record, "materialItemNumber": item,
            "materialGroup": {"name": group, "description": "Standard materiale"}}


def _fee(fee_id: int, type_: str, reason: str, amount: float | int | str, created: str,
         payable: bool, due: str | None = None, materials: list[dict[str, Any]] | None = None,
         paid: str | None = None) -> dict[str, Any]:
    fee: dict[str, Any] = {"feeId": fee_id, "type": type_, "reasonMessage": reason, "amount": amount,
                           "creationDate": created, "payableByClient": payable,
                           "materials": materials or []}
    if due is not None:
        fee["dueDate"] = due
    if paid is not None:
        fee["paidDate"] = paid
    return fee


CITIZENS: tuple[DemoCitizen, ...] = (
    DemoCitizen("demo-anne", "Anne Andersen", "0101901111",
                "Gebyrer begge steder: betales her og i Mit Betalingsoverblik",
                {LYNGBY: 1001, RODOVRE: 2001}),
    DemoCitizen("demo-bent", "Bent Berg", "0202852222",
                "Spærret for gebyrer", {LYNGBY: 1002}),
    DemoCitizen("demo-clara", "Clara Christensen", "0303753333",
                "Ingen mellemværender", {LYNGBY: 1003, RODOVRE: 2003}),
    DemoCitizen("demo-dennis", "Dennis Dahl", "0404654444",
                "Ikke låner på biblioteket", {}),
    DemoCitizen("demo-eva", "Eva Eriksen", "0505955555",
                "Kun gebyrer i Mit Betalingsoverblik", {LYNGBY: 1005}),
    DemoCitizen("demo-frede", "Frede Fisker", None,
                "Login uden CPR-nummer (fejlside)", {}),
)

# patron id -> FeeV2 list. Lyngby's cut-off date is 2021-06-15: fees created on or
# after it were handed over (payableByClient false).
FEES: dict[int, list[dict[str, Any]]] = {
    1001: [
        _fee(501, "fee", "Gebyr (for sent)", 30, "2021-03-02", True, "2021-03-30",
             [_material("29830092", "3846990827")]),
        _fee(502, "compensation", "Erstatning", 249.5, "2020-11-19", True, "2020-12-17",
             [_material("27655033", "3846661520"), _material("52530331", "3850133211")]),
        _fee(503, "fee", "Gebyr (fjernlån)", "15.25", "2021-01-11", True, None, []),
        _fee(504, "xyz-unknown", "Administrationsgebyr", 20, "2021-05-03", True, "2021-06-01",
             [_material("22639862", "3846129855")]),
        _fee(505, "fee", "Gebyr (for sent)", 60, "2021-06-15", False, "2021-07-13",
             [_material("46651209", "5012556398")]),
        _fee(506, "compensation", "Erstatning", 399, "2023-09-04", False, "2023-10-02",
             [_material("62050021", "5231778801")]),
        _fee(507, "fee", "Gebyr (for sent)", 30, "2021-02-01", False, "2021-03-01",
             [_material("29830092", "3846990800")]),
        _fee(508, "fee", "Gebyr (for sent)", 30, "2020-08-01", True, "2020-08-29",
             [_material("29830092", "3846990811")], paid="2020-09-02"),
    ],
    1002: [
        _fee(521, "compensation", "Erstatning", 650, "2019-05-10", True, "2019-06-07",
             [_material("51980337", "3847012211")]),
        _fee(522, "fee", "Gebyr (for sent)", 60, "2021-04-22", True, "2021-05-20",
             [_material("51980337", "3847012212")]),
        _fee(523, "fee", "Gebyr (for sent)", 30, "2024-02-12", False, "2024-03-11",
             [_material("51980337", "3847012213")]),
    ],
    1003: [],
    1005: [
        _fee(551, "fee", "Gebyr (for sent)", 30, "2022-01-20", False, "2022-02-17",
             [_material("38400915", "5102998877")]),
        _fee(552, "fee", "Gebyr (fjernlån)", 45.75, "2022-08-09", False, None, []),
    ],
    2001: [
        _fee(601, "fee", "Gebyr (for sent)", 40, "2019-03-14", True, "2019-04-11",
             [_material("23915702", "4012345678")]),
        _fee(602, "fee", "Gebyr (for sent)", 40, "2020-01-08", False, "2020-02-05",
             [_material("23915702", "4012345679")]),
    ],
    2003: [],
}

# patron id -> FBS blockStatus list
BLOCKS: dict[int, list[dict[str, Any]]] = {
    1002: [{"blockedReason": "E", "blockedSince": "2024-03-12",
            "message": "Maksimalt gældsbeløb overskredet"}],
}


def citizen_by_sub(sub: str) -> DemoCitizen | None:
    return next((c for c in CITIZENS if c.sub == sub), None)
