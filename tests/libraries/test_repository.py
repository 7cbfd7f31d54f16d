"""upsert_libraries / get_library / list_libraries against a migrated SQLite DB."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal import db
from portal.libraries.defaults import DEFAULT_TEXTS, DELAY_NOTICE, INTRO
from portal.libraries.editing import history
from portal.libraries.library import Library
from portal.libraries.models import LibraryRow, LibraryTextRow
from portal.libraries.repository import get_library, list_libraries, upsert_libraries

LYNGBY = Library(
    "lyngby",
    "Lyngby-Taarbæk Bibliotekerne",
    "DK-717300",
    date(2021, 6, 15),
    kodelinje="+73< +86836084<",
    payment_overview_url="https://www.ltk.dk/",
    texts={"da": {INTRO: "Lyngbys tekst"}, "en": {DELAY_NOTICE: "Soon."}},
)
RODOVRE = Library(
    "rodovre",
    "Rødovre Bibliotek",
    "DK-717500",
    date(2019, 7, 1),
    fbs_username_env="RODOVRE_FBS_USERNAME",
    fbs_password_env="RODOVRE_FBS_PASSWORD",
)


def test_created_then_read_back_equal(app: Flask) -> None:
    with app.app_context():
        report = upsert_libraries(db.session(), [LYNGBY, RODOVRE])
        assert (report.created, report.updated, report.unchanged) == (["lyngby", "rodovre"], [], [])
    with app.app_context():  # a fresh session: really from the DB
        assert get_library("lyngby") == LYNGBY
        assert get_library("rodovre") == RODOVRE
        assert get_library("nowhere") is None
        assert [library.slug for library in list_libraries()] == ["lyngby", "rodovre"]


def test_upsert_by_slug_updates_in_place(app: Flask) -> None:
    changed = replace(LYNGBY, name="Lyngby Bibliotek", cutoff_date=date(2022, 1, 1), kodelinje=None)
    with app.app_context():
        upsert_libraries(db.session(), [LYNGBY, RODOVRE])
        report = upsert_libraries(db.session(), [changed])
        assert (report.created, report.updated, report.unchanged) == ([], ["lyngby"], [])
    with app.app_context():
        assert get_library("lyngby") == changed
        assert get_library("rodovre") == RODOVRE  # not in this upsert: left alone
        assert db.session().scalar(select(func.count()).select_from(LibraryRow)) == 2


def test_unchanged_library_is_reported_and_not_touched(app: Flask) -> None:
    with app.app_context():
        upsert_libraries(db.session(), [LYNGBY])
        before = db.session().scalars(select(LibraryRow.updated_at)).one()
    with app.app_context():
        report = upsert_libraries(db.session(), [LYNGBY])
        assert report.unchanged == ["lyngby"] and not report.updated
        assert db.session().scalars(select(LibraryRow.updated_at)).one() == before


def test_texts_are_replaced_and_dropped_ones_fall_back_to_default(app: Flask) -> None:
    new_texts = replace(LYNGBY, texts={"da": {INTRO: "Ny tekst", DELAY_NOTICE: "Snart."}})
    with app.app_context():
        upsert_libraries(db.session(), [LYNGBY])
        assert upsert_libraries(db.session(), [new_texts]).updated == ["lyngby"]
    with app.app_context():
        library = get_library("lyngby")
        assert library is not None
        assert library.text(INTRO, "da") == "Ny tekst"
        assert library.text(DELAY_NOTICE, "da") == "Snart."
        assert library.text(DELAY_NOTICE, "en") == DEFAULT_TEXTS["en"][DELAY_NOTICE]
        assert db.session().scalar(select(func.count()).select_from(LibraryTextRow)) == 2


def test_text_only_change_bumps_updated_at(app: Flask) -> None:
    with app.app_context():
        upsert_libraries(db.session(), [LYNGBY])
        before = db.session().scalars(select(LibraryRow.updated_at)).one()
    with app.app_context():
        upsert_libraries(db.session(), [replace(LYNGBY, texts={})])
        assert db.session().scalars(select(LibraryRow.updated_at)).one() > before


def test_one_transaction_a_failing_second_library_rolls_back_the_first(app: Flask) -> None:
    # Deliberately ill-typed: the NOT NULL constraint is violated when flushed.
    broken = replace(RODOVRE, cutoff_date=None)  # type: ignore[arg-type]
    with app.app_context():
        with pytest.raises(IntegrityError):
            upsert_libraries(db.session(), [LYNGBY, broken])
    with app.app_context():
        assert list_libraries() == []


def test_duplicate_slugs_in_one_upsert_are_refused(app: Flask) -> None:
    with app.app_context():
        with pytest.raises(ValueError, match="duplicate"):
            upsert_libraries(db.session(), [LYNGBY, replace(LYNGBY, name="Other")])
        assert list_libraries() == []


def test_deleting_a_library_deletes_its_texts(app: Flask) -> None:
    with app.app_context():
        upsert_libraries(db.session(), [LYNGBY])
        session = db.session()
        session.delete(session.scalars(select(LibraryRow)).one())
        session.commit()
        assert session.scalar(select(func.count()).select_from(LibraryTextRow)) == 0


def test_embedding_and_sign_in_settings_survive_the_database_and_show_in_history(app: Flask) -> None:
    embedded = replace(
        LYNGBY,
        embed_origins=("https://www.lyngbybib.dk", "http://127.0.0.1:8001"),
        sign_in=("mitid", "adgangsplatformen"),
        fbs_access="dbc_adapter",
    )
    with app.app_context():
        upsert_libraries(db.session(), [LYNGBY])
        assert upsert_libraries(db.session(), [embedded]).updated == ["lyngby"]
    with app.app_context():
        assert get_library("lyngby") == embedded
        changes = {change.field: change for change in history(db.session(), "lyngby")[0].changes}
        assert changes["embed_origins"].after == "https://www.lyngbybib.dk\nhttp://127.0.0.1:8001"
        assert (changes["sign_in"].before, changes["sign_in"].after) == (None, "mitid adgangsplatformen")
        assert (changes["fbs_access"].before, changes["fbs_access"].after) == (None, "dbc_adapter")
    with app.app_context():  # back to the defaults: stored as unset again
        upsert_libraries(db.session(), [LYNGBY])
        assert get_library("lyngby") == LYNGBY
