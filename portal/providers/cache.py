"""The one caching layer every provider call goes through.

Entries live in the app's key-value store (`portal.kvstore`: in-process, or Redis when
PORTAL_CACHE_URL is set), handed in as a plain backend, so this layer knows no Flask. Keys are
`"<provider>:<agency>:<patron_id>:<what>"`: per library and per patron, and never containing a
CPR number, because Redis keys show up in monitoring tools and dumps (the debtor system, which
is asked by CPR number, is cached under the patron id too). Only successful answers are cached;
a failure is tried again on the next request. At logout the patron's entries are dropped so the
next sign-in sees fresh data.

One other kind of key, apart on purpose: `"fbi:work:<faust>"`, a title's bibliographic data
(`work_key`). It holds nothing personal and is shared by all citizens and libraries, so it is
kept long (`WORK_TTL`) and never dropped at logout. Its key holds only a FAUST number (digits,
checked), and "fbi" is no patron provider: `patron_key` refuses it, so the two kinds never mix.

Each patron entry is stored with a version drawn at random when it is written (`_Versioned`), and
`read_patron` hands a borrower's entries out with theirs: equal versions are the same write, so a
page built from them may be keyed by the versions instead of the values (`CitizenDebts.source`).

Concurrent misses of one patron entry make one upstream call (`single_flight.SingleFlight`: per
key in the process, and through a Redis lock across processes when the store is Redis). A store
that fails (Redis down) costs the cache, never the answer: a read error is a miss, a write error
stores nothing, and both are logged.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from portal import read_ahead
from portal.domain.claims import Claim
from portal.domain.fees import Fee, Patron
from portal.domain.works import Work
from portal.observability import metrics
from portal.providers.debtor import DebtorClient
from portal.providers.errors import UpstreamBadResponse
from portal.providers.fbi import FbiClient
from portal.providers.fbi_parse import is_faust, valid_fausts
from portal.providers.fbs import FbsClient
from portal.providers.fbs_adapter import FbsAdapterClient
from portal.providers.single_flight import SingleFlight

log = logging.getLogger(__name__)

T = TypeVar("T")

# Every `what` a provider caches per patron. Logout deletes exactly these keys,
# which works the same in-process and on Redis (no key scanning).
_WHATS: dict[str, tuple[str, ...]] = {
    "fbs": ("patron", "fees"),
    "debtor": ("claims",),
}


# Bibliographic data changes rarely and is the same for everyone: a day.
WORK_TTL = 24 * 60 * 60
WORK_PREFIX = "fbi:work:"
# Stored for a FAUST number FBI answered null for (local record, withdrawn title): asked again
# after the short patron TTL, not on every page view. None cannot be stored (it reads as a miss).
_UNKNOWN_WORK = "unknown"
# A patron entry's version: random, so equal versions can only be the same write.
_VERSION_BYTES = 12


class KeyValueStore(Protocol):
    """What the layer needs of a cache backend (cachelib's SimpleCache and RedisCache have it)."""

    def get(self, key: str) -> Any: ...

    def get_many(self, *keys: str) -> list[Any]: ...

    def set(self, key: str, value: Any, timeout: int | None = None) -> Any: ...

    def delete_many(self, *keys: str) -> Any: ...


def patron_key(provider: str, agency_id: str, patron_id: int, what: str) -> str:
    """The cache key of one thing about one patron at one library."""
    # Only an int may be a patron id here: a string could be anything, even a CPR number.
    if not isinstance(patron_id, int) or isinstance(patron_id, bool):
        raise TypeError("patron_id must be an int")
    if what not in _WHATS.get(provider, ()):
        raise ValueError(f"unregistered cache entry {provider}:{what}; add it to _WHATS")
    if ":" in agency_id:
        raise ValueError("agency_id must not contain ':'")
    return f"{provider}:{agency_id}:{patron_id}:{what}"


def snapshot_key(agency_id: str, patron_id: int) -> str:
    """The key of the overview last shown to one patron at one agency (`portal.services.stale`).

    Checked like `patron_key` (an int patron id, an agency without ':'), so it cannot hold a CPR
    number either; "snapshot" is no provider, so it never meets a provider's own entries.
    """
    if not isinstance(patron_id, int) or isinstance(patron_id, bool):
        raise TypeError("patron_id must be an int")
    if ":" in agency_id:
        raise ValueError("agency_id must not contain ':'")
    return f"snapshot:{agency_id}:{patron_id}"


def work_key(faust: str) -> str:
    """The cache key of one title's bibliographic data: a FAUST number, nothing about a person."""
    # Digits only: whatever else a caller might pass (a patron id, a CPR number as text) is refused.
    if not is_faust(faust):
        raise ValueError("a work's key takes a FAUST number (8 or 9 digits)")
    return WORK_PREFIX + faust


def _patron_keys(agency_id: str, patron_id: int) -> list[str]:
    """Every key the layer keeps about one patron at one library."""
    return [patron_key(provider, agency_id, patron_id, what) for provider, whats in _WHATS.items() for what in whats]


@dataclass(frozen=True)
class _Versioned:
    """A patron entry as stored: its value and a version drawn at random when it was written.

    Equal versions mean the same write, so the same value: a page built from entries whose
    versions it has seen before is the page it built then (`PatronEntries.version`), and need not
    be compared value by value. An entry of an older release (a bare value) has no version.
    """

    version: bytes
    value: Any


def _unwrapped(stored: Any) -> tuple[Any, bytes | None]:
    if isinstance(stored, _Versioned):
        return stored.value, stored.version
    return stored, None


@dataclass(frozen=True)
class PatronEntries:
    """What the cache holds of one borrower at one library, read in one round trip; None: not cached."""

    patron: Patron | None
    fees: tuple[Fee, ...] | None
    claims: tuple[Claim, ...] | None
    versions: tuple[bytes | None, bytes | None, bytes | None] = (None, None, None)

    def version(self, *, claims: bool) -> bytes | None:
        """The patron's and fees' versions (and the claims', when `claims`) as one; None if one is missing.

        Stands for the values themselves: two reads with the same version read the same writes.
        """
        used = self.versions if claims else self.versions[:2]
        if any(version is None for version in used):
            return None
        return b"".join(version for version in used if version is not None)


class ProviderCache:
    """Provider answers in `store` for `ttl` seconds, under `patron_key`s; works apart, under `work_key`s."""

    def __init__(self, store: KeyValueStore, ttl: int, flight: SingleFlight | None = None) -> None:
        self._store = store
        self._ttl = ttl
        # In-process only unless the caller hands one with a Redis client (`Upstreams`).
        self.flight = flight if flight is not None else SingleFlight()

    def cached(self, provider: str, agency_id: str, patron_id: int, what: str, fetch: Callable[[], T]) -> T:
        """The cached value, or `fetch()` stored for the TTL; an exception from `fetch` stores nothing.

        Concurrent misses of the same entry share one `fetch()` (single-flight).
        """
        key = patron_key(provider, agency_id, patron_id, what)
        value = self._get_patron_entry(key)
        metrics.record_cache(provider, hit=value is not None)
        if value is not None:
            return value  # type: ignore[no-any-return]

        def fetch_and_store() -> T:
            fetched = fetch()
            # None would read as a miss next time; no provider answer is None anyway.
            if fetched is not None:
                self._set_patron_entry(key, fetched)
            return fetched

        def lookup() -> T | None:
            found: T | None = self._get_patron_entry(key)
            return found

        return self.flight.run(key, lookup, fetch_and_store)

    def read_patron(self, agency_id: str, patron_id: int) -> PatronEntries:
        """Everything cached about the patron at the library, in one round trip (Redis MGET).

        A warm page needs nothing else; what is missing, the caller asks for through `cached`
        (single-flight, stored). Each entry found counts as a hit of its provider.
        """
        keys = _patron_keys(agency_id, patron_id)
        # Read with the session's entry at the request's start, when this session's page read them before.
        stored_values = read_ahead.take(self._store, keys)
        if stored_values is None:
            stored_values = self._get_many(keys)
        found = dict(zip(keys, (_unwrapped(stored) for stored in stored_values), strict=True))
        patron, patron_version = found[patron_key("fbs", agency_id, patron_id, "patron")]
        fees, fees_version = found[patron_key("fbs", agency_id, patron_id, "fees")]
        claims, claims_version = found[patron_key("debtor", agency_id, patron_id, "claims")]
        for provider, value in (("fbs", patron), ("fbs", fees), ("debtor", claims)):
            if value is not None:
                metrics.record_cache(provider, hit=True)
        return PatronEntries(
            patron if isinstance(patron, Patron) else None,
            tuple(fees) if fees is not None else None,
            tuple(claims) if claims is not None else None,
            (patron_version, fees_version, claims_version),
        )

    def store(self, provider: str, agency_id: str, patron_id: int, what: str, value: object) -> None:
        """Store a value fetched otherwise (a look-up's answer that already holds the patron)."""
        self._set_patron_entry(patron_key(provider, agency_id, patron_id, what), value)

    def _get_patron_entry(self, key: str) -> Any:
        value, _version = _unwrapped(self._get(key))
        return value

    def _set_patron_entry(self, key: str, value: object) -> None:
        self._set(key, _Versioned(secrets.token_bytes(_VERSION_BYTES), value), self._ttl)

    def _get(self, key: str) -> Any:
        try:
            return self._store.get(key)
        except Exception as exc:  # Redis down or unreadable entry: a miss, the upstream answers
            log.warning("cache: read failed (%s), asking the upstream", type(exc).__name__)
            return None

    def _get_many(self, keys: list[str]) -> list[Any]:
        if not keys:
            return []
        try:
            return list(self._store.get_many(*keys))
        except Exception as exc:  # as `_get`: all misses, the upstream answers
            log.warning("cache: read failed (%s), asking the upstream", type(exc).__name__)
            return [None] * len(keys)

    def _set(self, key: str, value: object, timeout: int) -> None:
        read_ahead.forget([key])  # this request reads what it wrote, not what was read before
        try:
            self._store.set(key, value, timeout=timeout)
        except Exception as exc:  # the answer is still good; only the next request pays for it
            log.warning("cache: write failed (%s), answer not cached", type(exc).__name__)

    def works(self, fausts: Sequence[str]) -> tuple[dict[str, Work], list[str]]:
        """The cached works of `fausts`, and the FAUST numbers still to be looked up (in order)."""
        found: dict[str, Work] = {}
        misses: list[str] = []
        asked = valid_fausts(fausts)
        # One round trip for a page's titles (Redis MGET), not one per material.
        for faust, value in zip(asked, self._get_many([work_key(faust) for faust in asked]), strict=True):
            if isinstance(value, Work):
                found[faust] = value
            elif value != _UNKNOWN_WORK:
                misses.append(faust)
        return found, misses

    def remember_works(self, works: Mapping[str, Work], unknown: Iterable[str] = ()) -> None:
        """Store works for a day, and FBI's "no such record" answers for the patron TTL."""
        for faust, work in works.items():
            self._set(work_key(faust), work, WORK_TTL)
        for faust in unknown:
            self._set(work_key(faust), _UNKNOWN_WORK, self._ttl)

    def forget_patron(self, agency_id: str, patron_id: int) -> None:
        """Drop everything cached about the patron at that library."""
        keys = _patron_keys(agency_id, patron_id)
        read_ahead.forget(keys)
        self._store.delete_many(*keys)

    def forget_patrons(self, patrons: Mapping[str, int]) -> None:
        """Drop the entries of {agency_id: patron_id} (a signed-out citizen's libraries)."""
        for agency_id, patron_id in patrons.items():
            self.forget_patron(agency_id, patron_id)


class CachedFbs:
    """What the services use of FBS: patron and fees of one library, cached."""

    def __init__(self, client: FbsClient, cache: ProviderCache) -> None:
        self._client = client
        self._cache = cache
        self.agency_id = client.agency_id

    def find_patron_id(self, cpr: str) -> int | None:
        """The CPR look-up, not cached (the key would need the CPR; the session remembers the id).

        Its answer carries the whole patron (the same `AuthenticatedPatron` as the patron call):
        stored under the patron's id, so a first view makes no patron call.
        """
        patron = self._client.find_patron(cpr)
        if patron is None:
            return None
        self._cache.store("fbs", self.agency_id, patron.patron_id, "patron", patron)
        return patron.patron_id

    def patron(self, patron_id: int) -> Patron:
        return self._cache.cached(
            "fbs", self.agency_id, patron_id, "patron", lambda: self._client.get_patron(patron_id)
        )

    def fees(self, patron_id: int) -> list[Fee]:
        fees = self._cache.cached(
            "fbs", self.agency_id, patron_id, "fees", lambda: tuple(self._client.get_fees(patron_id))
        )
        # Stored as a tuple; callers get a list of their own.
        return list(fees)


class CachedFbsAdapter:
    """FBS through DBC's adapter for one borrower (their token) at one library, cached like direct mode.

    The entries are direct mode's own: `"fbs:<agency>:<patron_id>:…"`, the same FBS data of the
    same patron, so logout drops them alike. Neither the token nor a CPR number is in a key: the
    patron id comes from the adapter's patron answer, which is not cached by key (it would need
    the token) — the session remembers the id instead, as it does direct mode's CPR look-up.
    """

    mode = "dbc_adapter"

    def __init__(self, client: FbsAdapterClient, cache: ProviderCache) -> None:
        self._client = client
        self._cache = cache
        self.agency_id = client.agency_id

    def find_patron(self) -> Patron | None:
        """The token's patron (None: no borrower here), asked anew and kept under its id."""
        patron = self._client.get_patron()
        if patron is not None:
            self._cache.store("fbs", self.agency_id, patron.patron_id, "patron", patron)
        return patron

    def patron(self, patron_id: int) -> Patron:
        return self._cache.cached("fbs", self.agency_id, patron_id, "patron", lambda: self._own_patron(patron_id))

    def fees(self, patron_id: int) -> list[Fee]:
        fees = self._cache.cached("fbs", self.agency_id, patron_id, "fees", lambda: tuple(self._client.get_fees()))
        return list(fees)

    def _own_patron(self, patron_id: int) -> Patron:
        patron = self._client.get_patron()
        # The id came from this token before; another answer now must not fill that id's entry.
        if patron is None or patron.patron_id != patron_id:
            raise UpstreamBadResponse("fbs", f"patron at {self.agency_id} (via dbc_adapter): not the token's patron")
        return patron


class CachedDebtor:
    """What the services use of the debtor system: one library's claims of a citizen, cached.

    The debtor system knows citizens by CPR number, but the entry is keyed by the FBS
    patron id the CPR number was resolved to for this library — never by the CPR number.
    """

    def __init__(self, client: DebtorClient, agency_id: str, cache: ProviderCache) -> None:
        self._client = client
        self._cache = cache
        self.agency_id = agency_id

    def claims(self, patron_id: int, cpr: str) -> list[Claim]:
        claims = self._cache.cached(
            "debtor", self.agency_id, patron_id, "claims", lambda: tuple(self._client.get_claims(self.agency_id, cpr))
        )
        return list(claims)


class CachedFbi:
    """What the services use of the FBI API: works by FAUST number, cached, misses in one request."""

    def __init__(self, client: FbiClient, cache: ProviderCache) -> None:
        self._client = client
        self._cache = cache

    def works(self, fausts: Sequence[str]) -> dict[str, Work]:
        """{faust: Work} for the FAUST numbers that have one; raises UpstreamError when the look-up fails.

        Only what FBI answered is stored: a failed or unreadable look-up is tried again next time.
        """
        found, misses = self._cache.works(fausts)
        if misses:
            # Single-flight like the patron entries: the sign-in's prefetch and the first view ask
            # for the same materials, and must make one request between them. The key names the
            # batch by a hash of its FAUST numbers (bibliographic ids, nothing personal).
            batch = hashlib.sha256(" ".join(sorted(misses)).encode()).hexdigest()[:32]
            found.update(
                self._cache.flight.run(f"fbi:lookup:{batch}", lambda: self._cached(misses), lambda: self._fetch(misses))
            )
        return found

    def _cached(self, fausts: list[str]) -> dict[str, Work] | None:
        found, misses = self._cache.works(fausts)
        return None if misses else found

    def _fetch(self, fausts: list[str]) -> dict[str, Work]:
        answer = self._client.lookup(fausts)
        self._cache.remember_works(answer.works, answer.unknown)
        return dict(answer.works)
