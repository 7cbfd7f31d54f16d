"""The `portal_payment_orders` gauge: card payment orders by state, counted in the database at scrape time.

Read-only: one `GROUP BY` over `payment_orders` (the state column is indexed), remembered for a
few seconds so several Prometheus servers scraping every worker cannot turn into a query
storm. Counted in the database, not in the process, so the numbers are the deployment's, the
same whichever worker answers, and right after a restart. No personal data: states only.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from portal.payments.states import State

log = logging.getLogger(__name__)

CACHE_SECONDS = 15.0
_QUERY = text("SELECT state, COUNT(*) FROM payment_orders GROUP BY state")


class PaymentStates:
    """A scrape-time collector of payment orders by state, on `engine`."""

    def __init__(self, engine: Engine, cache_seconds: float = CACHE_SECONDS) -> None:
        self._engine = engine
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._counted: tuple[float, dict[str, int]] | None = None

    def counts(self) -> dict[str, int] | None:
        """{state: orders}, at most `cache_seconds` old; None when the database cannot be read."""
        with self._lock:
            now = time.monotonic()
            if self._counted is not None and now - self._counted[0] < self._cache_seconds:
                return self._counted[1]
            try:
                with self._engine.connect() as conn:
                    counts = {str(state): int(count) for state, count in conn.execute(_QUERY)}
            except SQLAlchemyError as exc:
                log.warning("payment states not counted: %s", type(exc).__name__)
                return None
            self._counted = (now, counts)
            return counts

    def collect(self) -> Iterator[Metric]:
        counts = self.counts()
        if counts is None:
            return
        gauge = GaugeMetricFamily(
            "portal_payment_orders", "Card payment orders in the database, by state.", labels=["state"]
        )
        # Every known state, 0 when no order is in it, so a graph or alert never sees a gap.
        for state, count in sorted(({state.value: 0 for state in State} | counts).items()):
            gauge.add_metric([state], count)
        yield gauge
