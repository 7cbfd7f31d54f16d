"""The hand-written migrations match the models and run both ways, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import JSON, Engine, bindparam, column, inspect, select, table, text
from sqlalchemy.orm import Session

# Both register their tables on Base.
import portal.libraries.models
import portal.payments.models  # noqa: F401
from portal.db import Base, make_engine, migrate, upgrade
from portal.libraries.editing import Change, history, live_revisions, load_state, restore
from tests.libraries.pg import downgrade_to_base

LIBRARY_TABLES = {
    "libraries",
    "library_texts",
    "library_drafts",
    "library_revisions",
    "scheduled_cutoffs",
    "cutoff_disagreements",
}
EDITING_TABLES = LIBRARY_TABLES - {"libraries", "library_texts", "cutoff_disagreements"}
PAYMENT_TABLES = {"payment_orders", "payment_order_fees", "payment_events", "payment_webhooks"}
OUR_TABLES = LIBRARY_TABLES | PAYMENT_TABLES


def _ours(name: str | None, type_: str, _parent: object) -> bool:
    return type_ != "table" or name in OUR_TABLES


@pytest.fixture
def bare_engine(database_url: str) -> Iterator[Engine]:
    """An engine on an empty database (no migrations applied yet)."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _migrate(engine: Engine, target: str, down: bool = False) -> None:
    migrate(engine, target, down=down)


def test_migration_creates_what_the_models_describe(engine: Engine) -> None:
    with engine.connect() as conn:
        # Only our tables: other features add their own models and migrations.
        context = MigrationContext.configure(conn, opts={"include_name": _ours})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent_and_downgrade_removes_the_tables(engine: Engine) -> None:
    upgrade(engine)
    assert OUR_TABLES <= set(inspect(engine).get_table_names())
    downgrade_to_base(engine)
    assert not OUR_TABLES & set(inspect(engine).get_table_names())


def _insert_library_at_0001(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO libraries (id, slug, name, agency_id, cutoff_date, kodelinje, created_at, updated_at)"
                " VALUES (1, 'lyngby', 'Lyngby', 'DK-717300', :cutoff, '+73< +86836084<', :at, :at)"
            ),
            {"cutoff": date(2021, 6, 15), "at": datetime(2025, 1, 2, 9, 0, tzinfo=UTC)},
        )
        conn.execute(
            text(
                "INSERT INTO library_texts (library_id, language, key, value) VALUES (1, 'da', 'intro', '<p>Egen</p>')"
            )
        )


def test_libraries_stored_before_editing_start_their_history(bare_engine: Engine) -> None:
    _migrate(bare_engine, "0001_libraries")
    _insert_library_at_0001(bare_engine)
    upgrade(bare_engine)
    with Session(bare_engine) as session:
        [first] = history(session, "lyngby")
        assert (first.number, first.action, first.by) == (1, "load", "migration 0002")
        assert first.at == datetime(2025, 1, 2, 10, 0, tzinfo=first.at.tzinfo)  # 09:00 UTC = 10:00 in Denmark
        assert set(first.changes) == {
            Change("name", None, "Lyngby"),
            Change("agency_id", None, "DK-717300"),
            Change("cutoff_date", None, "2021-06-15"),
            Change("kodelinje", None, "+73< +86836084<"),
            Change("text.da.intro", None, "<p>Egen</p>"),
        }
        state = load_state(session, "lyngby")
        assert state is not None and state.version.startswith("1-")
        # 0006 made the live text Markdown (0007 the baseline's snapshot: tested below).
        assert state.published.explicit_texts("da") == {"intro": "Egen"}
        # Both converted alike: the baseline is what citizens see, so it is not offered for restore.
        assert live_revisions(session, "lyngby") == frozenset({1})


def test_downgrading_the_editing_migration_keeps_the_libraries_and_their_texts(bare_engine: Engine) -> None:
    _migrate(bare_engine, "0001_libraries")
    _insert_library_at_0001(bare_engine)
    upgrade(bare_engine)
    _migrate(bare_engine, "0001_libraries", down=True)
    assert not EDITING_TABLES & set(inspect(bare_engine).get_table_names())
    assert "version" not in {column["name"] for column in inspect(bare_engine).get_columns("libraries")}
    with bare_engine.connect() as conn:
        # On SQLite a table rebuild would have cascade-deleted the texts.
        assert conn.scalar(text("SELECT count(*) FROM library_texts")) == 1


CARD_PAYMENT_COLUMNS = {"nexi_secret_key_env", "payment_terms_url"}


def _library_columns(engine: Engine) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns("libraries")}


def test_the_card_payment_migration_adds_two_empty_columns_and_its_downgrade_drops_them(bare_engine: Engine) -> None:
    _migrate(bare_engine, "0002_editing")
    assert not CARD_PAYMENT_COLUMNS & _library_columns(bare_engine)
    _insert_library_at_0001(bare_engine)
    _migrate(bare_engine, "0003_card_payment_settings")
    assert CARD_PAYMENT_COLUMNS <= _library_columns(bare_engine)
    # Plain SQL: the models describe the newest schema, which has more columns than 0003's.
    with bare_engine.connect() as conn:
        row = conn.execute(text("SELECT nexi_secret_key_env, payment_terms_url FROM libraries")).one()
        assert tuple(row) == (None, None)
    _migrate(bare_engine, "0002_editing", down=True)
    assert not CARD_PAYMENT_COLUMNS & _library_columns(bare_engine)
    with bare_engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM libraries")) == 1
        assert conn.scalar(text("SELECT count(*) FROM library_texts")) == 1


CONTACT_COLUMNS = {
    "contact_phone",
    "contact_email",
    "contact_url",
    "municipality_contact",
    "municipality_contact_url",
    "read_more_url",
    "fee_rates_url",
}


def test_the_contacts_migration_keeps_the_libraries_and_its_downgrade_drops_what_it_added(bare_engine: Engine) -> None:
    _migrate(bare_engine, "0002_editing")
    _insert_library_at_0001(bare_engine)
    _migrate(bare_engine, "0005_contacts_links_tally")
    assert CONTACT_COLUMNS <= _library_columns(bare_engine)
    assert "cutoff_disagreements" in inspect(bare_engine).get_table_names()
    upgrade(bare_engine)  # the application reads it with today's columns
    with Session(bare_engine) as session:
        state = load_state(session, "lyngby")
        assert state is not None and state.published.slug == "lyngby"
    _migrate(bare_engine, "0004_card_payments", down=True)
    assert not CONTACT_COLUMNS & _library_columns(bare_engine)
    assert "cutoff_disagreements" not in inspect(bare_engine).get_table_names()
    with bare_engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM libraries")) == 1
        assert conn.scalar(text("SELECT count(*) FROM library_texts")) == 1


def _insert_html_texts_at_0005(engine: Engine) -> None:
    """Texts as the HTML editors wrote before 0006: live texts, a draft, and a revision snapshot."""
    intro = '<p>Betal <strong>senest</strong> {cutoff_date}.</p><ul><li>kort</li><li><a href="https://ltk.dk/">net</a></li></ul>'
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO library_texts (library_id, language, key, value) VALUES"
                " (1, 'en', 'intro', :intro), (1, 'en', 'extra_info', :plain),"
                " (1, 'da', 'extra_info', '<script>x</script>')"
            ),
            {"intro": intro, "plain": "First line\nsame paragraph.\n\nSecond & *not* bold"},
        )
        draft = {
            "fields": {
                "name": "Lyngby",
                "text.da.intro": "<p>Ny <em>kladde</em></p>",
                "text.en.delay_notice": "A<br>B",
            },
            "base": {"name": "Lyngby", "text.da.intro": "<p>Egen</p>"},
        }
        conn.execute(
            text(
                "INSERT INTO library_drafts (library_id, data, saved_by, saved_at) VALUES (1, :data, 'anna', :at)"
            ).bindparams(bindparam("data", type_=JSON)),
            {"data": draft, "at": datetime(2026, 11, 1, 9, 0, tzinfo=UTC)},
        )


def _texts(engine: Engine) -> dict[tuple[str, str], str]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT language, key, value FROM library_texts")).all()
    return {(row.language, row.key): row.value for row in rows}


def _draft_data(engine: Engine) -> dict[str, dict[str, str]]:
    with engine.connect() as conn:
        data = conn.execute(select(column("data", JSON)).select_from(table("library_drafts"))).scalar_one()
    assert isinstance(data, dict)
    return data


def test_the_markdown_migration_converts_live_texts_and_drafts(bare_engine: Engine) -> None:
    _migrate(bare_engine, "0001_libraries")
    _insert_library_at_0001(bare_engine)
    _migrate(bare_engine, "0005_contacts_links_tally")
    _insert_html_texts_at_0005(bare_engine)
    with bare_engine.connect() as conn:
        snapshots_before = conn.execute(text("SELECT snapshot FROM library_revisions")).scalars().all()
    _migrate(bare_engine, "0006_markdown_texts")
    assert _texts(bare_engine) == {
        ("da", "intro"): "Egen",
        ("en", "intro"): "Betal **senest** {cutoff_date}.\n\n- kort\n- [net](https://ltk.dk/)",
        # Plain text: blank lines were paragraphs, a single newline only a space; Markdown's stars are escaped.
        ("en", "extra_info"): "First line same paragraph.\n\nSecond & \\*not\\* bold",
        # ("da", "extra_info") held nothing that is text: the row is gone, the default applies.
    }
    draft = _draft_data(bare_engine)
    assert draft["fields"] == {"name": "Lyngby", "text.da.intro": "Ny *kladde*", "text.en.delay_notice": "A\nB"}
    assert draft["base"] == {"name": "Lyngby", "text.da.intro": "Egen"}  # still equal to the live text
    with bare_engine.connect() as conn:
        assert conn.execute(text("SELECT snapshot FROM library_revisions")).scalars().all() == snapshots_before
    upgrade(bare_engine)  # the application reads it (with today's columns): the draft on top of the live texts
    with Session(bare_engine) as session:
        state = load_state(session, "lyngby")
        assert state is not None and state.draft is not None
        assert state.draft.explicit_texts("da")["intro"] == "Ny *kladde*"
    # Down again: the old code reads HTML.
    _migrate(bare_engine, "0005_contacts_links_tally", down=True)
    assert _texts(bare_engine)[("en", "intro")] == (
        "<p>Betal <strong>senest</strong> {cutoff_date}.</p>\n<ul>\n<li>kort</li>\n"
        '<li><a href="https://ltk.dk/">net</a></li>\n</ul>'
    )
    assert _draft_data(bare_engine)["fields"]["text.da.intro"] == "<p>Ny <em>kladde</em></p>"


def _snapshots(engine: Engine) -> dict[int, dict[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(column("number"), column("snapshot", JSON)).select_from(table("library_revisions"))
        ).all()
    return {row.number: row.snapshot for row in rows}


def _insert_revision(engine: Engine, number: int, snapshot: dict[str, str]) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO library_revisions (library_id, number, action, created_by, created_at, changes, snapshot)"
                " VALUES (1, :number, 'publish', 'anna', :at, :changes, :snapshot)"
            ).bindparams(bindparam("changes", type_=JSON), bindparam("snapshot", type_=JSON)),
            {"number": number, "at": datetime(2026, 11, 2, 9, 0, tzinfo=UTC), "changes": [], "snapshot": snapshot},
        )


def test_the_snapshot_migration_converts_html_snapshots_so_a_restore_brings_back_markdown(
    bare_engine: Engine,
) -> None:
    _migrate(bare_engine, "0001_libraries")
    _insert_library_at_0001(bare_engine)
    _migrate(bare_engine, "0005_contacts_links_tally")
    base = {"name": "Lyngby", "agency_id": "DK-717300", "cutoff_date": "2021-06-15"}
    _insert_revision(
        bare_engine,
        2,
        {**base, "text.da.intro": "<p>Betal <strong>nu</strong></p>", "text.en.intro": "<script>x</script>"},
    )
    _migrate(bare_engine, "0006_markdown_texts")
    # Recorded after 0006: Markdown (a star that is bold) and plain text that must not be escaped.
    _insert_revision(bare_engine, 3, {**base, "text.da.intro": "Betal **nu** (kl. 10 *)", "text.en.intro": "1 < 2 > 0"})
    assert _snapshots(bare_engine)[2]["text.da.intro"] == "<p>Betal <strong>nu</strong></p>"  # 0006 kept it
    _migrate(bare_engine, "0007_markdown_snapshots")
    snapshots = _snapshots(bare_engine)
    assert snapshots[1]["text.da.intro"] == "Egen"  # the baseline 0002 recorded
    assert snapshots[2] == {**base, "text.da.intro": "Betal **nu**"}  # the script held no text: the default
    assert snapshots[3] == {**base, "text.da.intro": "Betal **nu** (kl. 10 *)", "text.en.intro": "1 < 2 > 0"}
    upgrade(bare_engine)
    with Session(bare_engine) as session:  # the application restores revision 2: Markdown goes live
        state = load_state(session, "lyngby")
        assert state is not None
        restore(session, "lyngby", 2, "bo", state.version)
        session.commit()
        restored = load_state(session, "lyngby")
        assert restored is not None and restored.published.explicit_texts("da") == {"intro": "Betal **nu**"}
    _migrate(bare_engine, "0006_markdown_texts", down=True)
    assert _snapshots(bare_engine)[2]["text.da.intro"] == "<p>Betal <strong>nu</strong></p>"


def test_the_embedding_migration_adds_nullable_columns_that_mean_the_old_defaults(bare_engine: Engine) -> None:
    _migrate(bare_engine, "0001_libraries")
    _insert_library_at_0001(bare_engine)
    upgrade(bare_engine)
    with Session(bare_engine) as session:
        state = load_state(session, "lyngby")
        assert state is not None
        assert (state.published.embed_origins, state.published.sign_in, state.published.fbs_access) == (
            (),
            ("mitid",),
            "direct",
        )
    _migrate(bare_engine, "0007_markdown_snapshots", down=True)
    assert not {"embed_origins", "sign_in", "fbs_access"} & _library_columns(bare_engine)
    with bare_engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM libraries")) == 1
