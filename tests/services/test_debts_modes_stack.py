"""Both FBS access modes end to end: the live portal, Adgangsplatformen and FBS (adapter mode) simulators.

Anne signs in once with MitID (FBS read directly, by CPR number) and once through
Adgangsplatformen at a library reading FBS through DBC's adapter: the overview is the same.
Eva signs in with library card and PIN: no CPR number, so FBS through the adapter alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from portal.devtools.demo_data import LYNGBY
from portal.providers.setup import EXTENSION_KEY
from tests.support.login import http_login
from tests.support.stack import Stack, start_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("modes"), adgangsplatformen=True, fbs_adapter=True)
    yield running
    running.stop()


def library_login(stack: Stack, unique_id: str) -> httpx.Client:
    """Sign a new client in through the Adgangsplatformen simulator as `unique_id`."""
    client = httpx.Client(timeout=10, trust_env=False)
    start = client.get(f"{stack.url}/lyngby/login", params={"profile": "adgangsplatformen"})
    assert start.status_code in (302, 303), start.text
    authorize = start.headers["location"]
    fields = {name: values[0] for name, values in parse_qs(urlsplit(authorize).query).items()}
    chosen = client.post(authorize.split("?")[0], data={**fields, "user": unique_id})
    assert chosen.status_code in (302, 303), chosen.text
    back = client.get(chosen.headers["location"])
    assert back.status_code in (302, 303) and "error" not in back.headers["location"], back.text
    return client


def overview(stack: Stack, client: httpx.Client) -> dict[str, Any]:
    answer = client.get(f"{stack.url}/api/v1/libraries/lyngby/overview")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def forget_anne(stack: Stack) -> None:
    # Both modes share the cache entries of the same patron: drop them so each mode asks FBS.
    stack.app.extensions[EXTENSION_KEY].forget_patrons({LYNGBY: 1001})


def test_both_modes_give_anne_the_same_overview(stack: Stack) -> None:
    forget_anne(stack)
    with httpx.Client(timeout=10, trust_env=False) as mitid:
        http_login(mitid, stack.url, "demo-anne")
        direct = overview(stack, mitid)
    calls_direct = dict(stack.fbs_state.calls)
    forget_anne(stack)
    through_dbc = library_login(stack, "ap-anne-5f3a")
    adapter = overview(stack, through_dbc)
    through_dbc.close()
    assert adapter == direct and direct["payable_here"]["fees"] and direct["handed_over"]["fees"]
    assert direct["providers"] == {"fbs": "ok", "debtor": "ok"}
    # The second page was read through the adapter: no client login, no look-up by CPR number.
    assert stack.fbs_state.calls["preauthenticated"] == calls_direct["preauthenticated"] == 1
    assert stack.fbs_state.calls["fees"] == calls_direct["fees"] + 1


def test_a_card_and_pin_borrower_sees_fbs_debts_and_the_debtor_is_not_asked(stack: Stack) -> None:
    asked_before = stack.debtor_state.call_count()
    eva = library_login(stack, "ap-eva-9c21")
    body = overview(stack, eva)
    eva.close()
    assert body["providers"] == {"fbs": "ok", "debtor": "no_cpr"}
    assert body["payable_here"]["fees"] or body["handed_over"]["fees"]
    assert stack.debtor_state.call_count() == asked_before
