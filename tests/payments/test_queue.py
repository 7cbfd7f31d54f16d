"""The payment queue on Huey: tasks reach the machine, a lost task loses nothing, one worker per order.

The queue is only a speed-up: the database's `next_attempt_at` is the outbox. So a failed
enqueue must still end with the order done — by the reconciler — and a lease must keep a second
worker off an order another worker holds, until the lease runs out.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from huey import MemoryHuey, RedisHuey, SqliteHuey

from portal import clock
from portal.payments import machine, store
from portal.payments.queue import PaymentQueue, make_huey
from portal.payments.states import State
from tests.payments.conftest import PAYABLE, World


def wait_for_state(world: World, order_id: str, wanted: State, timeout: float = 10.0) -> State:
    """The order's state once it is `wanted` (or the last one seen when `timeout` runs out)."""
    end = time.monotonic() + timeout
    state = world.state(order_id)
    while state is not wanted and time.monotonic() < end:
        time.sleep(0.05)
        state = world.state(order_id)
    return state


def paid_at_nexi(world: World) -> str:
    started = world.start()
    world.pay_at_nexi(started.order_id)
    world.nexi.wait_for_webhooks_sent()
    return started.order_id


@pytest.mark.parametrize(
    ("url", "kind"),
    [("memory://", MemoryHuey), ("redis://127.0.0.1:9/0", RedisHuey)],
)
def test_the_queue_url_picks_the_storage(url: str, kind: type) -> None:
    assert isinstance(make_huey(url), kind)


def test_a_sqlite_queue_lives_in_its_file(tmp_path: Path) -> None:
    huey = make_huey(f"sqlite:///{tmp_path / 'queues' / 'q.sqlite3'}")
    assert isinstance(huey, SqliteHuey)
    assert (tmp_path / "queues").is_dir()


def test_an_unknown_queue_url_is_refused() -> None:
    with pytest.raises(ValueError, match="ftp"):
        make_huey("ftp://example")


def test_the_in_process_worker_completes_an_order(world: World) -> None:
    queue = PaymentQueue(MemoryHuey("test-worker"), world.rt, retention_days=90)
    queue.start_in_process(workers=2)
    try:
        order_id = paid_at_nexi(world)
        queue.enqueue(order_id)
        assert wait_for_state(world, order_id, State.COMPLETED) is State.COMPLETED
    finally:
        queue.stop()
    assert world.charges(order_id) == 1
    assert world.registrations(order_id) == sorted(PAYABLE)


def test_a_task_that_cannot_be_queued_is_done_by_the_reconciler(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    queue = PaymentQueue(MemoryHuey("test-broken"), world.rt, retention_days=90)

    def storage_down(*_args: object, **_kwargs: object) -> None:
        raise ConnectionError("queue storage down")

    monkeypatch.setattr(queue.huey, "enqueue", storage_down)
    order_id = paid_at_nexi(world)
    queue.enqueue(order_id)  # logged, not raised: the webhook still gets its 200
    assert world.state(order_id) is State.CHECKOUT_OPEN
    # The webhook made the step due in the database; the reconciler finds it.
    assert machine.reconcile(world.rt) == 1
    assert world.state(order_id) is State.COMPLETED
    assert world.charges(order_id) == 1


def test_a_second_worker_leaves_a_leased_order_alone_until_the_lease_runs_out(world: World) -> None:
    order_id = paid_at_nexi(world)
    with clock.frozen(clock.now()) as frozen, world.rt.sessions() as session:
        assert store.claim(session, order_id, "crashed-worker")
        assert world.advance(order_id) is State.CHECKOUT_OPEN  # nothing done: another worker holds it
        assert world.nexi.call_count("retrieve") == 0
        assert machine.reconcile(world.rt) == 0  # a held order is not due for the reconciler either
        frozen.advance(store.LEASE + timedelta(seconds=1))
        assert world.advance(order_id) is State.COMPLETED
    assert world.charges(order_id) == 1


def test_the_worker_command_is_there(world: World) -> None:
    result = world.app.test_cli_runner().invoke(args=["payments", "worker", "--help"])
    assert result.exit_code == 0
    assert "--workers" in result.output


def _queue_with_a_task_running() -> tuple[PaymentQueue, threading.Event, threading.Event]:
    """An in-process consumer busy with a task that ends only when released; (queue, release, done)."""
    runtime = SimpleNamespace()  # the payment tasks are never run here
    queue = PaymentQueue(MemoryHuey(immediate=False), runtime, retention_days=30)  # type: ignore[arg-type]
    started, release, done = threading.Event(), threading.Event(), threading.Event()

    def busy() -> None:
        started.set()
        release.wait(10)
        done.set()

    task = queue.huey.task()(busy)
    queue.start_in_process(workers=1)
    task()
    assert started.wait(10), "the consumer never ran the task"
    return queue, release, done


def test_a_graceful_stop_waits_for_the_running_task() -> None:
    queue, release, done = _queue_with_a_task_running()
    stopping = threading.Thread(target=queue.stop, kwargs={"graceful": True})
    stopping.start()
    stopping.join(0.5)
    assert stopping.is_alive() and not done.is_set()  # still waiting for the task
    release.set()
    stopping.join(10)
    assert not stopping.is_alive() and done.is_set()


def test_a_stop_at_exit_does_not_wait() -> None:
    queue, release, done = _queue_with_a_task_running()
    queue.stop()
    assert not done.is_set()  # returned with the task still running
    release.set()
