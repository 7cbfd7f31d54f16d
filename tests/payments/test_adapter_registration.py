"""Card payment where FBS is read through DBC's adapter: the order keeps the token, sealed, until FBS answers.

A payment world like `conftest.world`, but Lyngby reads FBS through DBC's adapter: the FBS
simulator resolves bearer tokens at a userinfo stand-in over HTTP. Anne pays with her
Adgangsplatformen token; the worker registers in FBS with it after she has left.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from portal import create_app
from portal.devtools import nexi_sim
from portal.devtools.fbs_sim import create_fbs_sim_app
from portal.devtools.fbs_sim.userinfo_stub import UserinfoStub, start_userinfo_stub, stop_userinfo_stub
from portal.payments import checkout
from portal.payments.models import PaymentOrderRow
from portal.payments.order_token import OrderTokenCipher
from portal.payments.reasons import Code, Reason
from portal.payments.runtime import PaymentRuntime
from portal.payments.setup import RUNTIME_KEY
from portal.payments.states import State
from portal.providers.fbs_adapter import FbsTokenRejected
from tests.payments.conftest import (
    ANNE,
    NEXI_KEY_ENV,
    PAYABLE,
    World,
    fail_nexi_once,
    libraries_with_card_payment,
    total_ore,
)
from tests.providers.test_fbs_adapter_client import ANNE_TOKEN, TOKENS, adapter_state
from tests.support.live import start_live_server
from tests.support.settings import test_settings

# The loader insists: the adapter reads FBS with an Adgangsplatformen token, so the library offers it.
ADAPTER = 'fbs_access = "dbc_adapter"\nsign_in = ["mitid", "adgangsplatformen"]\n'


def libraries_reading_fbs_through_the_adapter(folder: Path) -> Path:
    path = libraries_with_card_payment(folder)
    text = path.read_text(encoding="utf-8")
    marker = 'payment_overview_url = "https://www.ltk.dk/"\n'
    path.write_text(text.replace(marker, marker + ADAPTER, 1), encoding="utf-8")
    return path


class AdapterWorld(World):
    userinfo: UserinfoStub

    def start_as(self, token: str, fee_ids: tuple[int, ...] = PAYABLE) -> checkout.Started:
        return checkout.start(self.rt, self.library, ANNE, self.owner(), fee_ids, adapter_token=token)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[AdapterWorld]:
    stub = UserinfoStub(dict(TOKENS))
    userinfo = start_userinfo_stub(stub)
    fbs_state, nexi_state = adapter_state(f"http://127.0.0.1:{userinfo.port}"), nexi_sim.SimState()
    fbs = start_live_server(create_fbs_sim_app(fbs_state))
    nexi_server = nexi_sim.start_nexi_sim("127.0.0.1", 0, nexi_state)
    portal = start_live_server()
    settings = test_settings(
        PORTAL_BASE_URL=portal.url,
        PORTAL_DATABASE_URL=f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        PORTAL_LIBRARIES_FILE=str(libraries_reading_fbs_through_the_adapter(tmp_path)),
        PORTAL_FBS_BASE_URL=fbs.url,
        PORTAL_FBS_ADAPTER_BASE_URL=fbs.url,
        PORTAL_NEXI_BASE_URL=f"http://127.0.0.1:{nexi_server.port}",
        PORTAL_QUEUE_WORKER="external",
        PORTAL_ADGANGSPLATFORMEN_URL=f"http://127.0.0.1:{userinfo.port}",
        PORTAL_ADGANGSPLATFORMEN_CLIENT_ID="portal-under-test",
        PORTAL_ADGANGSPLATFORMEN_CLIENT_SECRET="portal-under-test-secret",
        **{NEXI_KEY_ENV: nexi_sim.DEV_NEXI_SECRET_KEY},
    )
    app = create_app(settings)
    portal.set_app(app)
    rt: PaymentRuntime = app.extensions[RUNTIME_KEY]
    world = AdapterWorld(app, rt, fbs_state, nexi_state, portal)
    world.userinfo = stub
    rt.enqueue = world.enqueued.append
    yield world
    nexi_state.wake.set()
    portal.stop()
    nexi_sim.stop_nexi_sim(nexi_server)
    fbs.stop()
    stop_userinfo_stub(userinfo)


def stored_token(world: World, order_id: str) -> str | None:
    with world.rt.sessions() as session:
        return session.scalars(select(PaymentOrderRow.fbs_token).where(PaymentOrderRow.order_id == order_id)).one()


def test_an_adapter_payment_is_registered_with_the_kept_token_which_is_then_cleared(world: AdapterWorld) -> None:
    started = world.start_as(ANNE_TOKEN)
    sealed = stored_token(world, started.order_id)
    assert sealed is not None and ANNE_TOKEN not in sealed  # kept, but not readable in the database
    assert world.rt.order_tokens.open(sealed) == ANNE_TOKEN
    world.pay_at_nexi(started.order_id)
    world.nexi.wait_for_webhooks_sent()
    asked_before = world.userinfo.asked[ANNE_TOKEN]
    assert world.advance(started.order_id) is State.COMPLETED
    assert world.registrations(started.order_id) == sorted(PAYABLE)
    assert world.charged_ore(started.order_id) == total_ore()
    assert world.userinfo.asked[ANNE_TOKEN] > asked_before  # the worker read and registered with her token
    # Never direct mode (the client logins are the portal's start-up, opening FBS sessions ahead).
    assert world.fbs.calls["preauthenticated"] == 0
    assert stored_token(world, started.order_id) is None


def test_the_token_is_cleared_as_soon_as_fbs_has_answered(world: AdapterWorld) -> None:
    started = world.start_as(ANNE_TOKEN)
    world.pay_at_nexi(started.order_id)
    world.nexi.wait_for_webhooks_sent()
    fail_nexi_once(world, "charge")  # the charge fails once: the order waits, REGISTERED
    assert world.advance(started.order_id) is State.REGISTERED
    assert world.registrations(started.order_id) == sorted(PAYABLE)
    assert stored_token(world, started.order_id) is None


def test_a_token_expired_before_registration_sends_the_order_to_review(world: AdapterWorld) -> None:
    started = world.start_as(ANNE_TOKEN)
    world.pay_at_nexi(started.order_id)
    world.nexi.wait_for_webhooks_sent()
    world.userinfo.tokens[ANNE_TOKEN] = 401  # an hour later: Adgangsplatformen no longer knows it
    assert world.advance(started.order_id) is State.NEEDS_REVIEW
    row = world.order(started.order_id)
    assert row.review_reason is not None and "token expired before FBS registered" in row.review_reason
    reason = world.review(started.order_id)
    assert reason.code is Code.TOKEN_EXPIRED and set(reason.params) == {"message"}
    assert world.registrations(started.order_id) == [] and world.charges(started.order_id) == 0
    assert world.open_reservation_ore(started.order_id) == total_ore()  # staff decide
    assert row.fbs_token is None


def test_an_unreadable_token_sends_the_order_to_review(world: AdapterWorld) -> None:
    started = world.start_as(ANNE_TOKEN)
    world.pay_at_nexi(started.order_id)
    world.nexi.wait_for_webhooks_sent()
    other = OrderTokenCipher("another secret key entirely, 40 characters").seal(ANNE_TOKEN)
    with world.rt.sessions() as session:
        row = session.get(PaymentOrderRow, started.order_id)
        assert row is not None
        row.fbs_token = other
        session.commit()
    assert world.advance(started.order_id) is State.NEEDS_REVIEW
    reason = world.order(started.order_id).review_reason
    assert reason is not None and "can no longer be decrypted" in reason
    assert world.review(started.order_id) == Reason(Code.TOKEN_UNREADABLE)
    assert world.registrations(started.order_id) == []


def test_starting_with_an_expired_token_fails_at_once_and_writes_no_order(world: AdapterWorld) -> None:
    world.userinfo.tokens[ANNE_TOKEN] = 401
    with pytest.raises(FbsTokenRejected):
        world.start_as(ANNE_TOKEN)
    with world.rt.sessions() as session:
        assert session.scalars(select(PaymentOrderRow)).all() == []


def test_a_direct_mode_order_keeps_no_token(world: AdapterWorld) -> None:
    # A MitID borrower at the same library: read directly, nothing kept.
    started = world.start()
    assert stored_token(world, started.order_id) is None
    world.pay_at_nexi(started.order_id)
    world.nexi.wait_for_webhooks_sent()
    assert world.advance(started.order_id) is State.COMPLETED
    assert world.fbs.calls["login"] >= 1


def test_the_cipher_opens_under_a_fallback_key_and_refuses_tampering() -> None:
    old = OrderTokenCipher("old-key-" + "o" * 32).seal("tok")
    assert OrderTokenCipher("new-key-" + "n" * 32, ["old-key-" + "o" * 32]).open(old) == "tok"
    assert OrderTokenCipher("new-key-" + "n" * 32).open(old) is None
    assert OrderTokenCipher("old-key-" + "o" * 32).open(old[:-2] + "xx") is None
