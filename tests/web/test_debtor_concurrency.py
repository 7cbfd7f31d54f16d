"""Proof, without timing anything, that one page asks FBS and the debtor system at the same time.

The stack's rendezvous holds FBS's fees call and the debtor's claims call until both have
arrived. A portal that called them one after the other would have its first call answered
503 after the rendezvous' timeout, and the page would fail or miss the debtor's status.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from portal.kvstore import store
from tests.support.login import http_login
from tests.support.stack import Stack


@pytest.fixture
def armed(stack: Stack) -> Iterator[Stack]:
    with stack.app.app_context():
        store.clear()  # cached answers would make no upstream calls at all
    stack.rendezvous.arm()
    yield stack
    stack.rendezvous.disarm()


def test_page_asks_both_upstreams_concurrently(client: httpx.Client, armed: Stack) -> None:
    fees_before = armed.fbs_state.call_count("fees")
    claims_before = armed.debtor_state.call_count("claims")
    page = http_login(client, armed.url, "demo-anne")
    assert page.status_code == 200
    assert armed.rendezvous.broken == 0
    # Both were really asked for this page, and both answers are on it.
    assert armed.fbs_state.call_count("fees") == fees_before + 1
    assert armed.debtor_state.call_count("claims") == claims_before + 1
    assert 'data-total="all">469,75' in page.text
    assert "Status fra Mit Betalingsoverblik kunne ikke hentes" not in page.text


def test_the_rendezvous_fails_an_upstream_asked_alone(armed: Stack) -> None:
    """The control: one upstream called on its own is not answered, so a sequential portal fails."""
    broken = armed.rendezvous.broken
    with httpx.Client(timeout=10) as raw:
        response = raw.post(
            f"{armed.debtor.url}/v1/libraries/DK-717300/claims/search",  # type: ignore[union-attr]
            json={"cpr": "0101901111"},
            headers={"Authorization": "Bearer x"},
        )
    assert response.status_code == 503 and armed.rendezvous.broken == broken + 1
