"""GET /api/v1/libraries/<slug>/overview: the page's data as JSON."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from portal import kvstore
from tests.support.login import http_login
from tests.support.stack import Stack, start_stack

NO_WORK = {"title": None, "creators": None, "material_type": None, "year": None}


def overview(client: httpx.Client, stack: Stack, slug: str = "lyngby") -> httpx.Response:
    return client.get(f"{stack.url}/api/v1/libraries/{slug}/overview")


def test_signed_out_is_401(client: httpx.Client, stack: Stack) -> None:
    response = overview(client, stack)
    assert response.status_code == 401
    assert response.json()["error"] == "not_signed_in"


def test_unknown_library_is_404_json(client: httpx.Client, stack: Stack) -> None:
    response = client.get(f"{stack.url}/api/v1/libraries/atlantis/overview")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")


def test_overview_of_anne(client: httpx.Client, stack: Stack) -> None:
    http_login(client, stack.url, "demo-anne")
    response = overview(client, stack)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["library"] == "lyngby"
    assert body["cutoff_date"] == "2021-06-15"
    assert body["providers"] == {"fbs": "ok", "debtor": "ok"}
    assert body["payable_here"]["total"] == "314.75"
    # 505 (60) + its reminder fee (65) + 507 (30, not yet in the debtor system); 506 is paid
    # in Mit Betalingsoverblik and awaits registration in FBS: shown, not counted.
    assert body["handed_over"]["total"] == "155.00"
    assert body["total"] == "469.75"
    here_ids = [fee["fee_id"] for fee in body["payable_here"]["fees"]]
    over_ids = [(fee["fee_id"], fee["claim_id"]) for fee in body["handed_over"]["fees"]]
    assert sorted(here_ids) == [501, 502, 503, 504]
    assert over_ids == [(507, None), (505, "LTK-2021-0505"), (None, "LTK-2021-0505-R1"), (506, "LTK-2023-0506")]
    assert body["handed_over"]["count"] == 4
    # Amounts are strings with two decimals, and the sections add up (counted rows only).
    for section in ("payable_here", "handed_over"):
        fees = body[section]["fees"]
        assert all(len(fee["amount"].split(".")[1]) == 2 for fee in fees)
        assert sum(Decimal(fee["amount"]) for fee in fees if fee["counted"]) == Decimal(body[section]["total"])
    by_id = {fee["fee_id"]: fee for fee in body["payable_here"]["fees"]}
    assert by_id[503] == {
        "fee_id": 503,
        "type": "fee",
        "reason": "Gebyr (fjernlån)",
        "amount": "15.25",
        "created": "2021-01-11",
        "due": None,
        "payable_by_client": True,
        "materials": [],
        "claim_id": None,
        "status": None,
        "note": None,
        "added_by_municipality": False,
        "origin_claim_id": None,
        "origin_fee_id": None,
        "fbs_amount": "15.25",
        "paid": None,
        "counted": True,
    }
    assert by_id[504]["type"] == "other"
    # This stack has no FBI API: the materials carry no titles, their fields are null.
    assert by_id[502]["materials"] == [
        {**NO_WORK, "record_id": "27655033", "item_number": "3846661520"},
        {**NO_WORK, "record_id": "52530331", "item_number": "3850133211"},
    ]
    over = {(fee["fee_id"], fee["claim_id"]): fee for fee in body["handed_over"]["fees"]}
    reminded = over[(505, "LTK-2021-0505")]
    assert (reminded["status"], reminded["due"], reminded["counted"]) == ("reminder_sent", "2021-07-13", True)
    reminder = over[(None, "LTK-2021-0505-R1")]
    assert reminder["added_by_municipality"] and reminder["note"] == "added_by_municipality"
    assert (reminder["origin_fee_id"], reminder["origin_claim_id"], reminder["amount"]) == (
        505,
        "LTK-2021-0505",
        "65.00",
    )
    awaiting = over[(506, "LTK-2023-0506")]
    assert (awaiting["note"], awaiting["counted"], awaiting["amount"]) == ("awaiting_registration", False, "399.00")
    assert awaiting["paid"] is not None
    assert over[(507, None)]["note"] == "not_yet_in_debtor_system" and over[(507, None)]["status"] is None
    # The reminder fee paid in Mit Betalingsoverblik yesterday; the old FBS payment (508) is not recent.
    assert [(row["claim_id"], row["amount"], row["counted"]) for row in body["recently_paid"]] == [
        ("LTK-2023-0506-R1", "65.00", False)
    ]


def test_not_a_borrower_is_404(client: httpx.Client, stack: Stack) -> None:
    http_login(client, stack.url, "demo-dennis")
    response = overview(client, stack)
    assert response.status_code == 404
    assert response.json()["error"] == "not_a_borrower"


def test_fbs_down_is_503_without_figures(client: httpx.Client, stack: Stack) -> None:
    stack.fbs_state.fail_next(50)
    try:
        http_login(client, stack.url, "demo-clara", slug="rodovre")
        response = overview(client, stack, "rodovre")
    finally:
        stack.fbs_state.reset_faults()
    assert response.status_code == 503
    body = response.json()
    assert body["providers"] == {"fbs": "error"}
    assert "total" not in body and "payable_here" not in body


def test_where_the_debtor_system_says_less_than_fbs_its_figure_is_what_is_owed(
    client: httpx.Client, stack: Stack
) -> None:
    # Bent's fee 523 is 30.00 in FBS; 10.00 of it was paid in Mit Betalingsoverblik, 20.00 is left.
    http_login(client, stack.url, "demo-bent")
    body = overview(client, stack).json()
    [row] = [fee for fee in body["handed_over"]["fees"] if fee["fee_id"] == 523]
    assert (row["amount"], row["fbs_amount"], row["claim_id"], row["counted"]) == (
        "20.00",
        "30.00",
        "LTK-2024-0523",
        True,
    )
    assert body["handed_over"]["total"] == "20.00"
    # 650.00 + 60.00 still payable here, plus the debtor's 20.00 — never FBS's 30.00.
    assert body["payable_here"]["total"] == "710.00"
    assert body["total"] == "730.00"


# -- the fees' titles (issue 9): what the page shows beside each material ------------------------


@pytest.fixture(scope="module")
def fbi_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = start_stack(tmp_path_factory.mktemp("api-fbi"), fbi=True)
    stack.app.config["SESSION_COOKIE_SECURE"] = False  # as in tests/web/conftest.py
    yield stack
    stack.stop()


def materials_by_fee(body: dict[str, Any]) -> dict[int, list[dict[str, Any]]]:
    sections = [*body["payable_here"]["fees"], *body["handed_over"]["fees"], *body["recently_paid"]]
    return {fee["fee_id"]: fee["materials"] for fee in sections if fee["fee_id"] is not None}


def anne_with_fbi(stack: Stack) -> dict[str, Any]:
    """Anne's overview from a stack with the FBI simulator, asked afresh (no titles cached)."""
    kvstore.backend(stack.app).clear()
    with httpx.Client(timeout=10) as client:
        http_login(client, stack.url, "demo-anne")
        response = overview(client, stack)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_materials_carry_the_titles_the_page_shows(fbi_stack: Stack) -> None:
    materials = materials_by_fee(anne_with_fbi(fbi_stack))
    assert materials[502] == [
        {
            "record_id": "27655033",
            "item_number": "3846661520",
            "title": "Skovens stemmer : en lydfortælling",
            "creators": ["Mads Lind"],
            "material_type": "lydbog (cd-mp3)",
            "year": 2017,
        },
        {
            "record_id": "52530331",
            "item_number": "3850133211",
            "title": "Kagebogen for begyndere",
            "creators": ["Sofie Bager", "Peter Mel"],
            "material_type": "bog",
            "year": 2021,
        },
    ]
    # "[2003]" in FBI is the year 2003, as on the page; a fee without materials has none.
    assert materials[504][0]["year"] == 2003 and materials[504][0]["material_type"] == "film (dvd)"
    assert materials[503] == []


def test_a_record_fbi_does_not_know_has_null_fields(fbi_stack: Stack) -> None:
    assert fbi_stack.fbi_state is not None
    unknown = fbi_stack.fbi_state.works.pop("46651209")
    try:
        materials = materials_by_fee(anne_with_fbi(fbi_stack))
    finally:
        fbi_stack.fbi_state.works["46651209"] = unknown
    assert materials[505] == [{**NO_WORK, "record_id": "46651209", "item_number": "5012556398"}]
    assert materials[501][0]["title"] == "Havet om natten"  # the others are still named


def test_fbi_down_leaves_the_titles_null_and_the_fees_and_totals_as_they_are(fbi_stack: Stack) -> None:
    assert fbi_stack.fbi_state is not None
    titled = anne_with_fbi(fbi_stack)
    fbi_stack.fbi_state.fail_next(50, status=503)
    try:
        down = anne_with_fbi(fbi_stack)
    finally:
        fbi_stack.fbi_state.reset_faults()
    assert all(
        material == {**NO_WORK, "record_id": material["record_id"], "item_number": material["item_number"]}
        for materials in materials_by_fee(down).values()
        for material in materials
    )
    assert materials_by_fee(down).keys() == materials_by_fee(titled).keys()  # every fee still listed
    for key in ("total", "payable_here", "handed_over"):
        totals = (down[key], titled[key]) if key == "total" else (down[key]["total"], titled[key]["total"])
        assert totals[0] == totals[1]
    assert down["total"] == "469.75"


def test_without_fbi_configured_the_titles_are_null(client: httpx.Client, stack: Stack) -> None:
    http_login(client, stack.url, "demo-anne")
    body = overview(client, stack).json()
    materials = [material for materials in materials_by_fee(body).values() for material in materials]
    assert materials and all(material["title"] is None and material["creators"] is None for material in materials)
    assert body["total"] == "469.75"
