"""Load a libraries file into the database: validate everything, then write once."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.libraries.repository import UpsertReport, upsert_libraries
from portal.libraries.toml_loader import load_libraries_file


def sync_libraries_file(session: Session, path: str | Path, *, only_changed: bool = False) -> UpsertReport:
    """Validate the file at `path`, then upsert its libraries in one transaction.

    Raises LibraryFileError before touching the database if the file is bad. The history names
    the change's author `file:<file name>`. With `only_changed` (start-up), a library whose entry
    is unchanged since it was last applied is left as the editors made it.
    """
    libraries = load_libraries_file(path)
    by = f"file:{Path(path).name}"
    try:
        return upsert_libraries(session, libraries, by=by, only_changed=only_changed)
    except IntegrityError:
        # Several workers start at once and may insert the same new slug together;
        # the loser retries and then finds the winner's rows (kept, unchanged or updated).
        return upsert_libraries(session, libraries, by=by, only_changed=only_changed)
