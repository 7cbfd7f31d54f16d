"""A fee placed otherwise than the cut-off date says is logged once a day per library, fee type and direction."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from portal import clock
from portal.domain.fees import Fee, FeeType
from portal.domain.merge import merge
from portal.domain.overview import DebtOverview
from portal.libraries.library import Library
from portal.services import debts

CUTOFF = date(2021, 6, 15)
LYNGBY = Library(slug="lyngby", name="Lyngby", agency_id="DK-717300", cutoff_date=CUTOFF)
NORD = Library(slug="lyngby-nord", name="Lyngby Nord", agency_id="DK-717300", cutoff_date=CUTOFF)
DAY = datetime(2026, 12, 2, 12, 0)


def handed_over_early(fee_id: int, kind: FeeType = FeeType.FEE) -> Fee:
    """Created before the cut-off date (so payable here by the date), yet handed over by FBS."""
    return Fee(fee_id, kind, "Gebyr", Decimal("30.00"), date(2021, 1, 1), None, payable_by_client=False)


def overview(*fees: Fee) -> DebtOverview:
    return merge(list(fees), None, CUTOFF, DAY.date())


@pytest.fixture(autouse=True)
def fresh_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(debts, "_MISMATCHES_LOGGED", debts._SaidToday())


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "disagrees with cut-off date" in r.getMessage()]


def test_every_view_repeating_it_logs_it_once_a_day(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="portal.services.debts"), clock.frozen(DAY) as frozen:
        for _view in range(5):
            debts.log_disagreements(LYNGBY, overview(handed_over_early(1), handed_over_early(2)))
        assert len(logged(caplog)) == 1 and "library=lyngby fee=1 type=fee" in logged(caplog)[0]
        # The next Danish day it is said again, once.
        frozen.advance(timedelta(days=1))
        debts.log_disagreements(LYNGBY, overview(handed_over_early(1)))
        debts.log_disagreements(LYNGBY, overview(handed_over_early(1)))
    assert len(logged(caplog)) == 2


def test_each_library_and_fee_type_is_told_apart(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="portal.services.debts"), clock.frozen(DAY):
        debts.log_disagreements(LYNGBY, overview(handed_over_early(1)))
        debts.log_disagreements(NORD, overview(handed_over_early(1)))  # a slug sharing Lyngby's prefix
        debts.log_disagreements(LYNGBY, overview(handed_over_early(3, FeeType.COMPENSATION)))
        debts.log_disagreements(LYNGBY, overview(handed_over_early(4, FeeType.COMPENSATION)))
    assert [line.split(" created=")[0] for line in logged(caplog)] == [
        "library=lyngby fee=1 type=fee",
        "library=lyngby-nord fee=1 type=fee",
        "library=lyngby fee=3 type=compensation",
    ]


def test_the_other_direction_is_its_own_line(caplog: pytest.LogCaptureFixture) -> None:
    payable_late = Fee(5, FeeType.FEE, "Gebyr", Decimal("30.00"), date(2022, 1, 1), None, payable_by_client=True)
    with caplog.at_level(logging.WARNING, logger="portal.services.debts"), clock.frozen(DAY):
        debts.log_disagreements(LYNGBY, overview(handed_over_early(1), payable_late))
    assert len(logged(caplog)) == 2
