"""A payment world on loopback: the portal, the FBS and Nexi simulators, and Anne at Lyngby.

Anne (patron 1001) has four fees payable in FBS: 501 (30 kr.), 502 (249.50 kr.), 503 (15.25 kr.)
and 504 (20 kr.). Nexi's webhooks reach the live portal's webhook route; the worker does not
run (PORTAL_QUEUE_WORKER=external): a test advances orders itself with `world.advance`, so
every step happens exactly when the test says.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from sqlalchemy import select

from portal import create_app
from portal.devtools import demo_data, nexi_sim
from portal.devtools.demo import DEMO_LIBRARIES_FILE
from portal.devtools.demo_data import LYNGBY
from portal.devtools.fbs_sim import SimState, create_fbs_sim_app
from portal.payments import checkout, machine, reasons, store
from portal.payments.models import PaymentOrderRow, PaymentWebhookRow
from portal.payments.reasons import Reason
from portal.payments.runtime import PaymentRuntime
from portal.payments.setup import RUNTIME_KEY
from portal.payments.states import State
from tests.support.live import LiveServer, start_live_server
from tests.support.settings import test_settings

ANNE = 1001
PAYABLE = (501, 502, 503, 504)
NEXI_KEY_ENV = "LYNGBY_NEXI_SECRET_KEY"
TERMS_URL = "https://lyngby.example/betalingsbetingelser"
CARD_PAYMENT = f"""
nexi_secret_key_env = "{NEXI_KEY_ENV}"
payment_terms_url = "{TERMS_URL}"
"""


def libraries_with_card_payment(folder: Path) -> Path:
    """The demo libraries, Lyngby with card payment."""
    text = DEMO_LIBRARIES_FILE.read_text(encoding="utf-8")
    marker = 'payment_overview_url = "https://www.ltk.dk/"\n'
    assert marker in text
    path = folder / "libraries.toml"
    path.write_text(text.replace(marker, marker + CARD_PAYMENT, 1), encoding="utf-8")
    return path


@dataclass
class World:
    app: Flask
    rt: PaymentRuntime
    fbs: SimState
    nexi: nexi_sim.SimState
    portal: LiveServer
    enqueued: list[str] = field(default_factory=list)

    @property
    def library(self):  # type: ignore[no-untyped-def]
        with self.rt.sessions() as session:
            return self.rt.library(session, "lyngby")

    def owner(self, patron_id: int = ANNE) -> str:
        return store.owner_of(self.rt.settings.secret_key, LYNGBY, patron_id)

    def start(self, fee_ids: tuple[int, ...] = PAYABLE, patron_id: int = ANNE) -> checkout.Started:
        return checkout.start(self.rt, self.library, patron_id, self.owner(patron_id), fee_ids)

    def order(self, order_id: str) -> PaymentOrderRow:
        with self.rt.sessions() as session:
            row = store.get_order(session, order_id)
        assert row is not None
        return row

    def review(self, order_id: str) -> Reason:
        """Why the order waits for staff, read back as the pages read it; its English sentence stored too."""
        row = self.order(order_id)
        reason = reasons.from_stored(row.review)
        assert reason is not None, row.review
        assert row.review_reason == reason.english()
        return reason

    def payment(self, order_id: str) -> nexi_sim.Payment:
        payment_id = self.order(order_id).nexi_payment_id
        assert payment_id is not None
        payment = self.nexi.payment(payment_id)
        assert payment is not None
        return payment

    def pay_at_nexi(self, order_id: str, method: str = "Visa") -> None:
        """The citizen completes the hosted payment page (the reservation is made, webhooks go out)."""
        self.nexi.reserve(self.payment(order_id), method)

    def advance(self, order_id: str, source: str = "test") -> State | None:
        return machine.advance(self.rt, order_id, source)

    def state(self, order_id: str) -> State:
        return State(self.order(order_id).state)

    # -- what happened, counted at the simulators ---------------------------------------------

    def charges(self, order_id: str) -> int:
        return len(self.payment(order_id).charges)

    def charged_ore(self, order_id: str) -> int:
        return self.payment(order_id).charged

    def registrations(self, order_id: str) -> list[int]:
        """Fee ids FBS registered as paid by this order."""
        with self.fbs.lock:
            return sorted(fee_id for fee_id, (paid_by, _day) in self.fbs.paid_by.items() if paid_by == order_id)

    def open_reservation_ore(self, order_id: str) -> int:
        payment = self.payment(order_id)
        return payment.reserved - payment.charged - payment.cancelled


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    fbs_state, nexi_state = SimState(), nexi_sim.SimState()
    fbs = start_live_server(create_fbs_sim_app(fbs_state))
    nexi_server = nexi_sim.start_nexi_sim("127.0.0.1", 0, nexi_state)
    portal = start_live_server()
    settings = test_settings(
        PORTAL_BASE_URL=portal.url,
        PORTAL_DATABASE_URL=f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        PORTAL_LIBRARIES_FILE=str(libraries_with_card_payment(tmp_path)),
        PORTAL_FBS_BASE_URL=fbs.url,
        PORTAL_NEXI_BASE_URL=f"http://127.0.0.1:{nexi_server.port}",
        PORTAL_QUEUE_WORKER="external",
        **{NEXI_KEY_ENV: nexi_sim.DEV_NEXI_SECRET_KEY},
    )
    app = create_app(settings)
    portal.set_app(app)
    rt: PaymentRuntime = app.extensions[RUNTIME_KEY]
    world = World(app, rt, fbs_state, nexi_state, portal)
    rt.enqueue = world.enqueued.append
    yield world
    nexi_state.wake.set()
    portal.stop()
    nexi_sim.stop_nexi_sim(nexi_server)
    fbs.stop()


# -- helpers for the fault-injection and interleaving tests (added; the fixture above is unchanged) --

# Anne's payable fees in øre, as the demo data gives them to the FBS simulator.
AMOUNTS = {501: 3000, 502: 24950, 503: 1525, 504: 2000}


def total_ore(fee_ids: tuple[int, ...] = PAYABLE) -> int:
    return sum(AMOUNTS[fee_id] for fee_id in fee_ids)


def webhook_body(
    payment_id: str, event: str = "payment.checkout.completed", event_id: str | None = None
) -> dict[str, Any]:
    """A Nexi event as Nexi sends it; a fresh event id unless one is given (a re-post keeps its id)."""
    return {
        "id": event_id or uuid.uuid4().hex,
        "event": event,
        "timestamp": "2026-01-01T12:00:00+01:00",
        "merchantId": nexi_sim.state.DEV_NEXI_MERCHANT_ID,
        "data": {"paymentId": payment_id},
    }


def post_webhook(world: World, body: dict[str, Any], authorization: str | None) -> int:
    """POST one webhook to the live portal, as Nexi would; the status it answered."""
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = httpx.post(world.portal.url + checkout.WEBHOOK_PATH, json=body, headers=headers, timeout=10)
    return response.status_code


def fail_nexi_once(world: World, endpoint: str, status: int = 500) -> None:
    """The next call of one Nexi endpoint (not just the next call) answers `status`.

    The simulator's own fail_next hits whatever call comes next; an order's step makes several.
    """
    original = world.nexi.begin_call
    left = [1]

    def begin_call(name: str) -> Any:
        if name == endpoint and left[0]:
            left[0] -= 1
            world.nexi.fail_next(1, status)
        return original(name)

    world.nexi.begin_call = begin_call  # type: ignore[method-assign,assignment]


def nexi_api(world: World, method: str, path: str, json: Any = None) -> httpx.Response:
    """Call the Nexi simulator's API directly, as staff in Nexi's portal would act on a payment."""
    base = world.rt.settings.nexi_base_url
    assert base is not None
    headers = {"Authorization": nexi_sim.DEV_NEXI_SECRET_KEY}
    return httpx.request(method, base + path, json=json, headers=headers, timeout=10)


def inbox(world: World, order_id: str) -> list[str]:
    """Event ids in the order's webhook inbox."""
    with world.rt.sessions() as session:
        query = select(PaymentWebhookRow.event_id).where(PaymentWebhookRow.order_id == order_id)
        return sorted(session.scalars(query).all())


def history_notes(world: World, order_id: str) -> list[str]:
    with world.rt.sessions() as session:
        return [event.note for event in store.history(session, order_id)]


def pay_at_counter(world: World, fee_id: int, patron_id: int = ANNE) -> None:
    """Staff take the fee at the counter: FBS now lists it paid, by no order of ours."""
    with world.fbs.lock:
        for fee in world.fbs.fees[patron_id]:
            if fee["feeId"] == fee_id:
                fee["paidDate"] = "2026-01-02"
                return
    raise AssertionError(f"no fee {fee_id}")


def change_fee(world: World, fee_id: int, patron_id: int = ANNE, **fields: Any) -> None:
    with world.fbs.lock:
        for fee in world.fbs.fees[patron_id]:
            if fee["feeId"] == fee_id:
                fee.update(fields)
                return
    raise AssertionError(f"no fee {fee_id}")


def reset_fbs(world: World) -> None:
    """Anne's fees payable again, as at the start: no payments, no faults."""
    with world.fbs.lock:
        world.fbs.fees = copy.deepcopy(demo_data.FEES)
        world.fbs.paid_by.clear()
        world.fbs.payments.clear()
        world.fbs.reset_faults()
