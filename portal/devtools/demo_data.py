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
from portal.services.preview_debts import EXAMPLE_FEES, claim_json, example_claims, fee_json, material_json

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


@dataclass(frozen=True)
class DemoLibraryUser:
    """One person the Adgangsplatformen simulator (portal.devtools.adgangsplatformen) signs in.

    `agencies`: DBC agency number ("717300") -> the userId there, as userinfo's `agencies` lists
    them (userIdType CPR when the userId is the CPR number, else LOCAL: a library card number).
    `patrons`: ISIL -> FBS patron id, for the FBS adapter simulator (userId -> patron).
    """

    unique_id: str
    name: str
    cpr: str | None  # in the attributes only where given (MitID through Adgangsplatformen)
    agencies: dict[str, str]
    description: str  # shown on the simulator's sign-in page
    card_pin: bool = False  # library card and PIN (idpUsed "borchk"), else MitID ("nemlogin")
    patrons: dict[str, int] = field(default_factory=dict)


# Adgangsplatformen's demo users: the same people as above, where they are FBS patrons already.
LIBRARY_LOGIN_USERS: tuple[DemoLibraryUser, ...] = (
    DemoLibraryUser(
        "ap-anne-5f3a",
        "Anne Andersen",
        "0101901111",
        {"717300": "0101901111", "717500": "0101901111"},
        "MitID gennem Adgangsplatformen (med CPR-nummer)",
        patrons={LYNGBY: 1001, RODOVRE: 2001},
    ),
    # A card + PIN login: no CPR number in the attributes, known by her card number at Lyngby.
    DemoLibraryUser(
        "ap-eva-9c21",
        "Eva Eriksen",
        None,
        {"717300": "3847100005"},
        "Bibliotekskort og pinkode (uden CPR-nummer)",
        card_pin=True,
        patrons={LYNGBY: 1005},
    ),
    # Registered only at another library (Gladsaxe): a valid login, but not at Lyngby or Rødovre.
    DemoLibraryUser(
        "ap-dennis-77e0",
        "Dennis Dahl",
        "0404654444",
        {"715700": "0404654444"},
        "Kun registreret på et andet bibliotek",
    ),
)


def library_user_by_id(unique_id: str) -> DemoLibraryUser | None:
    return next((u for u in LIBRARY_LOGIN_USERS if u.unique_id == unique_id), None)


# patron id -> FeeV2 list. Lyngby's cut-off date is 2021-06-15: fees created on or
# after it were handed over (payableByClient false).
FEES: dict[int, list[dict[str, Any]]] = {
    1001: list(EXAMPLE_FEES),
    1002: [
        fee_json(
            521,
            "compensation",
            "Erstatning",
            650,
            "2019-05-10",
            True,
            "2019-06-07",
            [material_json("51980337", "3847012211")],
        ),
        fee_json(
            522,
            "fee",
            "Gebyr (for sent)",
            60,
            "2021-04-22",
            True,
            "2021-05-20",
            [material_json("51980337", "3847012212")],
        ),
        fee_json(
            523,
            "fee",
            "Gebyr (for sent)",
            30,
            "2024-02-12",
            False,
            "2024-03-11",
            [material_json("51980337", "3847012213")],
        ),
    ],
    1003: [],
    1005: [
        fee_json(
            551,
            "fee",
            "Gebyr (for sent)",
            30,
            "2022-01-20",
            False,
            "2022-02-17",
            [material_json("38400915", "5102998877")],
        ),
        fee_json(552, "fee", "Gebyr (fjernlån)", 45.75, "2022-08-09", False, None, []),
    ],
    2001: [
        fee_json(
            601,
            "fee",
            "Gebyr (for sent)",
            40,
            "2019-03-14",
            True,
            "2019-04-11",
            [material_json("23915702", "4012345678")],
        ),
        fee_json(
            602,
            "fee",
            "Gebyr (for sent)",
            40,
            "2020-01-08",
            False,
            "2020-02-05",
            [material_json("23915702", "4012345679")],
        ),
        # Paid here a few days ago: shown under "Betalt for nylig". Relative to the day the
        # process started, so the demo stays recent.
        fee_json(
            603,
            "fee",
            "Gebyr (for sent)",
            25,
            "2019-02-01",
            True,
            "2019-03-01",
            [material_json("23915702", "4012345680")],
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


def debtor_claims(today: date) -> dict[int, list[dict[str, Any]]]:
    """patron id -> the claims the municipality's debtor system holds for that borrower.

    Consistent with FEES: only handed-over fees (payableByClient false) have claims. Payments
    are dated relative to `today` so "paid yesterday, not yet in FBS" stays true in the demo.
    The debtor system knows citizens by CPR number; the simulator maps them via CITIZENS.
    """
    return {
        1001: example_claims(today),
        1002: [
            # Part paid in Mit Betalingsoverblik: the debtor's 20.00 differs from FBS's 30.00.
            claim_json(
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
            claim_json("LTK-2022-0551", "Gebyr (for sent)", "2022-01-21", "30.00", "not_invoiced", fee_id=551),
            claim_json(
                "LTK-2022-0552", "Gebyr (fjernlån)", "2022-08-10", "45.75", "invoiced", fee_id=552, due="2022-09-07"
            ),
        ],
        2001: [
            claim_json(
                "RK-2020-0602", "Gebyr (for sent)", "2020-01-09", "40.00", "invoiced", fee_id=602, due="2020-02-19"
            ),
        ],
    }
