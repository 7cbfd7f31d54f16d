"""A citizen's debts at one library: find the patron, fetch from FBS, apply the rules."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Callable

from portal.domain.fees import Patron
from portal.domain.overview import DuplicateFeeError, Overview, build_overview
from portal.libraries.library import Library
from portal.providers.cache import CachedFbs, fbs_for
from portal.providers.errors import UpstreamBadResponse, UpstreamError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CitizenDebts:
    """What the page and the JSON API show for a borrower."""

    patron: Patron
    overview: Overview


@dataclass(frozen=True)
class PatronMemo:
    """Where the CPR→patron-id answer is remembered for the session (never in the cache).

    `get` returns the patron id, None for "not a borrower", or `missing` when not looked up yet.
    """

    get: Callable[[str], object]
    remember: Callable[[str, int | None], None]
    missing: object


def fbs_for_library(library: Library) -> CachedFbs:
    """The FBS client for the library, with its own credentials when it names them.

    A named but unset variable is an operator error: say which, rather than fall
    back to the shared credentials and log in as the wrong client.
    """
    if not library.fbs_username_env:
        return fbs_for(library.agency_id)
    names = (library.fbs_username_env, library.fbs_password_env or "")
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        raise UpstreamError("fbs", f"library {library.slug}: environment variable(s) {', '.join(missing)} not set")
    return fbs_for(library.agency_id, os.environ[names[0]], os.environ[names[1]])


def citizen_debts(library: Library, cpr: str, memo: PatronMemo) -> CitizenDebts | None:
    """The borrower's debts, or None when the citizen is not a borrower at this library.

    Raises UpstreamError when FBS fails: the caller must then show no figures at all.
    """
    fbs = fbs_for_library(library)
    patron_id = memo.get(library.agency_id)
    if patron_id is memo.missing:
        patron_id = fbs.find_patron_id(cpr)
        memo.remember(library.agency_id, patron_id)
    if patron_id is None:
        return None
    assert isinstance(patron_id, int)
    patron = fbs.patron(patron_id)
    try:
        overview = build_overview(fbs.fees(patron_id), library.cutoff_date)
    except DuplicateFeeError as exc:
        # Counting a fee twice would overstate the debt; guessing which copy is right, too.
        raise UpstreamBadResponse("fbs", f"duplicate fee ids {sorted(exc.fee_ids)}") from exc
    _log_mismatches(library, overview)
    return CitizenDebts(patron, overview)


def _log_mismatches(library: Library, overview: Overview) -> None:
    # The flag wins and the fee is shown; the library should still learn that its
    # cut-off date and FBS disagree (e.g. the date was moved but FBS not yet run).
    for mismatch in overview.mismatches:
        log.warning("library=%s fee=%s created=%s payable_by_client=%s disagrees with cut-off date %s",
                    library.slug, mismatch.fee.fee_id, mismatch.fee.created,
                    mismatch.fee.payable_by_client, library.cutoff_date)
