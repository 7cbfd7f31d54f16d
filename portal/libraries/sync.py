"""Load a libraries file into the database: validate everything, then write once."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.libraries.repository import UpsertReport, upsert_libraries
from portal.libraries.toml_loader import load_libraries_file


def sync_libraries_file(session: Session, path: str | Path) -> UpsertReport:
    """Validate the file at `path`, then upsert its libraries in one transaction.

    Raises LibraryFileError before touching the database if the file is bad.
    """
    libraries = load_libraries_file(path)
    try:
        return upsert_libraries(session, libraries)
    except IntegrityError:
        # Several workers start at once and may insert the same new slug together;
        # the loser retries and then finds the winner's rows (unchanged or updated).
        return upsert_libraries(session, libraries)
