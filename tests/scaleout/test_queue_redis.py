"""The payment queue on Redis (PORTAL_QUEUE_URL=redis://…, huey's RedisHuey) against a real redis-server.

Scaled out, the web processes only enqueue (PORTAL_QUEUE_WORKER=external) and worker processes
(`flask payments worker`) run the tasks: a task must reach a worker of another process through
Redis alone, and the worker's periodic reconciler must finish an order whose task was lost.
The database is PostgreSQL, as it is in such a deployment.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from huey.consumer import Consumer

from portal.payments import store
from portal.payments.setup import QUEUE_KEY
from portal.payments.states import State
from tests.payments.conftest import PAYABLE, World
from tests.scaleout.conftest import PaymentBackends

REPO = Path(__file__).resolve().parents[2]
LOST_FEES, QUEUED_FEES = PAYABLE[:2], PAYABLE[2:]
WAIT = 30.0  # a bound for a broken set-up, never a measurement


class ThreadConsumer(Consumer):  # type: ignore[misc]
    """Huey's consumer in threads of the test process; pytest keeps its own signal handlers."""

    def _set_signal_handlers(self) -> None:
        pass


def wait_for(check: Callable[[], bool], what: str) -> None:
    end = time.monotonic() + WAIT
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"waited {WAIT} s for {what}")
        time.sleep(0.05)


def paid_at_nexi(world: World, fee_ids: tuple[int, ...] = PAYABLE) -> str:
    order_id = world.start(fee_ids).order_id
    world.pay_at_nexi(order_id)
    world.nexi.wait_for_webhooks_sent()
    return order_id


def sources_of_moves(world: World, order_id: str) -> set[str]:
    """Who made the order's state changes after its checkout opened."""
    with world.rt.sessions() as session:
        events = store.history(session, order_id)
        return {
            event.source for event in events if event.from_state not in (None, State.CREATED.value) and event.to_state
        }


def web_process(make_payment_app: Callable[..., Flask], backends: PaymentBackends, redis_url: str) -> World:
    """A web process on the Redis queue that serves Nexi's webhooks and runs no worker."""
    app = make_payment_app(PORTAL_QUEUE_URL=redis_url)
    backends.portal.set_app(app)
    return backends.world(app)


def test_a_task_queued_by_one_process_is_run_by_a_worker_of_another(
    make_payment_app: Callable[..., Flask], payment_backends: PaymentBackends, redis_url: str
) -> None:
    web = web_process(make_payment_app, payment_backends, redis_url)
    worker = make_payment_app(PORTAL_QUEUE_URL=redis_url)
    order_id = paid_at_nexi(web)
    # Nexi's two webhooks reached the web process, which queued two steps in Redis and did nothing else.
    assert web.app.extensions[QUEUE_KEY].huey.pending_count() == 2
    assert web.state(order_id) is State.CHECKOUT_OPEN

    # The other process's consumer, without its scheduler: only the queued tasks can move the order.
    consumer = ThreadConsumer(worker.extensions[QUEUE_KEY].huey, workers=1, worker_type="thread", periodic=False)
    consumer.start()
    try:
        wait_for(lambda: web.state(order_id) is State.COMPLETED, "the order to complete")
        wait_for(lambda: web.app.extensions[QUEUE_KEY].huey.pending_count() == 0, "the queue to empty")
    finally:
        consumer.stop(graceful=True)
    assert sources_of_moves(web, order_id) == {"worker"}
    assert web.charges(order_id) == 1
    assert web.registrations(order_id) == sorted(PAYABLE)


def test_the_worker_command_reconciles_a_lost_task_and_runs_queued_ones(
    make_payment_app: Callable[..., Flask], payment_backends: PaymentBackends, redis_url: str, tmp_path: Path
) -> None:
    web = web_process(make_payment_app, payment_backends, redis_url)
    queue = web.app.extensions[QUEUE_KEY]
    web.rt.enqueue = lambda _order_id: None  # the tasks are lost (Redis restarted, say): the outbox is not
    lost = paid_at_nexi(web, LOST_FEES)
    assert queue.huey.pending_count() == 0 and web.state(lost) is State.CHECKOUT_OPEN

    log = tmp_path / "worker.log"
    env = {"PATH": os.environ["PATH"], **payment_backends.env, "PORTAL_QUEUE_URL": redis_url}
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "portal:create_app()", "payments", "worker", "--workers", "1"],
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        # Huey's scheduler enqueues the periodic tasks when it starts, then every minute: the reconciler
        # finds the order due in the database.
        wait_for(lambda: web.state(lost) is State.COMPLETED or worker.poll() is not None, "the reconciler")
        assert worker.poll() is None, log.read_text()
        assert sources_of_moves(web, lost) == {"reconciler"}

        web.rt.enqueue = queue.enqueue  # the web process queues again
        queued = paid_at_nexi(web, QUEUED_FEES)
        wait_for(lambda: web.state(queued) is State.COMPLETED, "the queued order to complete")
    finally:
        worker.send_signal(signal.SIGINT)  # huey's graceful stop, as a process manager would ask
        try:
            worker.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    assert worker.returncode == 0, log.read_text()
    for order_id, fee_ids in ((lost, LOST_FEES), (queued, QUEUED_FEES)):
        assert web.charges(order_id) == 1
        assert web.registrations(order_id) == list(fee_ids)
