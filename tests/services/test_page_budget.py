"""citizen_debts runs every upstream call of the page inside one budget, and waits no longer for the debtor."""

from __future__ import annotations

import threading
import time
from datetime import date
from decimal import Decimal

from portal.domain.claims import Claim
from portal.domain.fees import Fee, Patron
from portal.providers.http import budget_left
from portal.services.debts import ProviderStatus, citizen_debts
from tests.services.test_debts import CPR, LIBRARY, FakeDebtor, FakeFbs, claim, fee, memo, use


class StuckDebtor(FakeDebtor):
    """A debtor system whose answer never comes (until the test lets it go)."""

    def __init__(self) -> None:
        super().__init__([claim("C-2", 2, "5.00")])
        self.release = threading.Event()

    def claims(self, patron_id: int, cpr: str) -> list[Claim]:
        self.release.wait(30)
        return super().claims(patron_id, cpr)


class BudgetSeeingFbs(FakeFbs):
    """Notes the budget left at each call."""

    def __init__(self, fees: list[Fee]) -> None:
        super().__init__(fees)
        self.seen: list[float | None] = []

    def patron(self, patron_id: int) -> Patron:
        self.seen.append(budget_left())
        return super().patron(patron_id)

    def fees(self, patron_id: int) -> list[Fee]:
        self.seen.append(budget_left())
        return super().fees(patron_id)


class BudgetSeeingDebtor(FakeDebtor):
    def __init__(self) -> None:
        super().__init__([])
        self.seen: list[float | None] = []

    def claims(self, patron_id: int, cpr: str) -> list[Claim]:
        self.seen.append(budget_left())
        return super().claims(patron_id, cpr)


def test_every_call_of_the_page_runs_in_the_budget() -> None:
    fbs, debtor = BudgetSeeingFbs([fee(1, "10.50", True)]), BudgetSeeingDebtor()
    result = citizen_debts(use(fbs, debtor, PORTAL_PAGE_BUDGET="7"), LIBRARY, CPR, memo()[0])
    assert result is not None and result.debtor is ProviderStatus.OK
    seen = fbs.seen + debtor.seen  # the debtor's call ran in its background thread
    assert len(seen) == 3 and all(left is not None and 0 < left <= 7 for left in seen)
    assert budget_left() is None  # and the budget ended with the page


def test_a_debtor_answer_later_than_the_budget_leaves_the_fbs_figures() -> None:
    debtor = StuckDebtor()
    up = use(FakeFbs([fee(1, "10.50", True), fee(2, "5", False, date(2022, 1, 1))]), debtor, PORTAL_PAGE_BUDGET="0.5")
    started = time.monotonic()
    try:
        result = citizen_debts(up, LIBRARY, CPR, memo()[0])
        elapsed = time.monotonic() - started
    finally:
        debtor.release.set()
    assert result is not None and result.debtor is ProviderStatus.ERROR
    assert result.providers == {"fbs": "ok", "debtor": "error"}
    # FBS's figures alone: the claim the debtor would have sent is not in them.
    assert result.overview.total == Decimal("15.50") and not result.overview.debtor_known
    assert elapsed < 15  # the debtor would have taken 30 s
