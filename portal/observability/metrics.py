"""Prometheus metrics (prometheus-client): what is measured, and the text `/metrics` answers with.

Flask-free, so the provider layer records upstream calls here (`portal.providers.http.send`).

Why prometheus-client: it is Prometheus's own client, the only one with a multi-process mode
for pre-forking servers such as gunicorn. With `PROMETHEUS_MULTIPROC_DIR` set (before the
process starts: prometheus-client reads it at import) every worker writes its values to files
there and a scrape of any worker adds up all of them; unset, the values live in this process.

Labels are bounded by construction: the Flask url rule (`/<slug:slug>/`), never the raw path;
a status class (`2xx`), never a code; a provider name from a fixed set. No label ever holds
a CPR number, token, session id or anything a client chose.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OTHER_PROVIDER = "other"
# Seconds: a warm page in milliseconds, an upstream call up to its deadline (8 s by default).
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUEST_SECONDS = Histogram(
    "portal_http_request_duration_seconds",
    "Time to answer a request, by Flask url rule, method and status class.",
    ["route", "method", "status_class"],
    buckets=_BUCKETS,
)
UPSTREAM_SECONDS = Histogram(
    "portal_upstream_request_duration_seconds",
    "Time of one upstream call, by provider and outcome (status class, timeout or error).",
    ["provider", "outcome"],
    buckets=_BUCKETS,
)
UPSTREAM_ERRORS = Counter(
    "portal_upstream_errors_total",
    "Upstream calls that failed: timeout, transport error (no answer) or a 5xx answer.",
    ["provider", "kind"],
)
CACHE_LOOKUPS = Counter(
    "portal_cache_lookups_total",
    "Look-ups in the provider cache, by provider and result (hit or miss).",
    ["provider", "result"],
)
SINGLE_FLIGHT = Counter(
    "portal_single_flight_total",
    "Cache misses by single-flight role: led (made the upstream call), waited (used another's), gave_up.",
    ["provider", "role"],
)
SESSION_STORE_ERRORS = Counter(
    "portal_session_store_errors_total",
    "Session store (Redis) calls that failed, by operation: read and delete answer 503, a failed write too "
    "unless it only refreshed the expiry.",
    ["operation"],
)
DATABASE_ERRORS = Counter(
    "portal_database_errors_total",
    "Requests answered 503 because the database could not be reached (refused, dropped, pool exhausted).",
)
# Multi-process: the highest state any live worker reports (one open breaker is worth knowing).
BREAKER_STATE = Gauge(
    "portal_breaker_state",
    "Circuit breaker per upstream: 0 closed, 1 half-open, 2 open.",
    ["provider"],
    multiprocess_mode="livemax",
)
BREAKER_STATES = {"closed": 0, "half_open": 1, "open": 2}

# base URL -> provider name, filled from the settings at start-up (`register_upstream`).
_providers: dict[str, str] = {}
_providers_lock = threading.Lock()


def status_class(status: int) -> str:
    """`404` -> `4xx`."""
    return f"{status // 100}xx"


def register_upstream(base_url: str | None, provider: str) -> None:
    """Calls to `base_url` (and below it) are labelled `provider`; the first registration of a URL wins."""
    if base_url:
        with _providers_lock:
            _providers.setdefault(base_url.rstrip("/"), provider)


def provider_for(base_url: str) -> str:
    """The provider name registered for `base_url` (the longest registered prefix), else `other`."""
    url = base_url.rstrip("/")
    best = ""
    for known in _providers:
        if (url == known or url.startswith(known + "/")) and len(known) > len(best):
            best = known
    return _providers[best] if best else OTHER_PROVIDER


def record_request(route: str, method: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(route, method, status_class(status)).observe(seconds)


def record_upstream(base_url: str, seconds: float, status: int | None = None, failure: str | None = None) -> None:
    """One upstream call to `base_url`: answered with `status`, or failed with `failure` (timeout/error)."""
    provider = provider_for(base_url)
    outcome = failure if failure is not None else status_class(status or 0)
    UPSTREAM_SECONDS.labels(provider, outcome).observe(seconds)
    if failure is not None:
        UPSTREAM_ERRORS.labels(provider, failure).inc()
    elif status is not None and status >= 500:
        UPSTREAM_ERRORS.labels(provider, "5xx").inc()


def record_cache(provider: str, hit: bool) -> None:
    """One provider-cache look-up (`provider` from a fixed set: "fbs", "debtor", "fbi", …)."""
    CACHE_LOOKUPS.labels(provider, "hit" if hit else "miss").inc()


def record_single_flight(provider: str, role: str) -> None:
    """One cache miss: `role` "led" (this request called the upstream), "waited" or "gave_up" (wait too long)."""
    SINGLE_FLIGHT.labels(provider, role).inc()


def record_session_store_error(operation: str) -> None:
    """A session store call failed: `operation` "read", "write", "refresh" or "delete"."""
    SESSION_STORE_ERRORS.labels(operation).inc()


def record_database_error() -> None:
    """A request met a database it could not reach, and was answered 503."""
    DATABASE_ERRORS.inc()


def set_breaker_state(provider: str, state: str) -> None:
    """The breaker of `provider` is now "closed", "half_open" or "open"."""
    BREAKER_STATE.labels(provider).set(BREAKER_STATES[state])


class _Delegate(Collector):
    """Collects what another registry (the process's default one) holds."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterable[Metric]:
        return self._registry.collect()


class _FromFunction(Collector):
    def __init__(self, collect: Callable[[], Iterable[Metric]]) -> None:
        self._collect = collect

    def collect(self) -> Iterator[Metric]:
        yield from self._collect()


def exposition(multiproc_dir: str | None, *extra: Callable[[], Iterable[Metric]]) -> bytes:
    """The text format of every metric: all workers' (multi-process mode) or this process's, plus `extra`.

    `extra` collectors (the payment states, read from the database) are asked at scrape time, in
    the one process answering the scrape: they must not be added up across workers.
    """
    registry = CollectorRegistry()
    if multiproc_dir:
        multiprocess.MultiProcessCollector(registry, path=multiproc_dir)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Delegate(REGISTRY))
    for collect in extra:
        registry.register(_FromFunction(collect))
    return generate_latest(registry)
