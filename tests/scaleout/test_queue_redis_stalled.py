"""The payment queue on a stalled Redis: enqueueing gives up and says so; an idle worker's wait is no error.

Stalled is a redis-server stopped with SIGSTOP (tests/support/redis_server.py): connections stay
open and nothing answers. Without a socket timeout redis-py waits for ever, and the web thread of
a checkout or a webhook with it; the reconciler finishes what could not be enqueued.
"""

from __future__ import annotations

import logging
import threading
import time
from types import SimpleNamespace

import pytest
from huey import RedisHuey

from portal.payments.queue import QUEUE_BLOCKING_READ, QUEUE_SOCKET_TIMEOUT, PaymentQueue, make_huey
from tests.support.redis_server import stalled

# Far above the socket timeout; only a client without one is still waiting.
GIVE_UP_AFTER = 20


def test_enqueueing_on_a_stalled_redis_gives_up_and_logs(redis_url: str, caplog: pytest.LogCaptureFixture) -> None:
    huey = make_huey(redis_url)
    runtime = SimpleNamespace()  # the payment tasks are never run here
    queue = PaymentQueue(huey, runtime, retention_days=30)  # type: ignore[arg-type]
    queue.enqueue("order-before")  # a healthy Redis takes it
    assert huey.pending_count() == 1
    with stalled(redis_url), caplog.at_level(logging.ERROR, logger="portal.payments.queue"):
        enqueuing = threading.Thread(target=queue.enqueue, args=("order-stalled",), daemon=True)
        enqueuing.start()
        enqueuing.join(GIVE_UP_AFTER)
        assert not enqueuing.is_alive(), "still waiting for a Redis that never answers"
    assert "order-stalled: could not enqueue; the reconciler will pick it up" in caplog.text
    # The push may still land when Redis wakes (it was sent): advancing an order twice is harmless,
    # the order's lease lets one worker at a time take a step (portal.payments.machine).


def test_an_idle_worker_waits_without_timing_out(redis_url: str) -> None:
    huey = make_huey(redis_url)
    assert isinstance(huey, RedisHuey) and QUEUE_SOCKET_TIMEOUT > QUEUE_BLOCKING_READ
    started = time.monotonic()
    assert huey.storage.dequeue() is None  # the blocking read ends empty, not in a socket timeout
    assert time.monotonic() - started >= QUEUE_BLOCKING_READ * 0.9  # it did block: the read was a wait
