"""Helpers for migration tests: downgrade, and a throw-away PostgreSQL cluster."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from portal.db import migrate


def downgrade_to_base(engine: Engine) -> None:
    """Undo every migration on `engine` (the counterpart of portal.db.upgrade)."""
    migrate(engine, "base", down=True)


def _as_postgres() -> list[str]:
    """initdb refuses to run as root: run the server as the `postgres` user then."""
    if os.geteuid() != 0:
        return []
    pwd.getpwnam("postgres")  # KeyError when there is no such user
    return ["runuser", "-u", "postgres", "--"]


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


def _server_binary(name: str) -> str:
    """Debian keeps the server tools out of PATH, under /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        raise FileNotFoundError(f"{name} not found (make test installs Debian's postgresql)")
    return found


def _run(args: list[str]) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=60)
