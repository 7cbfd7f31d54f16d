"""The migration and the upsert on PostgreSQL (a throw-away cluster, when installed).

Set PORTAL_TEST_POSTGRES_URL to use an existing (empty, disposable) database instead.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import inspect, text

from portal import create_app
from portal.config import DEMO_LIBRARIES_FILE, load_settings
from portal.db import make_engine
from portal.libraries.repository import get_library, list_libraries
from portal.libraries.toml_loader import load_libraries_file
from tests.libraries.pg import downgrade_to_base, temporary_cluster


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    if os.environ.get("PORTAL_TEST_POSTGRES_URL"):
        yield os.environ["PORTAL_TEST_POSTGRES_URL"]
        return
    try:
        cluster = temporary_cluster()
        url = cluster.__enter__()
    except (FileNotFoundError, KeyError) as exc:
        # Not a skip: `make test` installs PostgreSQL, so a missing server is a broken set-up.
        pytest.fail(f"PostgreSQL is not installed: {exc}")
    try:
        yield url
    finally:
        cluster.__exit__(None, None, None)


def test_startup_migrates_and_loads_on_postgresql(postgres_url: str) -> None:
    app = create_app(load_settings({
        "PORTAL_DATABASE_URL": postgres_url, "PORTAL_OIDC_ISSUER": "http://127.0.0.1:9",
        "PORTAL_FBS_BASE_URL": "http://127.0.0.1:9", "PORTAL_SECRET_KEY": "x" * 32,
        "PORTAL_LIBRARIES_FILE": str(DEMO_LIBRARIES_FILE)}))
    engine = make_engine(postgres_url)
    try:
        with app.app_context():
            assert list_libraries() == sorted(load_libraries_file(DEMO_LIBRARIES_FILE), key=lambda lib: lib.name)
            assert get_library("lyngby").cutoff_date.isoformat() == "2021-06-15"
        with engine.connect() as conn:
            assert conn.scalar(text("select count(*) from library_texts")) == 2
        downgrade_to_base(engine)
        assert not {"libraries", "library_texts"} & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
        # Close the app's pooled connections now, not in a garbage collection after the
        # cluster is gone (psycopg warns about connections deleted while open).
        app.extensions["portal.db"].kw["bind"].dispose()
