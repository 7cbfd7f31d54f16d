"""No page a slow upstream can stall: a live portal whose FBS or debtor system trickles its answers.

The portal runs with a short call deadline and page budget; the simulators trickle one byte per
0.2 s, an answer taking minutes, and the per-phase timeout (2 s) never trips on a trickle. Without
the deadline and the budget each of these pages would wait out the whole trickle.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest

from portal.kvstore import store
from portal.providers.setup import EXTENSION_KEY
from tests.support.login import http_login
from tests.support.stack import Stack, start_stack

DEADLINE = 1.0
BUDGET = 1.5
PAUSE = 0.2  # one byte per 0.2 s
TRICKLE_AT_LEAST = 60.0  # Anne's fees (2.5 kB) or claims trickled take minutes; this is a floor
UNAVAILABLE = "Vi kan ikke vise dine mellemværender lige nu"
DEBTOR_UNAVAILABLE = "Status fra Mit Betalingsoverblik kunne ikke hentes"


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = start_stack(
        tmp_path_factory.mktemp("slow"),
        PORTAL_UPSTREAM_DEADLINE=str(DEADLINE),
        PORTAL_PAGE_BUDGET=str(BUDGET),
    )
    stack.app.config["SESSION_COOKIE_SECURE"] = False  # as tests/web/conftest.py: httpx and http://
    yield stack
    # End any trickle still under way (as at a simulator's shutdown), then stop.
    stack.fbs_state.wake.set()
    stack.debtor_state.wake.set()
    stack.stop()


@pytest.fixture(autouse=True)
def fresh(slow: Stack) -> Iterator[None]:
    """No cached answers (and no sessions) from other tests: each page reaches both upstreams."""
    with slow.app.app_context():
        store.clear()
    yield
    slow.fbs_state.reset_faults()
    slow.debtor_state.reset_faults()


@pytest.fixture
def citizen() -> Iterator[httpx.Client]:
    # Well above the page budget, and far below any trickle: a stalled page fails the test.
    with httpx.Client(timeout=20) as client:
        yield client


def test_fbs_trickling_gives_the_unavailable_page_and_no_figures(citizen: httpx.Client, slow: Stack) -> None:
    slow.fbs_state.trickle_answers(PAUSE, endpoint="fees")
    started = time.monotonic()
    page = http_login(citizen, slow.url, "demo-anne")  # ends on Anne's page at Lyngby
    elapsed = time.monotonic() - started
    assert page.status_code == 503 and UNAVAILABLE in page.text
    assert "kr." not in page.text and "data-total" not in page.text
    assert slow.fbs_state.call_count("fees") >= 1  # it was the trickle, not a failure before it
    assert elapsed < TRICKLE_AT_LEAST / 2
    api = citizen.get(f"{slow.url}/api/v1/libraries/lyngby/overview")
    assert api.status_code == 503 and "total" not in api.json()


def test_the_debtor_trickling_leaves_fbs_figures_and_the_note(citizen: httpx.Client, slow: Stack) -> None:
    slow.debtor_state.trickle_answers(PAUSE)
    started = time.monotonic()
    page = http_login(citizen, slow.url, "demo-anne")
    elapsed = time.monotonic() - started
    assert page.status_code == 200
    html = page.text
    assert DEBTOR_UNAVAILABLE in html
    # FBS's own figures, nothing the debtor system would have added.
    assert 'data-total="all">803,75' in html and 'data-total="handed-over">489,00' in html
    assert "Rykkergebyr" not in html and "Status i Mit Betalingsoverblik" not in html
    assert slow.debtor_state.call_count("claims") >= 1
    assert elapsed < TRICKLE_AT_LEAST / 2


@contextmanager
def stuck_overviews(
    stack: Stack, citizen: httpx.Client, count: int, reached: int
) -> Iterator[list[Future[httpx.Response]]]:
    """`count` of Anne's overviews asked for at once, FBS trickling its fees; yields once `reached` wait on it.

    Single-flight (portal.providers.single_flight): one of them asks FBS, the others wait for its answer.
    """
    http_login(citizen, stack.url, "demo-anne")  # signed in, patron looked up: only fees remain
    with stack.app.app_context():
        # Nor the page shown at sign-in to fall back on (portal.services.stale): they must wait on FBS.
        store.delete_many(
            "fbs:DK-717300:1001:fees",
            "fbs:DK-717300:1001:patron",
            "debtor:DK-717300:1001:claims",
            "snapshot:DK-717300:1001",
        )
    stack.fbs_state.trickle_answers(PAUSE, endpoint="fees")
    fees_before = stack.fbs_state.call_count("fees")
    flight = stack.app.extensions[EXTENSION_KEY].cache.flight
    waits_before = flight.waits["local"]
    with ThreadPoolExecutor(max_workers=count) as pool:
        overviews = [pool.submit(citizen.get, f"{stack.url}/lyngby/") for _ in range(count)]
        waited = time.monotonic()
        while (
            stack.fbs_state.call_count("fees") < fees_before + 1 or flight.waits["local"] < waits_before + reached - 1
        ):
            assert time.monotonic() - waited < 5, "the overviews never reached FBS"
            time.sleep(0.01)
        assert stack.fbs_state.call_count("fees") == fees_before + 1  # one call for all of them
        yield overviews


def test_pages_stuck_on_fbs_do_not_stall_another_page(citizen: httpx.Client, slow: Stack) -> None:
    """More stuck overviews than the database pool has connections."""
    with stuck_overviews(slow, citizen, count=20, reached=10) as overviews:
        # Now at least half of them wait on a trickling FBS answer: another visitor's pages.
        with httpx.Client(timeout=TRICKLE_AT_LEAST) as visitor:
            started = time.monotonic()
            index = visitor.get(f"{slow.url}/")
            signed_out = visitor.get(f"{slow.url}/lyngby/")
            elapsed = time.monotonic() - started
        assert index.status_code == 200 and signed_out.status_code == 200
        assert "Log ind" in signed_out.text
        assert elapsed < TRICKLE_AT_LEAST / 4
        answers = [overview.result(timeout=TRICKLE_AT_LEAST / 2) for overview in overviews]
    # The stuck overviews themselves ended with the clear answer, not a wrong figure.
    assert {answer.status_code for answer in answers} == {503}
    assert all("kr." not in answer.text for answer in answers)


def test_the_page_is_whole_again_when_the_upstreams_are(citizen: httpx.Client, slow: Stack) -> None:
    """The control: with no trickle the same short deadline and budget show the whole page."""
    page = http_login(citizen, slow.url, "demo-anne")
    assert page.status_code == 200 and 'data-total="all">469,75' in page.text
    assert DEBTOR_UNAVAILABLE not in page.text


@pytest.fixture(scope="module")
def patient(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A portal whose budget is long (10 s): pages stuck on FBS stay stuck while another is asked for."""
    stack = start_stack(tmp_path_factory.mktemp("patient"), PORTAL_UPSTREAM_DEADLINE="10", PORTAL_PAGE_BUDGET="10")
    stack.app.config["SESSION_COOKIE_SECURE"] = False
    yield stack
    stack.fbs_state.wake.set()
    stack.stop()


def test_a_page_waiting_on_fbs_holds_no_database_connection(patient: Stack) -> None:
    """More stuck overviews (30) than the database pool has connections (15): the index still answers at once.

    Were each overview holding its connection while FBS trickles, the index would wait for one to
    come free, that is until the stuck pages run out of their 10 s.
    """
    with httpx.Client(timeout=30) as citizen, stuck_overviews(patient, citizen, count=30, reached=30) as overviews:
        with httpx.Client(timeout=30) as visitor:
            started = time.monotonic()
            index = visitor.get(f"{patient.url}/")
            elapsed = time.monotonic() - started
        assert index.status_code == 200 and "/lyngby/" in index.text
        assert elapsed < 5  # half the budget the stuck pages hold out for
        assert all(overview.result(timeout=30).status_code == 503 for overview in overviews)
    patient.fbs_state.reset_faults()
