"""preview_debts: the example borrower's debts for any library, without a single HTTP call."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import httpx
import pytest

from portal import clock
from portal.devtools.fbi_sim import DEMO_WORKS
from portal.domain.overview import RowNote
from portal.domain.works import Work
from portal.libraries.library import Library
from portal.providers.fbi_parse import parse_manifestation
from portal.services.debts import ProviderStatus
from portal.services.preview_debts import EXAMPLE_WORKS, example_works, preview_debts

ELSEWHERE = Library(slug="faxe", name="Faxe Bibliotekerne", agency_id="DK-732000", cutoff_date=date(2021, 9, 1))


@pytest.fixture(autouse=True)
def no_http(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("preview_debts must not make HTTP calls")

    monkeypatch.setattr(httpx.Client, "send", refuse)


def test_every_state_of_the_page_is_in_the_example() -> None:
    with clock.frozen(datetime(2024, 5, 10, 12)):
        debts = preview_debts(ELSEWHERE)
    overview = debts.overview
    assert debts.patron.name == "Anne Andersen" and debts.debtor is ProviderStatus.OK
    assert overview.cutoff_date == date(2021, 9, 1)
    assert overview.payable_here.total == Decimal("314.75")
    assert overview.handed_over.total == Decimal("155.00")
    notes = {row.note for row in overview.handed_over.rows}
    assert notes == {
        None,
        RowNote.ADDED_BY_MUNICIPALITY,
        RowNote.AWAITING_REGISTRATION,
        RowNote.NOT_YET_IN_DEBTOR_SYSTEM,
    }
    assert [row.claim_id for row in overview.recently_paid] == ["LTK-2023-0506-R1"]
    assert overview.recently_paid[0].paid == date(2024, 5, 9)


def test_the_example_fees_are_named_by_made_up_titles() -> None:
    debts = preview_debts(ELSEWHERE)
    fees = [*debts.overview.payable_here.rows, *debts.overview.handed_over.rows, *debts.overview.recently_paid]
    records = {m.record_id for row in fees for m in row.materials if m.record_id}
    # Every material of the example has a title, so the preview shows the fee rows as citizens see them.
    assert records and records <= set(debts.works)
    assert debts.works["27655033"] == Work(
        "27655033", "Skovens stemmer : en lydfortælling", ("Mads Lind",), "lydbog (cd-mp3)", 2017
    )
    assert debts.works["22639862"].year == 2003  # "[2003]" read as a live FBI answer is
    # The fees and totals are the same as without titles.
    assert debts.overview.total == Decimal("469.75")


def test_the_example_titles_are_the_demo_fbi_simulators() -> None:
    # The demo (make run) names Anne's fees through the FBI simulator: the preview must match it.
    simulated = {faust: parse_manifestation(DEMO_WORKS[faust], faust) for faust in EXAMPLE_WORKS}
    assert simulated == example_works()
