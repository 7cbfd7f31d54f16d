"""Helpers for migration tests: downgrade (the throw-away PostgreSQL cluster is in tests/support)."""

from __future__ import annotations

from sqlalchemy import Engine

from portal.db import migrate


def downgrade_to_base(engine: Engine) -> None:
    """Undo every migration on `engine` (the counterpart of portal.db.upgrade)."""
    migrate(engine, "base", down=True)
