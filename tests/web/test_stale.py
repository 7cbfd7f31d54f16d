"""Stale-if-error over the real stack: FBS fails, and what the borrower was shown lately comes back, marked.

Never older than PORTAL_STALE_MINUTES (the portal's clock, frozen and moved here), never unmarked,
never with a card payment form, never another borrower's or another library's, and never for
refusals that are no outage (MitID needed, sign in again, not a borrower).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
import redis

from portal import clock, kvstore
from portal.devtools.demo import libraries_with_card_payment
from portal.providers.cache import snapshot_key
from portal.providers.errors import UpstreamCircuitOpen
from portal.providers.fbs_adapter import FbsTokenRejected
from portal.services.debts import MitIdRequired
from portal.web import outcome
from tests.support.login import http_login
from tests.support.redis_server import redis_server
from tests.support.stack import Stack, start_stack

LYNGBY = "DK-717300"
ANNE, BENT = 1001, 1002
# A library whose slug starts with Lyngby's and which reads the same FBS agency: the snapshot is per
# agency and patron in the store, so only its library check keeps the two pages apart.
PREFIXED = "lyngby-nord"


def _libraries(folder: Path) -> Path:
    # A folder of its own: start_stack writes its card-payment copy under the same name.
    path = libraries_with_card_payment(folder / "with-nord", "https://www.lyngbybib.dk/betalingsbetingelser")
    path.write_text(
        path.read_text(encoding="utf-8")
        + f'\n[[library]]\nslug = "{PREFIXED}"\nname = "Lyngby Nord"\nagency_id = "{LYNGBY}"\n'
        + "cutoff_date = 2021-06-15\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("stale")
    stack = start_stack(
        folder, card_payment=True, PORTAL_LIBRARIES_FILE=str(_libraries(folder)), PORTAL_STALE_MINUTES="15"
    )
    stack.app.config["SESSION_COOKIE_SECURE"] = False
    yield stack
    stack.stop()


@pytest.fixture(autouse=True)
def _fresh_snapshot_memo(stack: Stack) -> None:
    """Each test starts at a new moment: the worker's memo of the snapshots it wrote (portal.services.stale,
    not written again within a minute when unchanged) must not carry the previous test's write into it."""
    stack.app.extensions.pop(outcome._WRITTEN_SNAPSHOTS, None)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture
def frozen() -> Iterator[clock.FrozenClock]:
    with clock.frozen(datetime.now(clock.TIMEZONE).replace(microsecond=0)) as moment:
        yield moment


def forget_cache(stack: Stack, *patrons: int) -> None:
    """The provider cache dropped (the snapshot is not in it): the next view must reach FBS."""
    for patron in patrons:
        stack.app.extensions["portal.upstreams"].cache.forget_patron(LYNGBY, patron)


def stale_time(html: str) -> str:
    """The datetime of the stale notice's <time> element."""
    found = re.search(r'<time datetime="([^"]+)" data-stale-as-of>', html)
    assert found, "no stale notice"
    return found[1]


def test_fbs_failing_shows_the_last_page_marked_and_without_card_payment(
    client: httpx.Client, stack: Stack, frozen: clock.FrozenClock
) -> None:
    shown = http_login(client, stack.url, "demo-anne")
    assert shown.status_code == 200 and "data-card-payment" in shown.text and "data-stale" not in shown.text
    forget_cache(stack, ANNE)
    stack.fbs_state.fail_next(1000)
    try:
        frozen.advance(timedelta(minutes=3))
        page = client.get(f"{stack.url}/lyngby/", params={"lang": "en"})
    finally:
        stack.fbs_state.reset_faults()
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.text
    # Marked at the top: a warning alert with the local time it was shown, as a <time> element.
    assert html.index("data-stale") < html.index('id="debt-summary"')
    as_of = clock.now() - timedelta(minutes=3)
    assert stale_time(html) == as_of.isoformat(timespec="seconds")
    assert f"at {as_of:%H:%M}</time> – we can't reach the library system right now" in html
    assert 'class="alert alert-warning" role="alert"' in html
    # Anne's figures as shown, and no way to pay them by card now (FBS could not register it).
    assert 'data-total="all">DKK\xa0469.75' in html
    assert "data-card-payment" not in html and 'name="csrf_token"' not in html
    assert "Card payment is possible again when the library system answers." in html


def test_the_snapshot_is_shown_for_exactly_n_minutes_never_older(
    client: httpx.Client, stack: Stack, frozen: clock.FrozenClock
) -> None:
    http_login(client, stack.url, "demo-bent")
    forget_cache(stack, BENT)
    stack.fbs_state.fail_next(1000)
    try:
        frozen.advance(timedelta(minutes=15))
        at_n = client.get(f"{stack.url}/lyngby/")
        frozen.advance(timedelta(seconds=1))
        older = client.get(f"{stack.url}/lyngby/")
        api = client.get(f"{stack.url}/api/v1/libraries/lyngby/total")
    finally:
        stack.fbs_state.reset_faults()
    assert at_n.status_code == 200 and "data-stale" in at_n.text and 'data-total="all"' in at_n.text
    # One second past N: today's "try again", and no figure at all.
    assert older.status_code == 503 and "data-total" not in older.text and "kr." not in older.text
    assert "data-stale" not in older.text
    assert api.status_code == 503 and "total" not in api.json()


def test_the_api_says_stale_and_as_of(client: httpx.Client, stack: Stack, frozen: clock.FrozenClock) -> None:
    http_login(client, stack.url, "demo-anne")
    fresh = client.get(f"{stack.url}/api/v1/libraries/lyngby/overview").json()
    fresh_total = client.get(f"{stack.url}/api/v1/libraries/lyngby/total").json()
    assert (fresh["stale"], fresh["as_of"]) == (False, None)
    assert (fresh_total["stale"], fresh_total["as_of"]) == (False, None)
    forget_cache(stack, ANNE)
    stack.fbs_state.fail_next(1000)
    try:
        frozen.advance(timedelta(minutes=1))
        overview = client.get(f"{stack.url}/api/v1/libraries/lyngby/overview")
        total = client.get(f"{stack.url}/api/v1/libraries/lyngby/total")
    finally:
        stack.fbs_state.reset_faults()
    assert overview.status_code == 200 and total.status_code == 200
    as_of = (clock.now() - timedelta(minutes=1)).isoformat()
    assert (overview.json()["stale"], overview.json()["as_of"]) == (True, as_of)
    assert overview.json()["total"] == fresh["total"] == "469.75"
    assert (total.json()["stale"], total.json()["as_of"], total.json()["total"]) == (True, as_of, "469.75")


def test_the_embedded_page_and_summary_are_marked_too(
    client: httpx.Client, stack: Stack, frozen: clock.FrozenClock
) -> None:
    http_login(client, stack.url, "demo-anne")
    assert "data-stale" not in client.get(f"{stack.url}/lyngby/embed/summary").text
    forget_cache(stack, ANNE)
    stack.fbs_state.fail_next(1000)
    try:
        page = client.get(f"{stack.url}/lyngby/embed", params={"lang": "en"})
        summary = client.get(f"{stack.url}/lyngby/embed/summary", params={"lang": "en"})
    finally:
        stack.fbs_state.reset_faults()
    assert page.status_code == 200 and "data-stale-as-of" in page.text and 'data-total="all"' in page.text
    assert "data-card-payment" not in page.text
    assert summary.status_code == 200 and 'data-total="all"' in summary.text
    assert '<p class="gp-stale" data-stale>' in summary.text and "data-stale-as-of" in summary.text
    assert summary.text.index("data-stale") < summary.text.index('data-total="all"')


def test_no_snapshot_of_another_borrower_or_library(stack: Stack) -> None:
    with httpx.Client(timeout=10) as anne, httpx.Client(timeout=10) as bent:
        http_login(anne, stack.url, "demo-anne")
        http_login(bent, stack.url, "demo-bent")
        forget_cache(stack, ANNE, BENT)
        stack.fbs_state.fail_next(1000)
        try:
            annes = anne.get(f"{stack.url}/api/v1/libraries/lyngby/overview").json()
            bents = bent.get(f"{stack.url}/api/v1/libraries/lyngby/overview").json()
            # The same agency and patron under another library's slug (sharing Lyngby's prefix): none.
            other_library = anne.get(f"{stack.url}/{PREFIXED}/")
            other_api = anne.get(f"{stack.url}/api/v1/libraries/{PREFIXED}/total")
        finally:
            stack.fbs_state.reset_faults()
    assert annes["stale"] and bents["stale"]
    assert annes["total"] == "469.75" and bents["total"] != annes["total"]
    assert {fee["fee_id"] for fee in annes["payable_here"]["fees"]}.isdisjoint(
        fee["fee_id"] for fee in bents["payable_here"]["fees"]
    )
    assert other_library.status_code == 503 and "data-total" not in other_library.text
    assert other_api.status_code == 503 and "total" not in other_api.json()


def test_a_new_sign_in_while_fbs_is_down_finds_no_snapshot(client: httpx.Client, stack: Stack) -> None:
    """The snapshot goes at logout; and a new session has no patron id before FBS answers."""
    http_login(client, stack.url, "demo-anne")
    client.post(f"{stack.url}/lyngby/logout", headers={"Origin": stack.url})
    assert kvstore.backend(stack.app).get(snapshot_key(LYNGBY, ANNE)) is None
    stack.fbs_state.fail_next(1000)
    try:
        page = http_login(client, stack.url, "demo-anne")
    finally:
        stack.fbs_state.reset_faults()
    assert page.status_code == 503 and "data-total" not in page.text


@pytest.mark.parametrize(
    ("refusal", "status", "marker"),
    [
        (FbsTokenRejected("fbs", "token refused (401): the borrower must sign in again"), 401, "sign_in_again"),
        (MitIdRequired("lyngby"), 409, "mitid_required"),
    ],
)
def test_refusals_that_are_no_outage_never_show_the_snapshot(
    client: httpx.Client, stack: Stack, monkeypatch: pytest.MonkeyPatch, refusal: Exception, status: int, marker: str
) -> None:
    http_login(client, stack.url, "demo-anne")

    def refuse(*_args: object) -> None:
        raise refusal

    monkeypatch.setattr(outcome, "citizen_debts", refuse)
    page = client.get(f"{stack.url}/lyngby/")
    api = client.get(f"{stack.url}/api/v1/libraries/lyngby/total")
    assert "data-total" not in page.text and "data-stale" not in page.text
    assert api.status_code == status and api.json()["error"] == marker and "total" not in api.json()


def test_not_a_borrower_is_never_answered_with_a_snapshot(
    client: httpx.Client, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    http_login(client, stack.url, "demo-anne")
    monkeypatch.setattr(outcome, "citizen_debts", lambda *_args: None)
    api = client.get(f"{stack.url}/api/v1/libraries/lyngby/total")
    assert api.status_code == 404 and api.json()["error"] == "not_a_borrower"


def test_an_open_breaker_is_an_outage_like_any_other(
    client: httpx.Client, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    http_login(client, stack.url, "demo-anne")

    def refuse(*_args: object) -> None:
        raise UpstreamCircuitOpen("fbs", "circuit open: not asked")

    monkeypatch.setattr(outcome, "citizen_debts", refuse)
    api = client.get(f"{stack.url}/api/v1/libraries/lyngby/total")
    assert api.status_code == 200 and api.json()["stale"] is True and api.json()["total"] == "469.75"


def test_turned_off_there_is_no_snapshot(tmp_path: Path) -> None:
    off = start_stack(tmp_path, PORTAL_STALE_MINUTES="0")
    off.app.config["SESSION_COOKIE_SECURE"] = False
    try:
        with httpx.Client(timeout=10) as client:
            assert http_login(client, off.url, "demo-anne").status_code == 200
            off.app.extensions["portal.upstreams"].cache.forget_patron(LYNGBY, ANNE)
            off.fbs_state.fail_next(1000)
            page = client.get(f"{off.url}/lyngby/")
    finally:
        off.stop()
    assert page.status_code == 503 and "data-total" not in page.text


def test_with_redis_the_snapshot_is_shared_keyed_without_cpr_and_dropped_at_logout(tmp_path: Path) -> None:
    with redis_server() as url:
        shared = start_stack(tmp_path, PORTAL_CACHE_URL=url)
        shared.app.config["SESSION_COOKIE_SECURE"] = False
        try:
            with httpx.Client(timeout=10) as client, redis.Redis.from_url(url) as raw:
                http_login(client, shared.url, "demo-anne")
                key = f"gebyrportal:{snapshot_key(LYNGBY, ANNE)}"
                assert raw.exists(key) and b"0101901111" not in raw.get(key)
                assert all(b"0101901111" not in k for k in raw.keys("*snapshot*"))
                shared.app.extensions["portal.upstreams"].cache.forget_patron(LYNGBY, ANNE)
                shared.fbs_state.fail_next(1000)
                try:
                    total = client.get(f"{shared.url}/api/v1/libraries/lyngby/total").json()
                finally:
                    shared.fbs_state.reset_faults()
                assert total["stale"] is True and total["total"] == "469.75"
                client.post(f"{shared.url}/lyngby/logout", headers={"Origin": shared.url})
                assert not raw.exists(key)
        finally:
            shared.stop()
