"""The anonymous tally of FBS flags that contradict the cut-off date: counting, summary, privacy.

Every test runs on SQLite and on PostgreSQL (see conftest.database_url).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from portal import clock
from portal.domain.fees import Fee, FeeType
from portal.domain.merge import merge
from portal.domain.overview import Mismatch, fee_mismatches
from portal.libraries import disagreements
from portal.libraries.disagreements import Direction
from portal.libraries.library import Library
from portal.libraries.models import CutoffDisagreementRow
from portal.services.debts import record_disagreements
from tests.libraries.editing_support import LYNGBY, RODOVRE, seed

CUTOFF = LYNGBY.cutoff_date  # 2021-06-15
BOERN = Library("lyngby-boern", "Lyngby-Taarbæk Bibliotekerne, børn", "DK-717301", date(2022, 1, 1))
# Noon in Copenhagen on a Monday; the tally counts Danish calendar days.
NOON = datetime(2027, 1, 11, 12, 0, tzinfo=clock.TIMEZONE)


def fee(fee_id: int, created: str, payable: bool, amount: str = "60") -> Fee:
    return Fee(fee_id, FeeType.FEE, "Gebyr (for sent)", Decimal(amount), date.fromisoformat(created), None, payable)


def mismatches(*fees: Fee, cutoff: date = CUTOFF) -> tuple[Mismatch, ...]:
    found = fee_mismatches(fees, cutoff)
    assert len(found) == len(fees), "every fee of these tests disagrees with the cut-off date"
    return found


def tally(session: Session) -> list[CutoffDisagreementRow]:
    session.expire_all()
    return list(session.scalars(select(CutoffDisagreementRow).order_by(CutoffDisagreementRow.month)))


@pytest.fixture
def seeded(session: Session) -> Session:
    seed(session, LYNGBY, RODOVRE, BOERN)
    return session


def test_each_month_and_direction_is_one_row_and_only_those_leave_the_fee(seeded: Session) -> None:
    found = mismatches(
        fee(507, "2021-02-01", False),  # before the date, handed over anyway
        fee(508, "2021-02-20", False),  # the same month: the same row
        fee(509, "2021-06-10", False),
        fee(510, "2022-03-04", True),  # after the date, still payable here
    )
    disagreements.record(seeded, "lyngby", found, NOON)
    assert [(r.month, r.direction, r.count, r.first_seen, r.last_seen) for r in tally(seeded)] == [
        (date(2021, 2, 1), "handed_over_early", 1, NOON, NOON),
        (date(2021, 6, 1), "handed_over_early", 1, NOON, NOON),
        (date(2022, 3, 1), "payable_late", 1, NOON, NOON),
    ]


def test_the_direction_follows_what_the_date_predicted() -> None:
    early, late = mismatches(fee(1, "2021-06-14", False), fee(2, "2021-06-15", True))
    assert disagreements.direction_of(early) is Direction.HANDED_OVER_EARLY
    assert disagreements.direction_of(late) is Direction.PAYABLE_LATE


def test_reloads_on_one_day_count_once_a_new_day_counts_again(seeded: Session) -> None:
    found = mismatches(fee(507, "2021-02-01", False))
    disagreements.record(seeded, "lyngby", found, NOON)
    for minutes in (1, 2, 3):  # the same borrower pressing reload, and a second borrower
        disagreements.record(seeded, "lyngby", found, NOON + timedelta(minutes=minutes))
    [row] = tally(seeded)
    # The later views of the day wrote nothing: an editor sees days, and a warm page writes no row.
    assert (row.count, row.first_seen, row.last_seen) == (1, NOON, NOON)
    # 23:30 UTC is already the next day in Copenhagen: a new day.
    next_day = datetime(2027, 1, 11, 23, 30, tzinfo=UTC)
    disagreements.record(seeded, "lyngby", found, next_day)
    disagreements.record(seeded, "lyngby", found, next_day + timedelta(hours=2))
    [row] = tally(seeded)
    assert (row.count, row.first_seen, row.last_seen) == (2, NOON, next_day)


def test_nothing_to_record_writes_nothing(seeded: Session) -> None:
    disagreements.record(seeded, "lyngby", (), NOON)
    assert tally(seeded) == []


def test_by_id_as_by_slug(seeded: Session) -> None:
    library_id = seeded.execute(text("SELECT id FROM libraries WHERE slug = 'lyngby'")).scalar_one()
    disagreements.record(seeded, library_id, mismatches(fee(507, "2021-02-01", False)), NOON)
    disagreements.record(seeded, "lyngby", mismatches(fee(507, "2021-02-01", False)), NOON + timedelta(days=1))
    [row] = tally(seeded)
    assert (row.library_id, row.count) == (library_id, 2)


def test_summary_gives_the_earliest_handed_over_and_the_latest_payable_late_month(seeded: Session) -> None:
    disagreements.record(
        seeded,
        "lyngby",
        mismatches(fee(1, "2021-04-03", False), fee(2, "2022-03-04", True), fee(3, "2023-05-06", True)),
        NOON,
    )
    disagreements.record(seeded, "lyngby", mismatches(fee(4, "2021-02-01", False)), NOON + timedelta(days=1))
    found = disagreements.summary(seeded, "lyngby", CUTOFF)
    assert found and found.cutoff_date == CUTOFF
    assert found.handed_over_early is not None and found.payable_late is not None
    assert (found.handed_over_early.month, found.handed_over_early.count) == (date(2021, 2, 1), 1)
    assert found.handed_over_early.last_seen == NOON + timedelta(days=1)
    assert found.suggested_cutoff == date(2021, 2, 1)
    assert (found.payable_late.month, found.payable_late.direction) == (date(2023, 5, 1), Direction.PAYABLE_LATE)


def test_once_the_date_agrees_with_fbs_the_summary_is_empty(seeded: Session) -> None:
    disagreements.record(seeded, "lyngby", mismatches(fee(1, "2021-02-01", False)), NOON)
    assert disagreements.summary(seeded, "lyngby", CUTOFF)
    # The editor moved the date to the suggestion: February 2021 no longer contradicts it.
    moved = disagreements.summary(seeded, "lyngby", date(2021, 2, 1))
    assert not moved and moved.suggested_cutoff is None
    # A payable-late month still disagrees while any of its days is on or after the date.
    disagreements.record(seeded, "lyngby", mismatches(fee(2, "2021-06-20", True)), NOON)
    assert disagreements.summary(seeded, "lyngby", date(2021, 6, 30)).payable_late is not None
    assert disagreements.summary(seeded, "lyngby", date(2021, 7, 1)).payable_late is None


def test_libraries_whose_slugs_share_a_prefix_keep_their_own_tally(seeded: Session) -> None:
    disagreements.record(
        seeded, "lyngby-boern", mismatches(fee(1, "2021-03-01", False), cutoff=BOERN.cutoff_date), NOON
    )
    assert not disagreements.summary(seeded, "lyngby", CUTOFF)
    disagreements.record(seeded, "lyngby", mismatches(fee(2, "2021-05-01", False)), NOON)
    boern = disagreements.summary(seeded, "lyngby-boern", BOERN.cutoff_date)
    lyngby = disagreements.summary(seeded, "lyngby", CUTOFF)
    assert boern.suggested_cutoff == date(2021, 3, 1)
    assert lyngby.suggested_cutoff == date(2021, 5, 1)
    assert not disagreements.summary(seeded, "rodovre", RODOVRE.cutoff_date)
    assert not disagreements.summary(seeded, "lyngby-b", CUTOFF)


def test_an_unknown_library_records_nothing(seeded: Session) -> None:
    disagreements.record(seeded, "nowhere", mismatches(fee(1, "2021-02-01", False)), NOON)
    assert tally(seeded) == []


# -- no personal data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Borrower:
    cpr: str
    name: str
    patron_id: int
    fees: tuple[tuple[int, str, str], ...]  # (fee id, created, amount)


# Two borrowers, values chosen so that no date or timestamp can contain them by chance.
BORROWERS = (
    Borrower(
        "0101901111", "Anne Andersen", 730191, ((918273, "2021-02-01", "437.25"), (918274, "2021-03-17", "129.75"))
    ),
    Borrower("0202852222", "Bent Berg", 840273, ((827364, "2021-02-11", "812.50"),)),
)


def personal_tokens() -> set[str]:
    tokens: set[str] = set()
    for borrower in BORROWERS:
        tokens |= {borrower.cpr, borrower.name, str(borrower.patron_id), *borrower.name.split()}
        for fee_id, _created, amount in borrower.fees:
            ore = int(Decimal(amount) * 100)
            tokens |= {str(fee_id), amount, amount.replace(".", ","), str(ore), str(Decimal(amount).normalize())}
    return tokens


def test_every_stored_value_is_free_of_personal_data(seeded: Session) -> None:
    for number, borrower in enumerate(BORROWERS):
        # The mismatches carry everything about the fee; the tally must keep none of it.
        found = mismatches(*(fee(fee_id, created, False, amount) for fee_id, created, amount in borrower.fees))
        disagreements.record(seeded, "lyngby", found, NOON + timedelta(days=number))
    stored_rows = seeded.execute(text("SELECT * FROM cutoff_disagreements")).all()
    assert len(stored_rows) == 2  # February and March 2021
    stored = [value for row in stored_rows for value in row]
    assert len(stored) == 2 * 7  # every column of both rows
    tokens = personal_tokens()
    leaks = [(value, token) for value in stored for token in tokens if token.lower() in str(value).lower()]
    assert leaks == []
    # What is there is the month, the direction and when: two borrowers in February, one day each.
    assert sorted((str(r.month), r.direction, r.count) for r in tally(seeded)) == [
        ("2021-02-01", "handed_over_early", 2),
        ("2021-03-01", "handed_over_early", 1),
    ]


# -- the service: best effort ---------------------------------------------------------------------


class BrokenSession:
    def scalars(self, *_args: object, **_kwargs: object) -> object:
        raise RuntimeError("database went away")


def test_a_failed_tally_is_logged_and_never_raised(caplog: pytest.LogCaptureFixture) -> None:
    overview = merge([fee(1, "2021-02-01", False)], None, CUTOFF, NOON.date())
    assert overview.mismatches
    record_disagreements(BrokenSession, LYNGBY, overview)  # type: ignore[arg-type]
    assert "could not record the cut-off disagreements" in caplog.text


def test_a_page_without_disagreements_opens_no_database_session() -> None:
    opened: list[BrokenSession] = []

    def session() -> BrokenSession:
        opened.append(BrokenSession())
        return opened[-1]

    agreeing = merge([fee(1, "2021-02-01", True)], None, CUTOFF, NOON.date())
    assert not agreeing.mismatches
    record_disagreements(session, LYNGBY, agreeing)  # type: ignore[arg-type]
    assert opened == []
    disagreeing = merge([fee(1, "2021-02-01", False)], None, CUTOFF, NOON.date())
    record_disagreements(session, LYNGBY, disagreeing)  # type: ignore[arg-type]
    assert len(opened) == 1  # asked for once there is something to write


def test_a_view_repeating_what_this_process_recorded_today_sends_no_sql(seeded: Session) -> None:
    found = mismatches(fee(507, "2021-02-01", False))
    disagreements.record(seeded, "lyngby", found, NOON)
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    engine = seeded.get_bind().engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        disagreements.record(seeded, "lyngby", found, NOON + timedelta(minutes=5))
        assert statements == []
        # Another month the same day is news: written.
        disagreements.record(seeded, "lyngby", mismatches(fee(508, "2021-03-01", False)), NOON + timedelta(minutes=6))
        assert statements
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert sorted(row.month for row in tally(seeded)) == [date(2021, 2, 1), date(2021, 3, 1)]


def test_a_view_repeating_what_this_process_recorded_today_opens_no_database_session(seeded: Session) -> None:
    database = disagreements.database_key(seeded.get_bind().engine)
    disagreeing = merge([fee(1, "2021-02-01", False)], None, CUTOFF, NOON.date())
    opened: list[Session] = []

    def session() -> Session:
        opened.append(seeded)
        return seeded

    with clock.frozen(NOON):
        record_disagreements(session, LYNGBY, disagreeing, database)
        assert len(opened) == 1  # news: written
        record_disagreements(session, LYNGBY, disagreeing, database)
        assert len(opened) == 1  # written today already: no session asked for
        record_disagreements(session, LYNGBY, disagreeing)
        assert len(opened) == 2  # without the database's key the service cannot tell, and asks
        record_disagreements(session, LYNGBY, disagreeing, "sqlite:///another.sqlite3")
        assert len(opened) == 3  # another database has not had it
    with clock.frozen(NOON + timedelta(days=1)):
        record_disagreements(session, LYNGBY, disagreeing, database)
        assert len(opened) == 4  # a new day counts again
    assert [(row.month, row.count) for row in tally(seeded)] == [(date(2021, 2, 1), 2)]
