"""citizen_debts: patron look-up once per session, the rules applied, upstream trouble surfaced."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portal.domain.fees import Fee, FeeType, Patron
from portal.libraries.library import Library
from portal.providers.errors import UpstreamBadResponse, UpstreamError
from portal.services import debts
from portal.services.debts import PatronMemo, citizen_debts

LIBRARY = Library(slug="lyngby", name="Lyngby", agency_id="DK-717300", cutoff_date=date(2021, 6, 15))
MISSING = object()


def fee(fee_id: int, amount: str, payable: bool, created: date = date(2021, 1, 1)) -> Fee:
    return Fee(fee_id=fee_id, type=FeeType.FEE, reason="Gebyr", amount=Decimal(amount), created=created,
               due=None, payable_by_client=payable)


class FakeFbs:
    def __init__(self, fees: list[Fee], patron_id: int | None = 7) -> None:
        self._fees, self._patron_id, self.lookups = fees, patron_id, 0

    def find_patron_id(self, cpr: str) -> int | None:
        self.lookups += 1
        return self._patron_id

    def patron(self, patron_id: int) -> Patron:
        return Patron(patron_id=patron_id)

    def fees(self, patron_id: int, include_paid: bool = False) -> list[Fee]:
        return self._fees


def memo() -> tuple[PatronMemo, dict[str, object]]:
    store: dict[str, object] = {}
    return PatronMemo(get=lambda agency: store.get(agency, MISSING),
                      remember=store.__setitem__, missing=MISSING), store


def use(monkeypatch: pytest.MonkeyPatch, fake: FakeFbs) -> list[tuple[object, ...]]:
    calls: list[tuple[object, ...]] = []
    monkeypatch.setattr(debts, "fbs_for", lambda *args: calls.append(args) or fake)
    return calls


def test_looks_up_the_patron_once_and_splits(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeFbs([fee(1, "10.50", True), fee(2, "5", False, date(2022, 1, 1))])
    use(monkeypatch, fake)
    patron_memo, store = memo()
    first = citizen_debts(LIBRARY, "0101901111", patron_memo)
    second = citizen_debts(LIBRARY, "0101901111", patron_memo)
    assert fake.lookups == 1 and store == {"DK-717300": 7}
    assert first is not None and second is not None
    assert first.overview.payable_here.total == Decimal("10.50")
    assert first.overview.handed_over.total == Decimal("5.00")


def test_not_a_borrower_is_remembered_as_none(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeFbs([], patron_id=None)
    use(monkeypatch, fake)
    patron_memo, store = memo()
    assert citizen_debts(LIBRARY, "0101901111", patron_memo) is None
    assert citizen_debts(LIBRARY, "0101901111", patron_memo) is None
    assert fake.lookups == 1 and store == {"DK-717300": None}


def test_duplicate_fee_ids_are_an_upstream_error(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, FakeFbs([fee(1, "10", True), fee(1, "10", True)]))
    with pytest.raises(UpstreamBadResponse, match="duplicate fee ids"):
        citizen_debts(LIBRARY, "0101901111", memo()[0])


def test_library_credentials_come_from_its_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = use(monkeypatch, FakeFbs([]))
    library = Library(slug="x", name="X", agency_id="DK-717300", cutoff_date=date(2021, 6, 15),
                      fbs_username_env="X_FBS_USER", fbs_password_env="X_FBS_PASSWORD")
    monkeypatch.setenv("X_FBS_USER", "xuser")
    monkeypatch.setenv("X_FBS_PASSWORD", "xpass")
    citizen_debts(library, "0101901111", memo()[0])
    assert calls == [("DK-717300", "xuser", "xpass")]


def test_unset_library_variable_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, FakeFbs([]))
    library = Library(slug="x", name="X", agency_id="DK-717300", cutoff_date=date(2021, 6, 15),
                      fbs_username_env="X_FBS_USER", fbs_password_env="X_FBS_PASSWORD")
    monkeypatch.setenv("X_FBS_USER", "xuser")
    monkeypatch.delenv("X_FBS_PASSWORD", raising=False)
    with pytest.raises(UpstreamError, match="X_FBS_PASSWORD not set"):
        citizen_debts(library, "0101901111", memo()[0])
