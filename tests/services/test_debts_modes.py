"""citizen_debts in both FBS access modes, against the FBS and debtor simulators over real HTTP.

Direct mode (the portal's client login, the patron found by CPR number) and DBC's adapter (the
borrower's Adgangsplatformen token) read the same FBS, so they must give the same overview; a
borrower without a CPR number is never asked for at the debtor system.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date

import pytest
from cachelib import SimpleCache

from portal.devtools import debtor_sim
from portal.devtools.demo import DEV_DEBTOR_API_KEY
from portal.devtools.demo_data import LYNGBY
from portal.libraries.library import ADGANGSPLATFORMEN, FBS_DBC_ADAPTER, MITID, Library
from portal.providers.fbs_adapter import FbsTokenRejected
from portal.providers.upstreams import Upstreams
from portal.services.debts import Borrower, MitIdRequired, PatronMemo, ProviderStatus, citizen_debts
from tests.providers.test_fbs_adapter_client import (
    ANNE_CPR,
    ANNE_TOKEN,
    EXPIRED_TOKEN,
    KIM,
    KIM_TOKEN,
    AdapterSim,
    running_adapter_sim,
)
from tests.support.settings import test_settings

ADAPTER_LIBRARY = Library(
    slug="lyngby",
    name="Lyngby",
    agency_id=LYNGBY,
    cutoff_date=date(2021, 6, 15),
    sign_in=(MITID, ADGANGSPLATFORMEN),
    fbs_access=FBS_DBC_ADAPTER,
)
DIRECT_LIBRARY = replace(ADAPTER_LIBRARY, fbs_access="direct")
MISSING = object()

ANNE_MITID = Borrower(cpr=ANNE_CPR, profile=MITID)
ANNE_ADAPTER = Borrower(cpr=ANNE_CPR, access_token=ANNE_TOKEN, profile=ADGANGSPLATFORMEN)
KIM_CARD_AND_PIN = Borrower(cpr=None, access_token=KIM_TOKEN, profile=ADGANGSPLATFORMEN)


@dataclass
class Sims:
    fbs: AdapterSim
    debtor: debtor_sim.SimState
    debtor_url: str


@pytest.fixture
def sims() -> Iterator[Sims]:
    state = debtor_sim.SimState()
    server = debtor_sim.start_debtor_sim("127.0.0.1", 0, state)
    with running_adapter_sim() as fbs:
        yield Sims(fbs, state, f"http://127.0.0.1:{server.port}")
    debtor_sim.stop_debtor_sim(server)


def upstreams(sims: Sims, *, debtor: bool = True) -> Upstreams:
    """Fresh upstreams with an empty cache of their own: each mode really asks FBS."""
    env = {"PORTAL_FBS_BASE_URL": sims.fbs.url, "PORTAL_FBS_ADAPTER_BASE_URL": sims.fbs.url}
    if debtor:
        env |= {"PORTAL_DEBTOR_BASE_URL": sims.debtor_url, "PORTAL_DEBTOR_API_KEY": DEV_DEBTOR_API_KEY}
    return Upstreams(test_settings(**env), SimpleCache())


def memo() -> tuple[PatronMemo, dict[str, object]]:
    store: dict[str, object] = {}
    return PatronMemo(get=lambda agency: store.get(agency, MISSING), remember=store.__setitem__, missing=MISSING), store


def test_both_modes_give_the_same_overview_for_the_same_borrower(sims: Sims) -> None:
    direct_memo, direct_store = memo()
    direct = citizen_debts(upstreams(sims), DIRECT_LIBRARY, ANNE_MITID, direct_memo)
    assert sims.fbs.state.calls["preauthenticated"] == 1 and sims.fbs.userinfo.asked == {}
    adapter_memo, adapter_store = memo()
    adapter = citizen_debts(upstreams(sims), ADAPTER_LIBRARY, ANNE_ADAPTER, adapter_memo)
    assert sims.fbs.state.calls["preauthenticated"] == 1  # the adapter found her by her token
    assert sims.fbs.userinfo.asked[ANNE_TOKEN] >= 1
    assert direct is not None and adapter is not None
    assert adapter.overview == direct.overview
    assert adapter.patron == direct.patron
    assert adapter.overview.total == direct.overview.total and direct.overview.total > 0
    assert adapter.providers == direct.providers == {"fbs": "ok", "debtor": "ok"}
    assert direct_store == adapter_store == {LYNGBY: 1001}
    assert sims.debtor.call_count("claims") == 2  # asked in both modes: she gave her CPR number


def test_a_borrower_without_cpr_is_not_asked_for_at_the_debtor_system(sims: Sims) -> None:
    patron_memo, store = memo()
    debts = citizen_debts(upstreams(sims), ADAPTER_LIBRARY, KIM_CARD_AND_PIN, patron_memo)
    assert debts is not None and debts.patron.patron_id == KIM
    assert sims.debtor.call_count() == 0
    assert debts.debtor is ProviderStatus.NO_CPR
    assert debts.providers == {"fbs": "ok", "debtor": "no_cpr"}
    assert not debts.complete  # FBS alone is not the whole debt
    assert not debts.overview.debtor_known
    assert {row.fee_id for row in debts.overview.rows()} and store == {LYNGBY: KIM}


def test_without_a_debtor_system_no_cpr_is_simply_not_configured(sims: Sims) -> None:
    debts = citizen_debts(upstreams(sims, debtor=False), ADAPTER_LIBRARY, KIM_CARD_AND_PIN, memo()[0])
    assert debts is not None and debts.debtor is ProviderStatus.NOT_CONFIGURED and debts.complete


def test_direct_mode_without_cpr_asks_for_mitid_not_not_a_borrower(sims: Sims) -> None:
    patron_memo, store = memo()
    with pytest.raises(MitIdRequired):
        citizen_debts(upstreams(sims), DIRECT_LIBRARY, KIM_CARD_AND_PIN, patron_memo)
    assert store == {}  # nothing remembered: "not a borrower" would be false
    assert sims.fbs.state.call_count() == 0 and sims.debtor.call_count() == 0


def test_a_mitid_borrower_at_an_adapter_library_is_read_directly(sims: Sims) -> None:
    debts = citizen_debts(upstreams(sims), ADAPTER_LIBRARY, ANNE_MITID, memo()[0])
    assert debts is not None and debts.patron.patron_id == 1001
    assert sims.fbs.state.calls["preauthenticated"] == 1 and sims.fbs.userinfo.asked == {}


def test_an_expired_token_is_token_rejected_not_fbs_down(sims: Sims) -> None:
    expired = replace(KIM_CARD_AND_PIN, access_token=EXPIRED_TOKEN)
    patron_memo, store = memo()
    with pytest.raises(FbsTokenRejected):
        citizen_debts(upstreams(sims), ADAPTER_LIBRARY, expired, patron_memo)
    assert store == {}


def test_the_patron_id_is_remembered_and_the_next_page_comes_from_the_cache(sims: Sims) -> None:
    up = upstreams(sims)
    patron_memo, store = memo()
    first = citizen_debts(up, ADAPTER_LIBRARY, KIM_CARD_AND_PIN, patron_memo)
    second = citizen_debts(up, ADAPTER_LIBRARY, KIM_CARD_AND_PIN, patron_memo)
    assert first == second and store == {LYNGBY: KIM}
    assert sims.fbs.state.calls["patron"] == 1 and sims.fbs.state.calls["fees"] == 1


def test_neither_token_nor_cpr_is_in_the_borrowers_repr() -> None:
    assert ANNE_TOKEN not in repr(ANNE_ADAPTER) and ANNE_CPR not in repr(ANNE_ADAPTER)
