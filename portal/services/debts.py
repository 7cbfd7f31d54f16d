"""A citizen's debts at one library: find the patron, fetch FBS and the debtor system, merge.

FBS is read one of two ways (`uses_adapter`): through DBC's adapter with the borrower's
Adgangsplatformen token, where the library's `fbs_access` is "dbc_adapter" and they signed in
there; otherwise directly, the patron found by CPR number. A borrower without a CPR number (card
and PIN) is never asked for at the debtor system (status `NO_CPR`), and cannot be found by
direct mode at all (`MitIdRequired`).

FBS and the debtor system are asked at the same time, and FBS's patron and fees too once the
patron id is known; what the cache holds is taken without a thread. A first view makes no patron
call at all in direct mode: the CPR look-up's answer carries the patron (stored by `CachedFbs`),
as the adapter's patron answer does. FBS is required: when it fails the
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
import threading
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace
from datetime import date
from enum import Enum
from typing import Protocol

from sqlalchemy.orm import Session

from portal import clock
from portal.domain.claims import Claim
from portal.domain.fees import Fee, Patron
from portal.domain.merge import merge
from portal.domain.overview import DebtOverview
from portal.domain.works import Work
from portal.libraries import disagreements
from portal.libraries.library import ADGANGSPLATFORMEN, FBS_DBC_ADAPTER, MITID, Library
from portal.lru import BoundedLRU
from portal.providers.cache import CachedDebtor, CachedFbi, CachedFbs, CachedFbsAdapter
from portal.providers.errors import UpstreamError, UpstreamTimeout
from portal.providers.http import budget_left, upstream_budget
from portal.providers.upstreams import Upstreams
from portal.services.background import in_background
from portal.signals import citizen_logged_out

log = logging.getLogger(__name__)


class ProviderStatus(str, Enum):
    OK = "ok"
    ERROR = "error"
    NOT_CONFIGURED = "not_configured"
    NO_CPR = "no_cpr"  # not asked: the borrower signed in without a CPR number, and it knows no other key


@dataclass(frozen=True)
class CitizenDebts:
    """What the page and the JSON API show for a borrower."""

    patron: Patron
    overview: DebtOverview
    debtor: ProviderStatus = ProviderStatus.NOT_CONFIGURED
    # Titles of the fees' materials by FAUST number (record id); missing ones show the item number.
    works: Mapping[str, Work] = field(default_factory=dict)
    # The versions of the cache entries the debts were built from (`PatronEntries.version`): read
    # with them, or, for what came fresh from an upstream, read back after storing it and found
    # equal; None when that failed. With the library and the day, it stands for `patron`,
    # `overview` and `debtor`: the page cache keys by it instead of the values themselves.
    source: bytes | None = field(default=None, compare=False, repr=False)

    @property
    def complete(self) -> bool:
        """Whether the figures are all there is to know: False when the debtor system failed or could not
        be asked (no CPR number); then FBS's figures must not be shown as the whole debt."""
        return self.debtor in (ProviderStatus.OK, ProviderStatus.NOT_CONFIGURED)

    @property
    def providers(self) -> dict[str, str]:
        """Per upstream: "ok", "error", "not_configured" or "no_cpr" (FBS is always ok here)."""
        return {"fbs": ProviderStatus.OK.value, "debtor": self.debtor.value}


@dataclass(frozen=True)
class PatronMemo:
    """Where the CPR→patron-id answer is remembered for the session (never in the cache).

    `get` returns the patron id, None for "not a borrower", or `missing` when not looked up yet.
    """

    get: Callable[[str], object]
    remember: Callable[[str, int | None], None]
    missing: object


@dataclass(frozen=True)
class Borrower:
    """What the services need to know about the signed-in citizen (built from `Citizen` by the views).

    `cpr` is None after an Adgangsplatformen sign-in with library card and PIN; `access_token` is
    Adgangsplatformen's user token (DBC's FBS adapter reads FBS with it). Neither is ever logged.
    """

    cpr: str | None = field(repr=False)
    access_token: str | None = field(default=None, repr=False)
    profile: str = MITID


class MitIdRequired(Exception):
    """The library reads FBS directly, which finds a borrower only by CPR number, and there is none.

    Not "not a borrower" (that may well be false): the borrower signed in without a CPR number
    (Adgangsplatformen with card and PIN) at a library without DBC's adapter. The page should
    ask them to sign in with MitID to see their debts here.
    """


class SignedIn(Protocol):
    """What `uses_adapter` reads of a borrower: a `Borrower`, or the session's `Citizen` itself."""

    @property
    def access_token(self) -> str | None: ...

    @property
    def profile(self) -> str: ...


def uses_adapter(library: Library, borrower: SignedIn) -> bool:
    """Whether FBS is read through DBC's adapter for this borrower at this library.

    Only for a borrower signed in through Adgangsplatformen (their token is the key) at a library
    whose `fbs_access` is "dbc_adapter"; everyone else is read directly, by CPR number.
    """
    return (
        library.fbs_access == FBS_DBC_ADAPTER and borrower.profile == ADGANGSPLATFORMEN and bool(borrower.access_token)
    )


def adapter_token(library: Library, borrower: SignedIn | None) -> str | None:
    """The token a card payment reads and registers FBS with (`payments.checkout.start`); None: direct mode."""
    return borrower.access_token if borrower is not None and uses_adapter(library, borrower) else None


def citizen_debts(
    upstreams: Upstreams, library: Library, borrower: Borrower | str, memo: PatronMemo
) -> CitizenDebts | None:
    """The borrower's debts, or None when the citizen is not a borrower at this library.

    `borrower` may be a bare CPR number: a MitID borrower (tests and tools). Raises UpstreamError
    when FBS fails (or runs out of the page's budget): the caller must then show no figures at
    all — `FbsTokenRejected` (a subclass) when DBC's adapter refused the token: sign in again.
    Raises MitIdRequired when FBS can only be asked by a CPR number the borrower has not given.
    """
    if isinstance(borrower, str):
        borrower = Borrower(cpr=borrower)
    with upstream_budget(upstreams.page_budget):
        return _citizen_debts(upstreams, library, borrower, memo)


def _citizen_debts(upstreams: Upstreams, library: Library, borrower: Borrower, memo: PatronMemo) -> CitizenDebts | None:
    found = find_patron(upstreams, library, borrower, memo)
    if found is None:
        return None
    fbs, patron_id, known = found
    cpr = borrower.cpr
    debtor = upstreams.debtor(library.agency_id)
    # What the cache holds, in one round trip: a warm page asks nothing else.
    cached = upstreams.cache.read_patron(library.agency_id, patron_id)
    # The debtor system knows citizens only by CPR number: without one it is not asked at all.
    asks_debtor = debtor is not None and bool(cpr)
    # Built from cached entries alone: their versions stand for the data (the page cache's key).
    source = cached.version(claims=asks_debtor) if known is None else None
    today = clock.today()

    def memo_key(source: bytes) -> Hashable:
        return (source, asks_debtor, debtor is None, library, today)

    debts = MERGED.get(memo_key(source)) if source is not None else None
    if debts is not None and cached.fees is not None:
        return replace(debts, works=_works(library, _start_works(upstreams.fbi(), list(cached.fees))))
    pending = _start_claims(debtor, patron_id, cpr, cached.claims) if debtor is not None and cpr else None
    patron, fees = _patron_and_fees(library, fbs, patron_id, known or cached.patron, cached.fees)
    looking_up = _start_works(upstreams.fbi(), fees)
    if debtor is not None and not cpr:
        claims, status = None, ProviderStatus.NO_CPR
    else:
        claims, status = _claims(library, pending)
    debts = _merged(library, patron, fees, claims, status)
    if source is None:
        source = _source_of_fetched(upstreams, library, patron_id, (patron, fees, claims), asks_debtor=asks_debtor)
    if source is not None:
        debts = replace(debts, source=source)
        MERGED.put(memo_key(source), (library.agency_id, patron_id), debts)
    return replace(debts, works=_works(library, looking_up))


def _source_of_fetched(
    upstreams: Upstreams,
    library: Library,
    patron_id: int,
    fetched: tuple[Patron, list[Fee], list[Claim] | None],
    *,
    asks_debtor: bool,
) -> bytes | None:
    """The versions of the entries this view just fetched and stored, when the cache holds just those.

    `fetched`: the patron, fees and claims the debts were merged from; the claims count only when
    the debtor system is asked (`asks_debtor`), and then must be there. The next view reads those
    entries and keys its page and merge by their versions: with them this view's page is that
    page, rendered once, instead of once fresh and once more from the cache. Read back (one more
    round trip, on a view that asked an upstream anyway) and compared by value, so another
    process's write in between, a failed debtor call or a store that is down costs only that: no
    source.
    """
    patron, fees, claims = fetched
    stored = upstreams.cache.read_patron(library.agency_id, patron_id)
    if stored.patron != patron or stored.fees != tuple(fees):
        return None
    if asks_debtor and (claims is None or stored.claims != tuple(claims)):
        return None
    return stored.version(claims=asks_debtor)


class _MergedDebts:
    """The debts last merged from each source, library and day, in this process (a bounded LRU).

    A warm view reads the same cache entries (the same versions) as the view before: merging them
    again under the same library (cut-off date) on the same day gives the same debts, so the
    first merge is kept. Titles are not part of it: they are looked up on each view. Signing out
    drops the borrower's entries, as it drops their cached answers and pages.
    """

    def __init__(self, size: int) -> None:
        self._entries: BoundedLRU[Hashable, tuple[tuple[str, int], CitizenDebts]] = BoundedLRU(size)

    def get(self, key: Hashable) -> CitizenDebts | None:
        found = self._entries.get(key)
        return None if found is None else found[1]

    def put(self, key: Hashable, owner: tuple[str, int], debts: CitizenDebts) -> None:
        self._entries.put(key, (owner, debts))

    def holds(self, agency_id: str, patron_id: int) -> bool:
        """Whether debts of that patron at that agency are kept."""
        return self._entries.any_value(lambda entry: entry[0] == (agency_id, patron_id))

    def forget(self, patrons: Mapping[str, int]) -> None:
        """Drop the debts of {agency_id: patron_id}."""
        gone = set(patrons.items())
        self._entries.drop_where(lambda entry: entry[0] in gone)


# A borrower's debts are a few kB: some thousands of borrowers per worker.
MERGED = _MergedDebts(4096)


@citizen_logged_out.connect
def _forget_signed_out(_sender: object, patrons: Mapping[str, int] | None = None, **_extra: object) -> None:
    MERGED.forget(patrons or {})


def _start_claims(
    debtor: CachedDebtor, patron_id: int, cpr: str, cached: tuple[Claim, ...] | None
) -> Future[list[Claim]]:
    """The debtor's claims: the cached ones at once, else asked in the background."""
    if cached is not None:
        done: Future[list[Claim]] = Future()
        done.set_result(list(cached))
        return done
    return in_background(lambda: debtor.claims(patron_id, cpr))


def _patron_and_fees(
    library: Library,
    fbs: CachedFbs | CachedFbsAdapter,
    patron_id: int,
    patron: Patron | None,
    cached_fees: tuple[Fee, ...] | None,
) -> tuple[Patron, list[Fee]]:
    """FBS's patron and fees: as known or cached, else asked at the same time (neither waits for the other)."""
    if patron is not None:
        return patron, _fees(fbs, patron_id, cached_fees)
    asking = in_background(lambda: fbs.patron(patron_id))
    fees = _fees(fbs, patron_id, cached_fees)
    try:
        # The patron's own call ends with the budget too; this bounds the wait should it not.
        return asking.result(timeout=budget_left()), fees
    except FutureTimeout:
        raise UpstreamTimeout("fbs", f"patron at {library.agency_id}: not in within the page's budget") from None


def _fees(fbs: CachedFbs | CachedFbsAdapter, patron_id: int, cached: tuple[Fee, ...] | None) -> list[Fee]:
    """The cached fees, else FBS's (through the cache: single-flight, stored)."""
    return list(cached) if cached is not None else fbs.fees(patron_id)


def find_patron(
    upstreams: Upstreams, library: Library, borrower: Borrower, memo: PatronMemo
) -> tuple[CachedFbs | CachedFbsAdapter, int, Patron | None] | None:
    """FBS for this borrower, their patron id and (when just asked) the patron; None: not a borrower here.

    The session's memo answers when it can; else FBS is asked (the page, or `prefetch` at sign-in).

    The patron id is remembered in the session either way: found by CPR number (direct) or
    answered by the adapter for the token (its patron v4 answer holds the id).
    """
    fbs: CachedFbs | CachedFbsAdapter
    known: Patron | None = None
    patron_id = memo.get(library.agency_id)
    if uses_adapter(library, borrower):
        assert borrower.access_token is not None
        fbs = upstreams.fbs_adapter(library.agency_id, borrower.access_token)
        if patron_id is memo.missing:
            known = fbs.find_patron()
            patron_id = known.patron_id if known is not None else None
            memo.remember(library.agency_id, patron_id)
    else:
        fbs = upstreams.fbs(library.agency_id, upstreams.fbs_login(library.login_variables()))
        if patron_id is memo.missing:
            if not borrower.cpr:
                raise MitIdRequired(library.slug)
            patron_id = fbs.find_patron_id(borrower.cpr)
            memo.remember(library.agency_id, patron_id)
    if patron_id is None:
        return None
    assert isinstance(patron_id, int)
    return fbs, patron_id, known


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


class _SaidToday:
    """What this process has logged today, so a line repeated by every page view is written once a day."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._day: date | None = None
        self._said: set[tuple[str, ...]] = set()

    def first(self, key: tuple[str, ...]) -> bool:
        """True the first time `key` is seen on this (Danish) day; a new day starts afresh."""
        today = clock.today()
        with self._lock:
            if today != self._day:
                self._day, self._said = today, set()
            if key in self._said:
                return False
            self._said.add(key)
            return True


_MISMATCHES_LOGGED = _SaidToday()


def log_disagreements(library: Library, overview: DebtOverview) -> None:
    """Tell the library where its systems disagree; ids and amounts only, never personal data."""
    # The flag wins and the fee is shown; the library should still learn that its cut-off
    # date and FBS disagree (e.g. the date was moved but FBS not yet run). Every view of every
    # such borrower would repeat it, so it is logged once a day per library, fee type and
    # direction (the first fee as the example); the editors' tally (`record_disagreements`)
    # counts the days it was seen.
    for mismatch in overview.mismatches:
        fee = mismatch.fee
        if not _MISMATCHES_LOGGED.first((library.slug, fee.type.value, mismatch.expected.value)):
            continue
        log.warning(
            "library=%s fee=%s type=%s created=%s payable_by_client=%s disagrees with cut-off date %s "
            "(logged once a day per library, fee type and direction; the editors' tally counts the days)",
            library.slug,
            fee.fee_id,
            fee.type.value,
            fee.created,
            fee.payable_by_client,
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


def record_disagreements(
    session: Callable[[], Session], library: Library, overview: DebtOverview, database: str | None = None
) -> None:
    """Add the page's flag/cut-off disagreements to the library's anonymous tally, best effort.

    Called once the page's data is in: nothing is written when FBS and the date agree, else one
    small write. The tally is for editors; a failure to record is logged and never fails the page.
    `session` is asked for only when there is something to write: a view that agrees makes no
    database session at all, nor does one (given `database`, `disagreements.database_key`)
    whose disagreements this process already wrote today.
    """
    if not overview.mismatches:
        return
    if database is not None and disagreements.written_today(database, library.slug, overview.mismatches, clock.now()):
        return
    try:
        disagreements.record(session(), library.slug, overview.mismatches, clock.now())
    except Exception:
        log.exception("library=%s could not record the cut-off disagreements, page shown anyway", library.slug)
