"""The editor's page preview: an example borrower's debts, built without a single HTTP call.

Product content, not a development tool: every library's preview shows the same example borrower
(Anne Andersen) with both sections, a reminder fee added by the municipality, a payment awaiting
registration, a fee not yet in Mit Betalingsoverblik and a recent payment — so an editor sees every
text and state of the page. Her fees keep their own FBS flags, whatever the previewed library's
cut-off date is. The data is raw FBS (`FeeV2`) and debtor-status API JSON and goes through the real
parsers, so the preview shows exactly what the live page would. The demo's simulators serve the same
borrower (portal.devtools.demo_data).

Her fees' materials are named as on a live page, with made-up titles (FBI API `Manifestation` JSON
through the real parser, the same as the demo's FBI simulator knows): the preview asks no
bibliographic service, so it shows titles whether or not the FBI API is configured or up.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from portal import clock
from portal.domain.fees import Patron
from portal.domain.merge import merge
from portal.domain.works import Work
from portal.libraries.library import Library
from portal.providers.debtor_parse import parse_claims
from portal.providers.fbi_parse import parse_manifestation
from portal.providers.fbs_parse import parse_fees
from portal.services.debts import CitizenDebts, ProviderStatus

__all__ = [
    "EXAMPLE_FEES",
    "EXAMPLE_NAME",
    "EXAMPLE_PATRON_ID",
    "EXAMPLE_WORKS",
    "claim_json",
    "example_claims",
    "example_works",
    "fee_json",
    "manifestation_json",
    "material_json",
    "preview_debts",
]

EXAMPLE_PATRON_ID = 1001
EXAMPLE_NAME = "Anne Andersen"


def preview_debts(library: Library) -> CitizenDebts:
    """The example borrower's debts as `citizen_debts` would return them for `library`."""
    today = clock.today()
    fees = parse_fees(json.dumps(EXAMPLE_FEES))
    raw_claims = {"agencyId": library.agency_id, "claims": example_claims(today)}
    claims = parse_claims(json.dumps(raw_claims), library.agency_id)
    overview = merge(fees, claims, library.cutoff_date, today)
    patron = Patron(EXAMPLE_PATRON_ID, EXAMPLE_NAME)
    return CitizenDebts(patron, overview, ProviderStatus.OK, works=example_works())


def example_works() -> dict[str, Work]:
    """The example fees' titles by record id, read as a live FBI answer would be."""
    parsed = {faust: parse_manifestation(item, faust) for faust, item in EXAMPLE_WORKS.items()}
    return {faust: work for faust, work in parsed.items() if work is not None}


# -- raw JSON as the upstreams send it ----------------------------------------------------------


def material_json(record: str, item: str, group: str = "standard") -> dict[str, Any]:
    return {
        "recordId": record,
        "materialItemNumber": item,
        "materialGroup": {"name": group, "description": "Standard materiale"},
    }


def fee_json(
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


def manifestation_json(title: str, creators: list[str], material_type: str, year: str) -> dict[str, Any]:
    """A Manifestation as the FBI API answers the fields the portal asks for (portal.providers.fbi)."""
    return {
        "titles": {"full": [title], "main": [title.split(":")[0]]},
        "creators": [{"display": name} for name in creators],
        "materialTypes": [{"materialTypeSpecific": {"display": material_type}}],
        "edition": {"publicationYear": {"display": year}},
    }


def claim_json(
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


# Lyngby's cut-off date is 2021-06-15: fees created on or after it were handed over
# (payableByClient false).
EXAMPLE_FEES: tuple[dict[str, Any], ...] = (
    fee_json(
        501, "fee", "Gebyr (for sent)", 30, "2021-03-02", True, "2021-03-30", [material_json("29830092", "3846990827")]
    ),
    fee_json(
        502,
        "compensation",
        "Erstatning",
        249.5,
        "2020-11-19",
        True,
        "2020-12-17",
        [material_json("27655033", "3846661520"), material_json("52530331", "3850133211")],
    ),
    fee_json(503, "fee", "Gebyr (fjernlån)", "15.25", "2021-01-11", True, None, []),
    fee_json(
        504,
        "xyz-unknown",
        "Administrationsgebyr",
        20,
        "2021-05-03",
        True,
        "2021-06-01",
        [material_json("22639862", "3846129855")],
    ),
    fee_json(
        505, "fee", "Gebyr (for sent)", 60, "2021-06-15", False, "2021-07-13", [material_json("46651209", "5012556398")]
    ),
    fee_json(
        506,
        "compensation",
        "Erstatning",
        399,
        "2023-09-04",
        False,
        "2023-10-02",
        [material_json("62050021", "5231778801")],
    ),
    fee_json(
        507, "fee", "Gebyr (for sent)", 30, "2021-02-01", False, "2021-03-01", [material_json("29830092", "3846990800")]
    ),
    fee_json(
        508,
        "fee",
        "Gebyr (for sent)",
        30,
        "2020-08-01",
        True,
        "2020-08-29",
        [material_json("29830092", "3846990811")],
        paid="2020-09-02",
    ),
)


# The example fees' materials by FAUST number (their record ids above). Made up: none describes a
# real book. Fee 507 and 508 share 29830092 with 501 (the same title lent again).
EXAMPLE_WORKS: dict[str, dict[str, Any]] = {
    "29830092": manifestation_json("Havet om natten", ["Karen Holm"], "bog", "2019"),
    "27655033": manifestation_json("Skovens stemmer : en lydfortælling", ["Mads Lind"], "lydbog (cd-mp3)", "2017"),
    "52530331": manifestation_json("Kagebogen for begyndere", ["Sofie Bager", "Peter Mel"], "bog", "2021"),
    "22639862": manifestation_json("Rejsen til Nordkap", ["Ole Vind"], "film (dvd)", "[2003]"),
    "46651209": manifestation_json("Fuglene i haven", ["Lise Ravn"], "bog", "2015"),
    "62050021": manifestation_json("Brætspil for hele familien", ["Dansk Spilforlag"], "spil", "2022"),
}


def example_claims(today: date) -> list[dict[str, Any]]:
    """The claims the municipality's debtor system holds for the example borrower.

    Only handed-over fees have claims. Payments are dated relative to `today`, so "paid
    yesterday, not yet in FBS" stays true.
    """
    yesterday = today - timedelta(days=1)
    return [
        # 505: reminded, and the municipality added a reminder fee the library never sees.
        claim_json(
            "LTK-2021-0505",
            "Gebyr (for sent)",
            "2021-06-16",
            "60.00",
            "reminder_sent",
            fee_id=505,
            due="2021-07-13",
        ),
        claim_json(
            "LTK-2021-0505-R1",
            "Rykkergebyr",
            "2021-07-20",
            "65.00",
            "invoiced",
            origin="LTK-2021-0505",
            due="2021-08-03",
        ),
        # 506: paid in Mit Betalingsoverblik yesterday; FBS still lists it as unpaid.
        claim_json(
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
        claim_json(
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
    ]
