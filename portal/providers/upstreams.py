"""Every upstream of one portal: FBS per library, the debtor system and DBC's FBI API, built once at start-up.

FBS is read directly (the portal's client login, the patron found by CPR number) or through DBC's
adapter (the borrower's Adgangsplatformen token; the library's `fbs_access`).

One shared httpx.Client (timeouts, a deadline per call), one FBS session-key store, one caching
layer; the services ask this object for a library's cached clients, so nothing below the web
layer reaches for Flask's `current_app`.

The cache's single-flight locks live in the same Redis as the cache (PORTAL_CACHE_URL), through
a client of their own with short socket timeouts: a Redis that hangs costs a lock, not a page.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

import redis

from portal.config import REDIS_SOCKET_TIMEOUT, Settings
from portal.providers.breakers import UpstreamGuards
from portal.providers.cache import CachedDebtor, CachedFbi, CachedFbs, CachedFbsAdapter, KeyValueStore, ProviderCache
from portal.providers.credentials import FbsLogin, LoginVariables, MissingCredentials, resolve_login
from portal.providers.debtor import DebtorClient
from portal.providers.errors import UpstreamError
from portal.providers.fbi import FbiClient
from portal.providers.fbs import FbsClient, SessionKeyStore
from portal.providers.fbs_adapter import FbsAdapterClient
from portal.providers.http import create_http_client
from portal.providers.nexi import NexiClient
from portal.providers.single_flight import SingleFlight

__all__ = ["Upstreams"]

log = logging.getLogger(__name__)
# Seconds a lock command may wait on Redis before the caller goes on without the lock.


class Upstreams:
    """The upstream clients of one app, configured from `settings`, caching in `store`."""

    def __init__(self, settings: Settings, store: KeyValueStore) -> None:
        # A circuit breaker and a concurrency limit per upstream, applied by http.send to every call.
        self.guards = UpstreamGuards(settings.breaker_failures, settings.breaker_reset, settings.upstream_concurrency)
        for url, provider in (
            (settings.fbs_base_url, "fbs"),
            (settings.fbs_adapter_base_url, "fbs_adapter"),
            (settings.debtor_base_url, "debtor"),
            (settings.fbi_base_url, "fbi"),
            (settings.nexi_base_url, "nexi"),
        ):
            self.guards.register(url, provider)
        self.http = create_http_client(settings, self.guards)
        self._lock_redis = (
            redis.Redis.from_url(
                settings.cache_url, socket_timeout=REDIS_SOCKET_TIMEOUT, socket_connect_timeout=REDIS_SOCKET_TIMEOUT
            )
            if settings.cache_url
            else None
        )
        # A lock outlives its holder's call by a margin only: a crashed holder blocks no one for long.
        flight = SingleFlight(self._lock_redis, lock_ttl=settings.upstream_deadline + 1.0)
        self.cache = ProviderCache(store, settings.cache_ttl, flight)
        self._settings = settings
        # Seconds all upstream calls of one page may take together (services open the budget).
        self.page_budget = settings.page_budget
        self.default_login = FbsLogin(settings.fbs_username, settings.fbs_password)
        self._fbs_sessions = SessionKeyStore()
        self._debtor = (
            DebtorClient(self.http, settings.debtor_base_url, settings.debtor_api_key or "")
            if settings.debtor_base_url
            else None
        )
        self._fbi = (
            FbiClient(self.http, settings.fbi_base_url, settings.fbi_token or "") if settings.fbi_base_url else None
        )

    def fbs(self, agency_id: str, login: FbsLogin) -> CachedFbs:
        """FBS of one library (agency), logged in as `login`, cached."""
        return CachedFbs(self.fbs_client(agency_id, login), self.cache)

    def fbs_client(self, agency_id: str, login: FbsLogin) -> FbsClient:
        """FBS of one library, uncached: for payments, which must see and change what FBS holds now."""
        return FbsClient(
            self.http, self._settings.fbs_base_url, agency_id, login.username, login.password, self._fbs_sessions
        )

    def fbs_adapter(self, agency_id: str, token: str) -> CachedFbsAdapter:
        """FBS of one library through DBC's adapter, as the borrower whose user `token` this is, cached."""
        return CachedFbsAdapter(self.fbs_adapter_client(agency_id, token), self.cache)

    def fbs_adapter_client(self, agency_id: str, token: str) -> FbsAdapterClient:
        """FBS through DBC's adapter, uncached (payments); PORTAL_FBS_ADAPTER_BASE_URL must be set."""
        if not self._settings.fbs_adapter_base_url:
            # Checked at start-up for every library reading FBS so; only one loaded since gets here.
            raise UpstreamError("fbs", "PORTAL_FBS_ADAPTER_BASE_URL is not set; set it and restart the portal")
        return FbsAdapterClient(self.http, self._settings.fbs_adapter_base_url, agency_id, token)

    def nexi(self, secret_key: str) -> NexiClient:
        """Nexi Checkout with one library's secret key (PORTAL_NEXI_BASE_URL must be set)."""
        if not self._settings.nexi_base_url:
            raise UpstreamError("nexi", "PORTAL_NEXI_BASE_URL is not set")
        return NexiClient(self.http, self._settings.nexi_base_url, secret_key)

    def fbs_login(self, names: LoginVariables) -> FbsLogin:
        """The library's FBS login: its own (named variables, read at start-up) or the deployment's.

        Raises UpstreamError when a variable is missing: checked at start-up for every library, so
        only a library loaded by another process since then can get here.
        """
        try:
            return resolve_login(names, self._settings.environment, self.default_login)
        except MissingCredentials as exc:
            raise UpstreamError("fbs", f"{exc}; set it and restart the portal") from None

    def debtor(self, agency_id: str) -> CachedDebtor | None:
        """The debtor system for one library, or None when PORTAL_DEBTOR_BASE_URL is not set."""
        return CachedDebtor(self._debtor, agency_id, self.cache) if self._debtor is not None else None

    def fbi(self) -> CachedFbi | None:
        """DBC's FBI API (titles by FAUST number), cached; None when PORTAL_FBI_BASE_URL is not set."""
        return CachedFbi(self._fbi, self.cache) if self._fbi is not None else None

    def open_fbs_sessions(self, logins: Iterable[tuple[str, FbsLogin]]) -> None:
        """Log in to FBS for each (agency, login) not logged in yet, one after another; failures only logged.

        Run at start-up in the background: the first borrower of a library then finds a session key.
        """
        for agency_id, login in logins:
            try:
                self.fbs_client(agency_id, login).open_session()
            except UpstreamError as exc:
                # The first request logs in itself then, and says what is wrong if it still is.
                log.warning("fbs: early login at %s failed: %s", agency_id, exc)

    def forget_patrons(self, patrons: Mapping[str, int]) -> None:
        """Drop what is cached for {agency_id: patron_id} (a citizen signed out)."""
        self.cache.forget_patrons(patrons)

    def close(self) -> None:
        """Close the shared HTTP client and the lock's Redis connections (idempotent)."""
        self.http.close()
        if self._lock_redis is not None:
            self._lock_redis.close()
