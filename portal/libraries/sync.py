"""Load a libraries file into the database: validate everything, then write once."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.libraries.repository import UpsertReport, upsert_libraries
from portal.libraries.toml_loader import LibraryFileError, load_libraries_file
from portal.providers.credentials import MissingCredentials, check_logins, check_nexi_keys


def sync_libraries_file(
    session: Session, path: str | Path, environment: Mapping[str, str], *, only_changed: bool = False
) -> UpsertReport:
    """Validate the file at `path`, then upsert its libraries in one transaction.

    Raises LibraryFileError before touching the database if the file is bad, or if a library
    names an FBS credentials or Nexi secret key variable that is not set in `environment`. The history names the
    change's author `file:<file name>`. With `only_changed` (start-up), a library whose entry is
    unchanged since it was last applied is left as the editors made it.
    """
    libraries = load_libraries_file(path)
    for library in libraries:
        try:
            check_logins([library.login_variables()], environment)
        except MissingCredentials as exc:
            key = "fbs_password_env" if exc.variable == library.fbs_password_env else "fbs_username_env"
            raise LibraryFileError(
                str(path), repr(library.slug), key, f"environment variable {exc.variable} is not set"
            ) from None
        try:
            check_nexi_keys([library.nexi_variables()], environment)
        except MissingCredentials as exc:
            raise LibraryFileError(
                str(path), repr(library.slug), "nexi_secret_key_env", f"environment variable {exc.variable} is not set"
            ) from None
    by = f"file:{Path(path).name}"
    try:
        return upsert_libraries(session, libraries, by=by, only_changed=only_changed)
    except IntegrityError:
        # Several workers start at once and may insert the same new slug together;
        # the loser retries and then finds the winner's rows (kept, unchanged or updated).
        return upsert_libraries(session, libraries, by=by, only_changed=only_changed)
