"""The scaled-out portal as a whole: two web processes on PostgreSQL and Redis (issue 11).

The stack (tests/support/stack.py) runs with PORTAL_DATABASE_URL on PostgreSQL, PORTAL_CACHE_URL and
PORTAL_QUEUE_URL on Redis. Its portal is the first web process: it signs citizens in and gets Nexi's
webhooks (PORTAL_BASE_URL points at it) and runs no worker (PORTAL_QUEUE_WORKER=external). A second
app on the same back-ends, served on its own port, is the second web process and runs the worker.
A borrower signs in on the first, is shown the overview by the second (the session is in Redis),
starts a card payment there, and the payment completes through the queue alone.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from flask import Flask

from portal import create_app
from portal.devtools import nexi_sim
from portal.payments import store
from portal.payments.runtime import PaymentRuntime
from portal.payments.setup import RUNTIME_KEY
from tests.scaleout.conftest import stop_worker
from tests.support.live import LiveServer, start_live_server
from tests.support.login import http_login
from tests.support.stack import Stack, start_stack

ANNES_PAYABLE = {501: 3000, 502: 24950, 503: 1525, 504: 2000}  # øre, the demo data
WAIT = 30.0  # a bound for a broken set-up, never a measurement


@dataclasses.dataclass
class TwoProcesses:
    stack: Stack  # the first web process and the simulators
    second: Flask
    second_server: LiveServer

    @property
    def first_url(self) -> str:
        return self.stack.url

    @property
    def second_url(self) -> str:
        return self.second_server.url


@pytest.fixture
def processes(tmp_path: Path, database_url: str, redis_url: str, apps: list[Flask]) -> Iterator[TwoProcesses]:
    stack = start_stack(
        tmp_path,
        card_payment=True,
        PORTAL_DATABASE_URL=database_url,
        PORTAL_CACHE_URL=redis_url,
        PORTAL_QUEUE_URL=redis_url,
        PORTAL_QUEUE_WORKER="external",
    )
    apps.append(stack.app)
    # The same deployment's settings (one PORTAL_BASE_URL behind the load balancer), this process with the worker.
    settings = dataclasses.replace(stack.app.config["PORTAL_SETTINGS"], queue_worker="embedded")
    second = create_app(settings)
    apps.append(second)
    server = start_live_server(second)
    for app in (stack.app, second):
        app.config["SESSION_COOKIE_SECURE"] = False  # plain http on loopback
    yield TwoProcesses(stack, second, server)
    stop_worker(second)
    stack.stop()
    server.stop()


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found[1]


def card_form_fees(html: str) -> dict[int, int]:
    """{fee id: øre} of the card form's checkboxes."""
    found = re.findall(r'name="fee" value="(\d+)"[^>]*data-amount-ore="(\d+)"', html)
    return {int(fee): int(ore) for fee, ore in found}


def visible_text(html: str) -> str:
    """The page's text, roughly: tags dropped, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def the_payment(state: nexi_sim.SimState) -> nexi_sim.Payment:
    with state.lock:
        payments = list(state.payments.values())
    assert len(payments) == 1, [payment.payment_id for payment in payments]
    return payments[0]


def wait_for_state(client: httpx.Client, status_url: str, wanted: str) -> str:
    end = time.monotonic() + WAIT
    state = client.get(status_url).json()["state"]
    while state != wanted and time.monotonic() < end:
        time.sleep(0.05)
        state = client.get(status_url).json()["state"]
    return str(state)


def test_the_back_ends_are_postgresql_and_redis(processes: TwoProcesses) -> None:
    # Guards the test below: a fallback to the embedded defaults would make it prove nothing.
    for app in (processes.stack.app, processes.second):
        settings = app.config["PORTAL_SETTINGS"]
        assert app.extensions["portal.db.engine"].dialect.name == "postgresql"
        assert settings.cache_url.startswith("redis://") and settings.queue_url.startswith("redis://")
    assert processes.stack.app.config["PORTAL_SETTINGS"].queue_worker == "external"


def test_signed_in_on_one_process_paid_through_the_other(processes: TwoProcesses) -> None:
    stack = processes.stack
    with httpx.Client(timeout=10) as client:
        signed_in = http_login(client, processes.first_url, "demo-anne")
        assert signed_in.status_code == 200 and "469,75" in signed_in.text

        # The other process knows the session (Redis) and the borrower (the same FBS figures).
        overview = client.get(f"{processes.second_url}/lyngby/")
        assert overview.status_code == 200 and "469,75" in overview.text
        assert card_form_fees(overview.text) == ANNES_PAYABLE

        started = client.post(
            f"{processes.second_url}/lyngby/betaling/",
            data={"fee": [str(fee) for fee in ANNES_PAYABLE], "csrf_token": csrf_token(overview.text)},
        )
        assert started.status_code == 303, started.text
        payment = the_payment(stack.nexi_state)
        assert started.headers["location"] == payment.hosted_payment_page_url
        order_id = payment.order["reference"]
        assert isinstance(order_id, str)

        # Anne pays on Nexi's page; Nexi's webhooks reach the first process, which only queues the
        # step in Redis; the second process's worker takes it from there.
        stack.nexi_state.reserve(payment, "Visa")
        status_url = f"{processes.first_url}/lyngby/betaling/{order_id}/status"
        assert wait_for_state(client, status_url, "completed") == "completed"

        receipt = client.get(f"{processes.first_url}/lyngby/betaling/{order_id}/")
        assert "Betalingen er registreret" in receipt.text and "Kvittering" in receipt.text
        after = client.get(f"{processes.second_url}/lyngby/")
        assert card_form_fees(after.text) == {}  # paid: nothing left to pay by card
        # What is left is the municipality's part: 469,75 kr. less the 314,75 kr. paid by card.
        assert "I alt skylder du 155,00 kr." in visible_text(after.text)  # (split() takes the no-break space too)

    assert len(payment.charges) == 1 and payment.charged == sum(ANNES_PAYABLE.values())
    with stack.fbs_state.lock:
        registered = sorted(fee for fee, (paid_by, _day) in stack.fbs_state.paid_by.items() if paid_by == order_id)
    assert registered == sorted(ANNES_PAYABLE)
    runtime: PaymentRuntime = processes.second.extensions[RUNTIME_KEY]
    with runtime.sessions() as session:
        moves = {event.source for event in store.history(session, order_id) if event.from_state and event.to_state}
    # Moved on by the worker (a queued step, or its reconciler), never by a request of either process.
    assert moves <= {"citizen", "worker", "reconciler"} and moves & {"worker", "reconciler"}, moves
