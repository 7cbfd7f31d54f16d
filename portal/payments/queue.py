"""The background work of card payments on Huey: advance an order now, reconcile, purge.

Why Huey: it has the two storages this portal needs behind one API — SQLite for the embedded
default (no extra service for `make run` or one small server) and Redis when scaled out — plus
periodic tasks and a consumer that runs in threads inside the portal process or as its own
command. RQ and Dramatiq need Redis or RabbitMQ even for the smallest deployment.

The queue only carries order ids, never personal data, and is only a speed-up: the database is
the outbox (`payment_orders.next_attempt_at`), so a task lost with a crashed process or a
Redis restart is found by the next reconcile, every minute. Two workers never handle one order
at once: `portal.payments.store.claim` leases it in the database.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlparse

import redis
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer

from portal.config import REDIS_SOCKET_TIMEOUT
from portal.payments import machine, retention
from portal.payments.runtime import PaymentRuntime

log = logging.getLogger(__name__)

QUEUE_NAME = "gebyrportal-payments"
# A worker waits for a task in a blocking read of this many seconds (huey's BRPOP), so its socket
# must wait longer than that; redis-py's own default waits for ever, and a stalled Redis would then
# hold the web thread of a checkout or a webhook that enqueues. The reconciler picks up what
# could not be enqueued.
QUEUE_BLOCKING_READ = 1
QUEUE_SOCKET_TIMEOUT = QUEUE_BLOCKING_READ + 1.0


def make_huey(queue_url: str) -> Huey:
    """The Huey of `queue_url`: sqlite:///<file>, redis://…, or memory:// (one process, tests)."""
    parts = urlparse(queue_url)
    if parts.scheme == "sqlite":
        path = Path(queue_url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(QUEUE_NAME, filename=str(path))
    if parts.scheme in ("redis", "rediss", "unix"):
        pool = redis.ConnectionPool.from_url(
            queue_url, socket_timeout=QUEUE_SOCKET_TIMEOUT, socket_connect_timeout=REDIS_SOCKET_TIMEOUT
        )
        return RedisHuey(QUEUE_NAME, connection_pool=pool, read_timeout=QUEUE_BLOCKING_READ)
    if parts.scheme == "memory":
        return MemoryHuey(QUEUE_NAME)
    raise ValueError(f"unsupported queue URL scheme {parts.scheme!r}")


class _InProcessConsumer(Consumer):  # type: ignore[misc]
    """A consumer inside the portal process: the portal's server owns the signals, not Huey."""

    def _set_signal_handlers(self) -> None:
        pass


class PaymentQueue:
    """One portal's payment tasks on its Huey; `enqueue` is what the web layer and webhooks call."""

    def __init__(self, huey: Huey, runtime: PaymentRuntime, retention_days: int) -> None:
        self.huey = huey
        self._consumer: Consumer | None = None
        self._advance = huey.task(name="payments.advance")(lambda order_id: machine.advance(runtime, order_id))
        self._reconcile = huey.periodic_task(crontab(minute="*"), name="payments.reconcile")(
            lambda: machine.reconcile(runtime)
        )
        self._purge = huey.periodic_task(crontab(minute="17", hour="3"), name="payments.purge")(
            lambda: retention.purge(runtime, retention_days)
        )
        runtime.enqueue = self.enqueue

    def enqueue(self, order_id: str) -> None:
        """Ask a worker to advance the order now. If the queue is down, the reconciler does it."""
        try:
            self._advance(order_id)
        except Exception:
            log.exception("payment order=%s: could not enqueue; the reconciler will pick it up", order_id)

    def start_in_process(self, workers: int = 2) -> None:
        """Run the consumer in threads of this process (`make run`, a single-server deployment)."""
        if self._consumer is None:
            self._consumer = _InProcessConsumer(self.huey, workers=workers, worker_type="thread", periodic=True)
            self._consumer.start()

    def consumer(self, workers: int) -> Consumer:
        """A consumer for the worker command (its own process, with Huey's signal handling)."""
        return Consumer(self.huey, workers=workers, worker_type="thread", periodic=True)

    def stop(self, *, graceful: bool = False) -> None:
        """Stop the in-process consumer: at once (exit), or with `graceful`, once its running tasks are done.

        Graceful waits for the worker threads, so a task in the middle of a payment does not go on
        against a database or an upstream that the caller is about to take away.
        """
        if self._consumer is not None:
            self._consumer.stop(graceful=graceful)
            self._consumer = None
