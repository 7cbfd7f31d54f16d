"""The one caching layer every provider call goes through.

Built on the app's cache (`portal.cache.cache`: in-process, or Redis when
PORTAL_CACHE_URL is set). Keys are `"<provider>:<agency>:<patron_id>:<what>"`:
per library and per patron, and never containing a CPR number, because Redis
keys show up in monitoring tools and dumps (the debtor system, which is asked
by CPR number, is cached under the patron id too). Only successful answers are
cached; a failure is tried again on the next request. At logout the patron's
entries are dropped so the next sign-in sees fresh data.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import Flask, current_app

from portal.cache import cache
from portal.domain.claims import Claim
from portal.domain.fees import Fee, Patron
from portal.providers.debtor import DebtorClient
from portal.providers.fbs import FbsClient, SessionKeyStore
from portal.providers.http import get_http
from portal.signals import citizen_logged_out

log = logging.getLogger(__name__)

T = TypeVar("T")
SESSIONS_KEY = "portal.fbs_sessions"

# Every `what` a provider caches per patron. Logout deletes exactly these keys,
# which works the same on SimpleCache and Redis (no key scanning).
_WHATS: dict[str, tuple[str, ...]] = {
    "fbs": ("patron", "fees"),
    "debtor": ("claims",),
}


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


def cached(provider: str, agency_id: str, patron_id: int, what: str, fetch: Callable[[], T]) -> T:
    """The cached value, or `fetch()` stored for `Settings.cache_ttl` seconds.

    An exception from `fetch` propagates and nothing is stored.
    """
    key = patron_key(provider, agency_id, patron_id, what)
    value = cache.get(key)
    if value is not None:
        return value
    value = fetch()
    # None would read as a miss next time; no provider answer is None anyway.
    if value is not None:
        cache.set(key, value, timeout=current_app.config["PORTAL_SETTINGS"].cache_ttl)
    return value


def forget_patron(agency_id: str, patron_id: int) -> None:
    """Drop everything cached about the patron at that library."""
    keys = [patron_key(provider, agency_id, patron_id, what)
            for provider, whats in _WHATS.items() for what in whats]
    cache.delete_many(*keys)


def _on_citizen_logged_out(_sender: Any, patrons: Mapping[str, int] | None = None, **_extra: Any) -> None:
    # `patrons` holds only the libraries where the citizen is a borrower (session_patrons).
    for agency_id, patron_id in (patrons or {}).items():
        forget_patron(agency_id, patron_id)


class CachedFbs:
    """What the views use of FBS: patron and fees of one library, cached."""

    def __init__(self, client: FbsClient) -> None:
        self._client = client
        self.agency_id = client.agency_id

    def find_patron_id(self, cpr: str) -> int | None:
        """Not cached: the key would need the CPR. The session remembers the answer instead."""
        return self._client.find_patron_id(cpr)

    def patron(self, patron_id: int) -> Patron:
        return cached("fbs", self.agency_id, patron_id, "patron",
                      lambda: self._client.get_patron(patron_id))

    def fees(self, patron_id: int) -> list[Fee]:
        fees = cached("fbs", self.agency_id, patron_id, "fees",
                      lambda: tuple(self._client.get_fees(patron_id)))
        # Stored as a tuple; callers get a list of their own.
        return list(fees)


def fbs_for(agency_id: str, username: str | None = None, password: str | None = None) -> CachedFbs:
    """FBS of one library with the app's settings; a library may bring its own client login."""
    if (username is None) != (password is None):
        raise ValueError("give both an FBS username and password for a library, or neither")
    settings = current_app.config["PORTAL_SETTINGS"]
    client = FbsClient(
        get_http(), settings.fbs_base_url, agency_id,
        username if username is not None else settings.fbs_username,
        password if password is not None else settings.fbs_password,
        current_app.extensions[SESSIONS_KEY],
    )
    return CachedFbs(client)


class CachedDebtor:
    """What the views use of the debtor system: one library's claims of a citizen, cached.

    The debtor system knows citizens by CPR number, but the entry is keyed by the FBS
    patron id the CPR number was resolved to for this library — never by the CPR number.
    """

    def __init__(self, client: DebtorClient, agency_id: str) -> None:
        self._client = client
        self.agency_id = agency_id

    def claims(self, patron_id: int, cpr: str) -> list[Claim]:
        claims = cached("debtor", self.agency_id, patron_id, "claims",
                        lambda: tuple(self._client.get_claims(self.agency_id, cpr)))
        return list(claims)


def debtor_for(agency_id: str) -> CachedDebtor | None:
    """The debtor system for one library, or None when PORTAL_DEBTOR_BASE_URL is not set."""
    settings = current_app.config["PORTAL_SETTINGS"]
    if not settings.debtor_base_url:
        return None
    client = DebtorClient(get_http(), settings.debtor_base_url, settings.debtor_api_key or "")
    return CachedDebtor(client, agency_id)


def init_app(app: Flask) -> None:
    """Session keys for the app's FBS clients, and cache clean-up at logout."""
    app.extensions[SESSIONS_KEY] = SessionKeyStore()
    # A module-level function: blinker keeps it (weakly, but the module lives),
    # and connecting it again for another app is a no-op.
    citizen_logged_out.connect(_on_citizen_logged_out)
