"""Every upstream of one portal: FBS per library, the debtor system and DBC's FBI API, built once at start-up.

FBS is read directly (the portal's client login, the patron found by CPR number) or through DBC's
adapter (the borrower's Adgangsplatformen token; the library's `fbs_access`).

One shared httpx.Client (timeouts, a deadline per call), one FBS session-key store, one caching
layer; the services ask this object for a library's cached clients, so nothing below the web
layer reaches for Flask's `current_app`.
"""

from __future__ import annotations

from collections.abc import Mapping

from portal.config import Settings
from portal.providers.cache import CachedDebtor, CachedFbi, CachedFbs, CachedFbsAdapter, KeyValueStore, ProviderCache
from portal.providers.credentials import FbsLogin, LoginVariables, MissingCredentials, resolve_login
from portal.providers.debtor import DebtorClient
from portal.providers.errors import UpstreamError
from portal.providers.fbi import FbiClient
from portal.providers.fbs import FbsClient, SessionKeyStore
from portal.providers.fbs_adapter import FbsAdapterClient
from portal.providers.http import create_http_client
from portal.providers.nexi import NexiClient

__all__ = ["Upstreams"]


class Upstreams:
    """The upstream clients of one app, configured from `settings`, caching in `store`."""

    def __init__(self, settings: Settings, store: KeyValueStore) -> None:
        self.http = create_http_client(settings)
        self.cache = ProviderCache(store, settings.cache_ttl)
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

    def forget_patrons(self, patrons: Mapping[str, int]) -> None:
        """Drop what is cached for {agency_id: patron_id} (a citizen signed out)."""
        self.cache.forget_patrons(patrons)

    def close(self) -> None:
        """Close the shared HTTP client (idempotent)."""
        self.http.close()
