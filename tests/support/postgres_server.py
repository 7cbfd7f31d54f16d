"""A real PostgreSQL for the tests of the PostgreSQL paths: a throw-away cluster, a fresh database per test.

`make test` installs Debian's postgresql; the cluster listens only on a Unix socket in a temp
dir, so parallel runs never meet. Set PORTAL_TEST_POSTGRES_URL to use an existing server instead
(its user must be allowed to CREATE DATABASE).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, make_url, text

EXISTING_SERVER_VARIABLE = "PORTAL_TEST_POSTGRES_URL"


@contextmanager
def temporary_cluster() -> Iterator[str]:
    """Start a PostgreSQL cluster listening only on a socket in a temp dir; yield its URL.

    Raises FileNotFoundError/KeyError when PostgreSQL is not installed.
    """
    initdb, pg_ctl = _server_binary("initdb"), _server_binary("pg_ctl")
    prefix = _as_postgres()
    base = tempfile.mkdtemp(prefix="gebyrportal-pg-")
    try:
        if prefix:
            shutil.chown(base, "postgres")
        data = os.path.join(base, "data")
        _run(prefix + [initdb, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"])
        _run(
            prefix
            + [
                pg_ctl,
                "-D",
                data,
                "-w",
                "-l",
                os.path.join(base, "log"),
                "-o",
                f"-k {base} -c listen_addresses='' -c fsync=off",
                "start",
            ]
        )
        try:
            yield f"postgresql+psycopg://postgres@/postgres?host={base}"
        finally:
            _run(prefix + [pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"])
    finally:
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def postgres_server() -> Iterator[str]:
    """URL of a PostgreSQL server to create test databases on: PORTAL_TEST_POSTGRES_URL or a fresh cluster."""
    existing = os.environ.get(EXISTING_SERVER_VARIABLE)
    if existing:
        yield existing
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


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server (CREATE DATABASE is quick; a cluster is not); dropped afterwards.

    The caller disposes of its own engines first; FORCE ends any connection it still left open.
    """
    name = f"test_{uuid.uuid4().hex}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _as_postgres() -> list[str]:
    """initdb refuses to run as root: run the server as the `postgres` user then."""
    if os.geteuid() != 0:
        return []
    pwd.getpwnam("postgres")  # KeyError when there is no such user
    return ["runuser", "-u", "postgres", "--"]


def _server_binary(name: str) -> str:
    """Debian keeps the server tools out of PATH, under /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        raise FileNotFoundError(f"{name} not found (make test installs Debian's postgresql)")
    return found


def _run(args: list[str]) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=60)
