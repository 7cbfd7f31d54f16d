"""GET /api/v1/libraries/<slug>/overview: the page's data as JSON."""

from __future__ import annotations

from decimal import Decimal

import httpx

from tests.support.login import http_login
from tests.support.stack import Stack


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
    assert by_id[502]["materials"] == [
        {"record_id": "27655033", "item_number": "3846661520"},
        {"record_id": "52530331", "item_number": "3850133211"},
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
