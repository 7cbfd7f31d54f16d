"""`/readyz`: is every dependency reachable? Checked cheaply, the answer kept a few seconds.

Required: the database (`SELECT 1`), the key-value store (sessions and cache: a set and a get of
one fixed key) and FBS (without it no page has figures). Optional: the debtor system, DBC's FBI
API and Nexi Checkout — the page works without them (FBS figures only, item numbers, no card
payment) — so their failure makes the answer `degraded`, still 200: taking every worker out of
the load balancer because the municipality's API is down would only turn a partial page into
none. Unconfigured upstreams are not listed.

An upstream is reachable when it answers HTTP at all below 500 (a GET on its base URL, no
login, no borrower: a 401 or 404 still proves the service is there); a transport error, a
timeout or a 5xx fails it. The calls use the app's shared client (its pool and deadline), but
not `providers.http.send`, so these probes are not counted as upstream traffic in the metrics.

The probes run concurrently; the result is cached for `CACHE_SECONDS`, and only one round runs
at a time, so a load balancer
(or several) polling every second cannot multiply into load on FBS.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
from cachelib import BaseCache
from sqlalchemy import Engine, text

from portal.config import Settings
from portal.providers.http import upstream_budget

CACHE_SECONDS = 5.0
PROBE_SECONDS = 2.0  # the most one upstream probe may take
_PROBE_KEY = "observability:readyz-probe"  # a fixed key: no personal data in the store


@dataclass(frozen=True)
class Check:
    name: str
    required: bool
    probe: Callable[[], None]  # returns when reachable, raises when not


def check_result(check: Check) -> dict[str, Any]:
    started = time.monotonic()
    try:
        check.probe()
    except Exception as exc:  # any failure of a probe means "not reachable"
        error: str | None = type(exc).__name__
    else:
        error = None
    ok = error is None
    result: dict[str, Any] = {
        "status": "ok" if ok else "fail",
        "required": check.required,
        "latency_ms": round((time.monotonic() - started) * 1000, 1),
    }
    if error is not None:
        result["error"] = error  # the exception's kind only: messages may hold addresses
    return result


def database_probe(engine: Engine) -> Callable[[], None]:
    def probe() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    return probe


def store_probe(store: BaseCache) -> Callable[[], None]:
    def probe() -> None:
        value = str(time.time_ns())
        if not store.set(_PROBE_KEY, value, timeout=60) or store.get(_PROBE_KEY) != value:
            raise RuntimeError("the key-value store did not keep a value")

    return probe


def http_probe(http: httpx.Client, base_url: str) -> Callable[[], None]:
    def probe() -> None:
        with upstream_budget(PROBE_SECONDS):
            response = http.get(base_url + "/")
        if response.status_code >= 500:
            raise RuntimeError(f"HTTP {response.status_code}")

    return probe


def standard_checks(settings: Settings, engine: Engine, store: BaseCache, http: httpx.Client) -> list[Check]:
    """The checks of a deployment configured by `settings` (optional upstreams only when configured)."""
    checks = [
        Check("database", True, database_probe(engine)),
        Check("cache", True, store_probe(store)),
        Check("fbs", True, http_probe(http, settings.fbs_base_url)),
    ]
    optional = {
        "fbs_adapter": settings.fbs_adapter_base_url,
        "debtor": settings.debtor_base_url,
        "fbi": settings.fbi_base_url,
        "nexi": settings.nexi_base_url,
    }
    for name, url in optional.items():
        if url:
            checks.append(Check(name, False, http_probe(http, url)))
    return checks


class Readiness:
    """The checks, run at most once per `cache_seconds` and one run at a time."""

    def __init__(self, checks: list[Check], cache_seconds: float = CACHE_SECONDS) -> None:
        self.checks = checks
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._last: tuple[float, dict[str, Any]] | None = None

    def report(self) -> dict[str, Any]:
        """`{"status": "ok" | "degraded" | "fail", "checks": {name: {...}}}`."""
        with self._lock:
            if self._last is not None and time.monotonic() - self._last[0] < self._cache_seconds:
                return self._last[1]
            # Concurrently: the answer takes the slowest probe's time, not the sum of all of them.
            with ThreadPoolExecutor(max_workers=max(1, len(self.checks))) as pool:
                results = dict(zip((c.name for c in self.checks), pool.map(check_result, self.checks), strict=True))
            failed = [name for name, result in results.items() if result["status"] != "ok"]
            if any(results[name]["required"] for name in failed):
                status = "fail"
            else:
                status = "degraded" if failed else "ok"
            report = {"status": status, "checks": results}
            self._last = (time.monotonic(), report)
            return report
