"""Without PORTAL_DEBTOR_BASE_URL the portal behaves as before: FBS's figures, no debtor status."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.login import http_login
from tests.support.stack import Stack, start_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = start_stack(tmp_path_factory.mktemp("no-debtor"), PORTAL_DEBTOR_BASE_URL="")
    stack.app.config["SESSION_COOKIE_SECURE"] = False
    yield stack
    stack.stop()


def test_page_is_fbs_only(client: httpx.Client, stack: Stack) -> None:
    assert stack.app.config["PORTAL_SETTINGS"].debtor_base_url is None
    page = http_login(client, stack.url, "demo-anne")
    html = page.text
    assert 'data-total="all">803,75' in html and 'data-total="handed-over">489,00' in html
    for absent in (
        "Status i Mit Betalingsoverblik",
        "Endnu ikke synlig",
        "afventer registrering",
        "Rykkergebyr",
        "kunne ikke hentes",
        "ikke med i totalen",
    ):
        assert absent not in html
    assert stack.debtor_state.call_count() == 0


def test_json_says_not_configured(client: httpx.Client, stack: Stack) -> None:
    http_login(client, stack.url, "demo-anne")
    body = client.get(f"{stack.url}/api/v1/libraries/lyngby/overview").json()
    assert body["providers"] == {"fbs": "ok", "debtor": "not_configured"}
    assert body["total"] == "803.75" and body["handed_over"]["total"] == "489.00"
    assert all(
        row["claim_id"] is None and row["note"] is None
        for row in body["handed_over"]["fees"] + body["payable_here"]["fees"]
    )
