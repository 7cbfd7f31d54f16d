"""Retention: finished orders are purged after the configured number of days; others never.

Personal data (the patron id) is already gone from an order when it finishes
(`portal.payments.store.transition`); what remains (fee ids and names, amounts, the masked card,
the history) is the receipt and the accounting trail, kept for `retention_days`. An order that is
not finished — in progress, or waiting for staff in review — is never purged, however old.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete

from portal import clock
from portal.payments.models import PaymentOrderRow
from portal.payments.runtime import PaymentRuntime
from portal.payments.states import FINISHED

log = logging.getLogger(__name__)


def purge(rt: PaymentRuntime, retention_days: int) -> int:
    """Delete orders finished more than `retention_days` ago (with their history); how many."""
    cutoff = clock.now() - timedelta(days=retention_days)
    with rt.sessions() as session:
        result = session.execute(
            delete(PaymentOrderRow).where(
                PaymentOrderRow.state.in_([state.value for state in FINISHED]),
                PaymentOrderRow.finished_at.is_not(None),
                PaymentOrderRow.finished_at < cutoff,
            )
        )
        session.commit()
    count = int(result.rowcount)  # type: ignore[attr-defined]
    if count:
        log.info("payments: purged %d order(s) finished before %s", count, cutoff.date())
    return count
