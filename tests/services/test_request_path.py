"""The request path of a citizen's page: which upstream calls, how many, and which at the same time.

Against the FBS and debtor simulators over real HTTP. Counted, never timed: the simulators count
what they are asked; a rendezvous that answers only once two requests have both arrived proves
two calls were in flight at once (one after the other, it breaks and FBS answers 503); a gate
holds a call until a test knows who waits for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest
from cachelib import SimpleCache

from portal.devtools import debtor_sim
from portal.devtools.demo import DEV_DEBTOR_API_KEY
from portal.devtools.demo_data import LYNGBY
from portal.devtools.fbs_sim import SimState, create_fbs_sim_app
from portal.libraries.library import Library
from portal.providers.upstreams import Upstreams
from portal.services.debts import Borrower, CitizenDebts, PatronMemo, citizen_debts
from portal.services.prefetch import start_prefetch
from tests.support.live import LiveServer, start_live_server
from tests.support.login import http_login
from tests.support.settings import test_settings
from tests.support.stack import FBS_FEES_PATH, Gate, start_stack
from tests.support.waiting import wait_for

ANNE_CPR, ANNE = "0101901111", 1001
LIBRARY = Library(slug="lyngby", name="Lyngby", agency_id=LYNGBY, cutoff_date=date(2021, 6, 15))
MISSING = object()
ANNE_BORROWER = Borrower(cpr=ANNE_CPR)
# FBS's patron call and its fees call (not the look-up): both must arrive before either is answered.
PATRON_OR_FEES = r"/external/[^/]+/(patrons/\d+/v4|patron/\d+/fees/v2)"
VIEWS = 100


@dataclass
class Sims:
    fbs: SimState
    debtor: debtor_sim.SimState
    rendezvous: debtor_sim.Rendezvous
    gate: Gate
    fbs_server: LiveServer
    debtor_url: str

    def upstreams(self, *, debtor: bool = True) -> Upstreams:
        env = {"PORTAL_FBS_BASE_URL": self.fbs_server.url}
        if debtor:
            env |= {"PORTAL_DEBTOR_BASE_URL": self.debtor_url, "PORTAL_DEBTOR_API_KEY": DEV_DEBTOR_API_KEY}
        return Upstreams(test_settings(**env), SimpleCache())

    def fbs_calls(self) -> dict[str, int]:
        return {k: v for k, v in self.fbs.calls.items() if k != "login"}


@pytest.fixture
def sims() -> Iterator[Sims]:
    fbs, debtor_state = SimState(), debtor_sim.SimState()
    # A generous barrier: it only ever waits this long when the calls are NOT concurrent (a failure).
    rendezvous, gate = debtor_sim.Rendezvous(parties=2, timeout=10.0), Gate()
    server = start_live_server()
    server.set_app(gate.wrap(rendezvous.wrap(create_fbs_sim_app(fbs), PATRON_OR_FEES), FBS_FEES_PATH))
    debtor_server = debtor_sim.start_debtor_sim("127.0.0.1", 0, debtor_state)
    yield Sims(fbs, debtor_state, rendezvous, gate, server, f"http://127.0.0.1:{debtor_server.port}")
    gate.open()
    rendezvous.disarm()
    server.stop()
    debtor_sim.stop_debtor_sim(debtor_server)


def memo() -> tuple[PatronMemo, dict[str, object]]:
    store: dict[str, object] = {}
    return PatronMemo(get=lambda agency: store.get(agency, MISSING), remember=store.__setitem__, missing=MISSING), store


def view(up: Upstreams, patron_memo: PatronMemo) -> CitizenDebts:
    debts = citizen_debts(up, LIBRARY, ANNE_CPR, patron_memo)
    assert debts is not None and debts.overview.payable_here.rows
    return debts


# -- step 1: the look-up's patron, and patron with fees at once ------------------------------


def test_a_first_view_takes_the_patron_from_the_look_up(sims: Sims) -> None:
    up = sims.upstreams()
    patron_memo, store = memo()
    debts = view(up, patron_memo)
    assert debts.patron.patron_id == ANNE and debts.patron.name
    # Two steps one after the other (look-up, then fees beside the debtor), not three.
    assert sims.fbs_calls() == {"preauthenticated": 1, "fees": 1}
    assert sims.debtor.call_count() == 1 and store == {LYNGBY: ANNE}


def test_the_look_ups_patron_carries_the_blocks_the_patron_call_would_give(sims: Sims) -> None:
    up = sims.upstreams(debtor=False)
    debts = citizen_debts(up, LIBRARY, "0202852222", memo()[0])  # Bent, blocked for fees
    assert debts is not None and debts.patron.blocks
    assert sims.fbs.calls["patron"] == 0
    up.cache.forget_patron(LYNGBY, 1002)
    assert up.fbs(LYNGBY, up.default_login).patron(1002) == debts.patron  # the same as the patron call's


def test_after_the_cache_expired_patron_and_fees_are_asked_at_the_same_time(sims: Sims) -> None:
    up = sims.upstreams(debtor=False)
    patron_memo, _ = memo()
    view(up, patron_memo)
    up.cache.forget_patron(LYNGBY, ANNE)  # as when the entries' TTL is over; the session still knows the id
    sims.rendezvous.arm()
    debts = view(up, patron_memo)
    assert sims.rendezvous.broken == 0  # both were in flight together, or one would have been refused
    assert debts.patron.patron_id == ANNE
    assert sims.fbs.calls["patron"] == 1 and sims.fbs.calls["fees"] == 2


def test_a_warm_view_asks_no_upstream(sims: Sims) -> None:
    up = sims.upstreams()
    patron_memo, _ = memo()
    view(up, patron_memo)
    before, debtor_before = dict(sims.fbs.calls), sims.debtor.call_count()
    view(up, patron_memo)
    assert dict(sims.fbs.calls) == before and sims.debtor.call_count() == debtor_before


# -- step 2: single-flight for concurrent first views -----------------------------------------


def test_a_hundred_concurrent_first_views_of_one_borrower_make_one_fees_call(sims: Sims) -> None:
    up = sims.upstreams()
    sims.gate.close()
    with ThreadPoolExecutor(VIEWS) as pool:
        # Each a first view: no view has remembered the patron yet (the look-up is per session).
        pages = [pool.submit(view, up, memo()[0]) for _ in range(VIEWS)]
        sims.gate.wait_until_held()
        wait_for(lambda: up.cache.flight.waits["local"] >= VIEWS - 1, "the other views wait for the fees call")
        sims.gate.open()
        totals = {page.result().overview.total for page in pages}
    assert sims.fbs.calls["fees"] == 1 and len(totals) == 1
    assert sims.fbs.calls["patron"] == 0  # every look-up carried the patron
    assert sims.debtor.call_count() == 1  # the debtor's claims, single-flighted alike


# -- step 3: prefetch at sign-in --------------------------------------------------------------


def test_prefetch_at_sign_in_leaves_the_first_view_nothing_to_ask(sims: Sims) -> None:
    up = sims.upstreams()
    patron_memo, store = memo()
    fetching = start_prefetch(up, LIBRARY, ANNE_BORROWER, patron_memo)
    # The look-up was done in the sign-in's own request: the session knows the patron already.
    assert store == {LYNGBY: ANNE} and sims.fbs.calls["preauthenticated"] == 1
    assert fetching is not None
    fetching.result(timeout=20)
    after_sign_in, debtor_after = dict(sims.fbs.calls), sims.debtor.call_count()
    view(up, patron_memo)
    assert dict(sims.fbs.calls) == after_sign_in and sims.debtor.call_count() == debtor_after == 1
    assert sims.fbs.calls["fees"] == 1 and sims.fbs.calls["patron"] == 0


def test_a_first_view_arriving_while_the_prefetch_is_in_flight_joins_it(sims: Sims) -> None:
    up = sims.upstreams()
    patron_memo, _ = memo()
    sims.gate.close()
    fetching = start_prefetch(up, LIBRARY, ANNE_BORROWER, patron_memo)
    assert fetching is not None
    sims.gate.wait_until_held()  # the prefetch's fees call is at FBS
    with ThreadPoolExecutor(1) as pool:
        page = pool.submit(view, up, patron_memo)
        wait_for(lambda: up.cache.flight.waits["local"] >= 1, "the view waits for the prefetch's call")
        sims.gate.open()
        assert page.result().patron.patron_id == ANNE
    fetching.result(timeout=20)
    assert sims.fbs.calls["fees"] == 1 and sims.fbs.calls["preauthenticated"] == 1


def test_prefetch_never_fails_sign_in(sims: Sims) -> None:
    up = sims.upstreams()
    sims.fbs.fail_next(1, endpoint="preauthenticated")
    patron_memo, store = memo()
    assert start_prefetch(up, LIBRARY, ANNE_BORROWER, patron_memo) is None
    assert store == {}  # not remembered: the view looks up again
    view(up, patron_memo)
    assert store == {LYNGBY: ANNE}


def test_prefetch_for_no_library_or_no_borrower_does_nothing(sims: Sims) -> None:
    up = sims.upstreams()
    assert start_prefetch(up, None, ANNE_BORROWER, memo()[0]) is None
    patron_memo, store = memo()
    assert start_prefetch(up, LIBRARY, Borrower(cpr="0101909999"), patron_memo) is None
    assert store == {LYNGBY: None} and sims.fbs.calls["fees"] == 0


# -- step 4: the FBS session opened before the first borrower ---------------------------------


def test_the_fbs_session_opened_early_is_the_one_the_first_view_uses(sims: Sims) -> None:
    up = sims.upstreams()
    up.open_fbs_sessions([(LYNGBY, up.default_login), (LYNGBY, up.default_login)])
    assert sims.fbs.calls["login"] == 1  # once per agency and user
    view(up, memo()[0])
    assert sims.fbs.calls["login"] == 1


def test_a_failed_early_login_is_only_logged(sims: Sims) -> None:
    up = sims.upstreams()
    sims.fbs.fail_next(1, endpoint="login")
    up.open_fbs_sessions([(LYNGBY, up.default_login)])
    view(up, memo()[0])
    assert sims.fbs.calls["login"] == 2


def test_the_app_opens_every_librarys_fbs_session_at_start_up(tmp_path: Path) -> None:
    stack = start_stack(tmp_path, PORTAL_DEBTOR_BASE_URL="")
    stack.app.config["SESSION_COOKIE_SECURE"] = False  # httpx sends no Secure cookie over http
    try:
        # The demo's two libraries, each its own agency: two logins, by the start-up's thread.
        wait_for(lambda: stack.fbs_state.calls["login"] == 2, "both libraries logged in at start-up")
        with httpx.Client(timeout=10, trust_env=False) as client:
            page = http_login(client, stack.url, "demo-anne")
            assert page.status_code == 200
        assert stack.fbs_state.calls["fees"] >= 1  # the page was read from FBS …
        assert stack.fbs_state.calls["login"] == 2  # … with the session opened at start-up
    finally:
        stack.stop()


def test_the_sign_in_callback_prefetches_so_the_first_view_asks_fbs_nothing(tmp_path: Path) -> None:
    """The wiring: auth's citizen_signed_in signal starts the prefetch (portal.web.citizen)."""
    stack = start_stack(tmp_path)
    stack.app.config["SESSION_COOKIE_SECURE"] = False
    try:
        with httpx.Client(timeout=10) as client:
            start = client.get(f"{stack.url}/lyngby/login")
            page = client.get(start.headers["location"])
            action = page.text.split('action="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
            back = client.post(httpx.URL(start.headers["location"]).join(action), data={"sub": "demo-anne"})
            looked_up = stack.fbs_state.call_count("preauthenticated")
            client.get(back.headers["location"])  # the callback: the look-up happens here, fees start
            assert stack.fbs_state.call_count("preauthenticated") == looked_up + 1
            wait_for(lambda: stack.fbs_state.call_count("fees") == 1, "the prefetch asked FBS for the fees")
            view = client.get(f"{stack.url}/lyngby/")
        assert view.status_code == 200 and 'data-total="all"' in view.text
        assert stack.fbs_state.call_count("fees") == 1  # the prefetch's, none of the view's own
        assert stack.fbs_state.call_count("preauthenticated") == looked_up + 1
    finally:
        stack.stop()
