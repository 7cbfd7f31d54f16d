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
    assert body["payable_here"]["total"] == "314.75"
    assert body["handed_over"]["total"] == "489.00"
    assert body["total"] == "803.75"
    here_ids = [fee["fee_id"] for fee in body["payable_here"]["fees"]]
    over_ids = [fee["fee_id"] for fee in body["handed_over"]["fees"]]
    assert sorted(here_ids) == [501, 502, 503, 504]
    assert sorted(over_ids) == [505, 506, 507]
    # Amounts are strings with two decimals, and the sections add up.
    for section in ("payable_here", "handed_over"):
        fees = body[section]["fees"]
        assert all(len(fee["amount"].split(".")[1]) == 2 for fee in fees)
        assert sum(Decimal(fee["amount"]) for fee in fees) == Decimal(body[section]["total"])
    by_id = {fee["fee_id"]: fee for fee in body["payable_here"]["fees"]}
    assert by_id[503] == {"fee_id": 503, "type": "fee", "reason": "Gebyr (fjernlån)", "amount": "15.25",
                          "created": "2021-01-11", "due": None, "payable_by_client": True, "materials": []}
    assert by_id[504]["type"] == "other"
    assert by_id[502]["materials"] == [{"record_id": "27655033", "item_number": "3846661520"},
                                       {"record_id": "52530331", "item_number": "3850133211"}]


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
