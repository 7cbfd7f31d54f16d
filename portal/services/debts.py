"""A citizen's debts at one library: find the patron, fetch FBS and the debtor system, merge.

FBS and the debtor system are asked at the same time. FBS is required: when it fails the
caller gets an UpstreamError and must show no figures. The debtor system is optional: when
it is not configured or fails, the overview holds FBS's data alone and says so.

All upstream calls of one overview share one budget (`Upstreams.page_budget`, opened with
`upstream_budget`): each call ends by the budget's end at the latest, the debtor's call in
its background thread too, and the page waits for the debtor's answer no longer than that.

Titles come last and matter least: once FBS's fees are in, the FAUST numbers of all their
materials go to DBC's FBI API in one look-up (`Upstreams.fbi`), in the background beside the
debtor's call and within the same budget. A failed, slow or unconfigured look-up leaves
`works` empty; fees and totals never depend on it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace
from enum import Enum

from sqlalchemy.orm import Session

from portal import clock
from portal.domain.claims import Claim
from portal.domain.fees import Fee, Patron
from portal.domain.merge import merge
from portal.domain.overview import DebtOverview
from portal.domain.works import Work
from portal.libraries import disagreements
from portal.libraries.library import Library
from portal.providers.cache import CachedFbi
from portal.providers.errors import UpstreamError
from portal.providers.http import budget_left, upstream_budget
from portal.providers.upstreams import Upstreams
from portal.services.background import in_background

log = logging.getLogger(__name__)


class ProviderStatus(str, Enum):
    OK = "ok"
    ERROR = "error"
    NOT_CONFIGURED = "not_configured"


@dataclass(frozen=True)
class CitizenDebts:
    """What the page and the JSON API show for a borrower."""

    patron: Patron
    overview: DebtOverview
    debtor: ProviderStatus = ProviderStatus.NOT_CONFIGURED
    # Titles of the fees' materials by FAUST number (record id); missing ones show the item number.
    works: Mapping[str, Work] = field(default_factory=dict)

    @property
    def providers(self) -> dict[str, str]:
        """Per upstream: "ok", "error" or "not_configured" (FBS is always ok here)."""
        return {"fbs": ProviderStatus.OK.value, "debtor": self.debtor.value}


@dataclass(frozen=True)
class PatronMemo:
    """Where the CPR→patron-id answer is remembered for the session (never in the cache).

    `get` returns the patron id, None for "not a borrower", or `missing` when not looked up yet.
    """

    get: Callable[[str], object]
    remember: Callable[[str, int | None], None]
    missing: object


def citizen_debts(upstreams: Upstreams, library: Library, cpr: str | None, memo: PatronMemo) -> CitizenDebts | None:
    """The borrower's debts, or None when the citizen is not a borrower at this library.

    Raises UpstreamError when FBS fails (or runs out of the page's budget): the caller must
    then show no figures at all.
    """
    with upstream_budget(upstreams.page_budget):
        return _citizen_debts(upstreams, library, cpr, memo)


def _citizen_debts(upstreams: Upstreams, library: Library, cpr: str | None, memo: PatronMemo) -> CitizenDebts | None:
    if cpr is None:  # TODO(issue 10): the DBC adapter finds borrowers signed in without a CPR number
        return None
    fbs = upstreams.fbs(library.agency_id, upstreams.fbs_login(library.login_variables()))
    debtor = upstreams.debtor(library.agency_id)
    patron_id = memo.get(library.agency_id)
    if patron_id is memo.missing:
        patron_id = fbs.find_patron_id(cpr)
        memo.remember(library.agency_id, patron_id)
    if patron_id is None:
        return None
    assert isinstance(patron_id, int)
    pending = in_background(lambda: debtor.claims(patron_id, cpr)) if debtor is not None else None
    patron = fbs.patron(patron_id)
    fees = fbs.fees(patron_id)
    looking_up = _start_works(upstreams.fbi(), fees)
    claims, status = _claims(library, pending)
    debts = _merged(library, patron, fees, claims, status)
    return replace(debts, works=_works(library, looking_up))


def _start_works(fbi: CachedFbi | None, fees: list[Fee]) -> Future[dict[str, Work]] | None:
    """The look-up of every fee's materials' titles, started in the background (None: nothing to ask)."""
    record_ids = [m.record_id for f in fees for m in f.materials if m.record_id]
    if fbi is None or not record_ids:
        return None
    return in_background(lambda: fbi.works(record_ids))


def _works(library: Library, pending: Future[dict[str, Work]] | None) -> dict[str, Work]:
    """The titles found, or none at all: the fees are shown with their item numbers then."""
    if pending is None:
        return {}
    try:
        return pending.result(timeout=budget_left())
    except FutureTimeout:
        log.warning("library=%s titles not in within the page's budget, showing item numbers", library.slug)
    except UpstreamError as exc:
        log.warning("library=%s titles unavailable, showing item numbers: %s", library.slug, exc)
    except Exception:
        # Titles are a courtesy: a bug here must not cost the citizen the page.
        log.exception("library=%s title look-up failed unexpectedly, showing item numbers", library.slug)
    return {}


def _claims(library: Library, pending: Future[list[Claim]] | None) -> tuple[list[Claim] | None, ProviderStatus]:
    if pending is None:
        return None, ProviderStatus.NOT_CONFIGURED
    try:
        # The debtor's own calls end with the budget too; this bounds the wait should they not.
        return pending.result(timeout=budget_left()), ProviderStatus.OK
    except FutureTimeout:
        log.warning("library=%s debtor status not in within the page's budget, showing FBS data only", library.slug)
    except UpstreamError as exc:
        log.warning("library=%s debtor status unavailable, showing FBS data only: %s", library.slug, exc)
    except Exception:
        # A bug on the optional side must not hide the FBS figures the citizen came for.
        log.exception("library=%s debtor status failed unexpectedly, showing FBS data only", library.slug)
    return None, ProviderStatus.ERROR


def _merged(
    library: Library, patron: Patron, fees: list[Fee], claims: list[Claim] | None, status: ProviderStatus
) -> CitizenDebts:
    overview = merge(fees, claims, library.cutoff_date, clock.today())
    log_disagreements(library, overview)
    return CitizenDebts(patron, overview, status)


def log_disagreements(library: Library, overview: DebtOverview) -> None:
    """Tell the library where its systems disagree; ids and amounts only, never personal data."""
    # The flag wins and the fee is shown; the library should still learn that its cut-off
    # date and FBS disagree (e.g. the date was moved but FBS not yet run).
    for mismatch in overview.mismatches:
        log.warning(
            "library=%s fee=%s created=%s payable_by_client=%s disagrees with cut-off date %s",
            library.slug,
            mismatch.fee.fee_id,
            mismatch.fee.created,
            mismatch.fee.payable_by_client,
            library.cutoff_date,
        )
    for found in overview.discrepancies:
        log.warning(
            "library=%s fbs and debtor system disagree (%s): fee=%s claim=%s fbs_amount=%s debtor_amount=%s",
            library.slug,
            found.kind.value,
            found.fee_id,
            found.claim_id,
            found.fbs_amount,
            found.debtor_amount,
        )


def record_disagreements(session: Session, library: Library, overview: DebtOverview) -> None:
    """Add the page's flag/cut-off disagreements to the library's anonymous tally, best effort.

    Called once the page's data is in: nothing is written when FBS and the date agree, else one
    small write. The tally is for editors; a failure to record is logged and never fails the page.
    """
    if not overview.mismatches:
        return
    try:
        disagreements.record(session, library.slug, overview.mismatches, clock.now())
    except Exception:
        log.exception("library=%s could not record the cut-off disagreements, page shown anyway", library.slug)
