"""citizen_debts: patron look-up once per session, both providers at once, the debtor failing alone."""

from __future__ import annotations

import logging
import threading
from datetime import date, datetime
from decimal import Decimal

import pytest
from cachelib import SimpleCache

from portal import clock
from portal.domain.claims import Claim, ClaimStatus
from portal.domain.fees import Fee, FeeType, Patron
from portal.domain.overview import RowNote
from portal.libraries.library import Library
from portal.providers.credentials import FbsLogin
from portal.providers.errors import UpstreamBadResponse, UpstreamError, UpstreamTimeout
from portal.providers.upstreams import Upstreams
from portal.services.debts import PatronMemo, ProviderStatus, citizen_debts
from tests.support.settings import REQUIRED, test_settings

LIBRARY = Library(slug="lyngby", name="Lyngby", agency_id="DK-717300", cutoff_date=date(2021, 6, 15))
MISSING = object()
CPR = "0101901111"


def fee(fee_id: int, amount: str, payable: bool, created: date = date(2021, 1, 1), paid: date | None = None) -> Fee:
    return Fee(
        fee_id=fee_id,
        type=FeeType.FEE,
        reason="Gebyr",
        amount=Decimal(amount),
        created=created,
        due=None,
        payable_by_client=payable,
        paid=paid,
    )


def claim(
    claim_id: str,
    fee_id: int | None,
    amount: str,
    outstanding: str | None = None,
    paid: date | None = None,
    origin: str | None = None,
) -> Claim:
    left = Decimal(outstanding or amount)
    return Claim(
        claim_id=claim_id,
        description="Gebyr",
        created=date(2022, 1, 2),
        original_amount=Decimal(amount),
        outstanding=left,
        status=ClaimStatus.INVOICED,
        fee_id=fee_id,
        origin_claim_id=origin,
        paid_amount=Decimal(amount) - left,
        paid=paid,
    )


class FakeFbs:
    def __init__(
        self,
        fees: list[Fee],
        patron_id: int | None = 7,
        fail: UpstreamError | None = None,
        barrier: threading.Barrier | None = None,
    ) -> None:
        self._fees, self._patron_id, self.lookups = fees, patron_id, 0
        self._fail, self._barrier = fail, barrier

    def find_patron_id(self, cpr: str) -> int | None:
        self.lookups += 1
        return self._patron_id

    def patron(self, patron_id: int) -> Patron:
        return Patron(patron_id=patron_id)

    def fees(self, patron_id: int) -> list[Fee]:
        if self._barrier is not None:
            self._barrier.wait()  # answers only once the debtor was asked too
        if self._fail is not None:
            raise self._fail
        return self._fees


class FakeDebtor:
    def __init__(
        self, claims: list[Claim], fail: Exception | None = None, barrier: threading.Barrier | None = None
    ) -> None:
        self._claims, self._fail, self._barrier = claims, fail, barrier
        self.asked: list[tuple[int, str]] = []

    def claims(self, patron_id: int, cpr: str) -> list[Claim]:
        self.asked.append((patron_id, cpr))
        if self._barrier is not None:
            self._barrier.wait()
        if self._fail is not None:
            raise self._fail
        return self._claims


def memo() -> tuple[PatronMemo, dict[str, object]]:
    store: dict[str, object] = {}
    return PatronMemo(get=lambda agency: store.get(agency, MISSING), remember=store.__setitem__, missing=MISSING), store


class FakeUpstreams(Upstreams):
    """Real upstreams (settings, FBS login resolution) whose FBS and debtor clients are fakes."""

    def __init__(self, fbs: FakeFbs, debtor: FakeDebtor | None, environment: dict[str, str]) -> None:
        super().__init__(test_settings(**environment), SimpleCache())
        self.http.close()  # no HTTP in these tests
        self._fake_fbs, self._fake_debtor = fbs, debtor
        self.logins: list[tuple[str, FbsLogin]] = []

    def fbs(self, agency_id: str, login: FbsLogin) -> FakeFbs:  # type: ignore[override]
        self.logins.append((agency_id, login))
        return self._fake_fbs

    def debtor(self, agency_id: str) -> FakeDebtor | None:  # type: ignore[override]
        return self._fake_debtor


def use(fake: FakeFbs, debtor: FakeDebtor | None = None, **environment: str) -> FakeUpstreams:
    return FakeUpstreams(fake, debtor, environment)


def test_looks_up_the_patron_once_and_splits(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeFbs([fee(1, "10.50", True), fee(2, "5", False, date(2022, 1, 1))])
    up = use(fake)
    patron_memo, store = memo()
    first = citizen_debts(up, LIBRARY, CPR, patron_memo)
    second = citizen_debts(up, LIBRARY, CPR, patron_memo)
    assert fake.lookups == 1 and store == {"DK-717300": 7}
    assert first is not None and second is not None
    assert first.overview.payable_here.total == Decimal("10.50")
    assert first.overview.handed_over.total == Decimal("5.00")


def test_not_a_borrower_is_remembered_as_none(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeFbs([], patron_id=None)
    debtor = FakeDebtor([])
    up = use(fake, debtor)
    patron_memo, store = memo()
    assert citizen_debts(up, LIBRARY, CPR, patron_memo) is None
    assert citizen_debts(up, LIBRARY, CPR, patron_memo) is None
    assert fake.lookups == 1 and store == {"DK-717300": None}
    assert debtor.asked == []


# A library logging in to FBS as a client of its own.
OWN_LOGIN = Library(
    slug="x",
    name="X",
    agency_id="DK-717300",
    cutoff_date=date(2021, 6, 15),
    fbs_username_env="X_FBS_USER",
    fbs_password_env="X_FBS_PASSWORD",
)


def test_library_credentials_come_from_its_variables_as_read_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    up = use(FakeFbs([]), X_FBS_USER="xuser", X_FBS_PASSWORD="xpass")
    monkeypatch.setenv("X_FBS_PASSWORD", "changed after start-up")  # never read at request time
    citizen_debts(up, OWN_LOGIN, CPR, memo()[0])
    citizen_debts(up, LIBRARY, CPR, memo()[0])
    assert up.logins == [
        ("DK-717300", FbsLogin("xuser", "xpass")),
        ("DK-717300", FbsLogin(REQUIRED["PORTAL_FBS_USERNAME"], REQUIRED["PORTAL_FBS_PASSWORD"])),
    ]


def test_unset_library_variable_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    up = use(FakeFbs([]), X_FBS_USER="xuser")
    monkeypatch.setenv("X_FBS_PASSWORD", "set only after start-up")
    with pytest.raises(UpstreamError, match="library x: environment variable X_FBS_PASSWORD"):
        citizen_debts(up, OWN_LOGIN, CPR, memo()[0])
    assert up.logins == []


# -- with the debtor system ------------------------------------------------------------------


def test_debtor_claims_are_merged(monkeypatch: pytest.MonkeyPatch) -> None:
    debtor = FakeDebtor([claim("C-2", 2, "5.00"), claim("R-1", None, "65.00", origin="C-2")])
    up = use(FakeFbs([fee(1, "10.50", True), fee(2, "5", False, date(2022, 1, 1))]), debtor)
    result = citizen_debts(up, LIBRARY, CPR, memo()[0])
    assert result is not None
    assert result.debtor is ProviderStatus.OK and result.providers == {"fbs": "ok", "debtor": "ok"}
    assert result.overview.handed_over.total == Decimal("70.00")
    assert result.overview.total == Decimal("80.50")
    assert debtor.asked == [(7, CPR)]


def test_not_configured_is_said_so(monkeypatch: pytest.MonkeyPatch) -> None:
    up = use(FakeFbs([fee(2, "5", False, date(2022, 1, 1))]), None)
    result = citizen_debts(up, LIBRARY, CPR, memo()[0])
    assert result is not None and result.providers == {"fbs": "ok", "debtor": "not_configured"}
    assert not result.overview.debtor_known
    assert result.overview.handed_over.rows[0].note is None


@pytest.mark.parametrize(
    "failure",
    [
        UpstreamTimeout("debtor", "slow"),
        UpstreamBadResponse("debtor", "garbage"),
        RuntimeError("a bug on the optional side"),
    ],
)
def test_a_failing_debtor_leaves_the_fbs_figures(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, failure: Exception
) -> None:
    up = use(FakeFbs([fee(1, "10.50", True), fee(2, "5", False, date(2022, 1, 1))]), FakeDebtor([], fail=failure))
    with caplog.at_level(logging.WARNING, logger="portal.services.debts"):
        result = citizen_debts(up, LIBRARY, CPR, memo()[0])
    assert result is not None and result.debtor is ProviderStatus.ERROR
    assert result.providers == {"fbs": "ok", "debtor": "error"}
    assert result.overview.total == Decimal("15.50")
    # Without debtor data nothing may be claimed "not yet visible in Mit Betalingsoverblik".
    assert not result.overview.debtor_known and result.overview.handed_over.rows[0].note is None
    assert "showing FBS data only" in caplog.text and CPR not in caplog.text


def test_a_failing_fbs_fails_the_whole_page_even_with_the_debtor_up(monkeypatch: pytest.MonkeyPatch) -> None:
    up = use(FakeFbs([], fail=UpstreamTimeout("fbs", "slow")), FakeDebtor([claim("C-2", 2, "5.00")]))
    with pytest.raises(UpstreamTimeout):
        citizen_debts(up, LIBRARY, CPR, memo()[0])


def test_both_providers_are_asked_at_the_same_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each fake answers only once the other was asked: one after the other would break the barrier."""
    barrier = threading.Barrier(2, timeout=5)
    up = use(
        FakeFbs([fee(2, "5", False, date(2022, 1, 1))], barrier=barrier),
        FakeDebtor([claim("C-2", 2, "5.00")], barrier=barrier),
    )
    result = citizen_debts(up, LIBRARY, CPR, memo()[0])
    assert result is not None and result.debtor is ProviderStatus.OK
    assert not barrier.broken


def test_amount_differences_are_logged_without_personal_data(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    up = use(
        FakeFbs([fee(2, "30.00", False, date(2022, 1, 1))]), FakeDebtor([claim("C-2", 2, "30.00", outstanding="20.00")])
    )
    with caplog.at_level(logging.WARNING, logger="portal.services.debts"):
        result = citizen_debts(up, LIBRARY, CPR, memo()[0])
    assert result is not None and result.overview.handed_over.total == Decimal("20.00")
    assert "disagree (amount): fee=2 claim=C-2 fbs_amount=30.00 debtor_amount=20.00" in caplog.text
    assert CPR not in caplog.text


def test_recently_paid_follows_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    up = use(
        FakeFbs([fee(1, "10", True, paid=date(2024, 5, 1))]),
        FakeDebtor([claim("C-9", 9, "5.00", outstanding="0", paid=date(2024, 4, 20))]),
    )
    with clock.frozen(datetime(2024, 5, 10, 12)):
        result = citizen_debts(up, LIBRARY, CPR, memo()[0])
    assert result is not None
    assert [(r.fee_id, r.claim_id) for r in result.overview.recently_paid] == [(1, None), (None, "C-9")]
    with clock.frozen(datetime(2024, 5, 31, 23, 59)):
        later = citizen_debts(up, LIBRARY, CPR, memo()[0])
    assert later is not None and [r.fee_id for r in later.overview.recently_paid] == [1]
    assert later.overview.is_empty and later.overview.total == Decimal("0.00")


def test_awaiting_registration_is_not_owed(monkeypatch: pytest.MonkeyPatch) -> None:
    up = use(
        FakeFbs([fee(6, "399", False, date(2022, 1, 1))]),
        FakeDebtor([claim("C-6", 6, "399.00", outstanding="0", paid=clock.today())]),
    )
    result = citizen_debts(up, LIBRARY, CPR, memo()[0])
    assert result is not None
    [row] = result.overview.handed_over.rows
    assert row.note is RowNote.AWAITING_REGISTRATION and result.overview.total == Decimal("0.00")
