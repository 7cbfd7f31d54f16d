"""Helpers for migration tests: downgrade, and a throw-away PostgreSQL cluster (now in tests/support)."""

from __future__ import annotations

from sqlalchemy import Engine

from portal.db import migrate
from tests.support.postgres_server import temporary_cluster

__all__ = ["downgrade_to_base", "temporary_cluster"]


def downgrade_to_base(engine: Engine) -> None:
    """Undo every migration on `engine` (the counterpart of portal.db.upgrade)."""
    migrate(engine, "base", down=True)
