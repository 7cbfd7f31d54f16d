"""The hand-written migration matches the models and runs both ways."""
from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

import portal.libraries.models  # noqa: F401  (registers the tables on Base)
from portal.db import Base, make_engine, upgrade
from tests.libraries.pg import downgrade_to_base

OUR_TABLES = {"libraries", "library_texts"}


def _ours(name: str | None, type_: str, _parent: object) -> bool:
    return type_ != "table" or name in OUR_TABLES


def _migrated(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path}/m.db")
    upgrade(engine)
    return engine


def test_migration_creates_what_the_models_describe(tmp_path: Path) -> None:
    engine = _migrated(tmp_path)
    with engine.connect() as conn:
        # Only our tables: other features add their own models and migrations.
        context = MigrationContext.configure(conn, opts={"include_name": _ours})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_upgrade_is_idempotent_and_downgrade_removes_the_tables(tmp_path: Path) -> None:
    engine = _migrated(tmp_path)
    upgrade(engine)
    assert OUR_TABLES <= set(inspect(engine).get_table_names())
    downgrade_to_base(engine)
    assert not OUR_TABLES & set(inspect(engine).get_table_names())
    engine.dispose()
