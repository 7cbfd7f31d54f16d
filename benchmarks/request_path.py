"""Benchmark rows of the request path: a citizen page's wall time as a multiple of the upstream latency L.

Every FBS and debtor answer is delayed by L. Measured from outside, over HTTP, against the portal under
gunicorn (two processes sharing Redis):

- sign-in callback: the IdP's redirect back to the portal (with the prefetch: the patron look-up, 1 × L);
- first view after sign-in: the page right after that redirect;
- view after the cache expired: the same session, the borrower's cache entries dropped;
- FBS fees calls for 100 concurrent first views of one borrower (a count, not a time).

The borrower's entries are dropped in Redis, where the workers keep them, with the portal's own
`ProviderCache.forget_patron` (the keys logout drops), so no portal code is changed for the benchmark and
the session (also in Redis) stays. Ratios, not milliseconds: the machine is shared. Medians of a few runs.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx
from flask import Flask

from portal import kvstore
from portal.config import load_settings
from portal.devtools.demo_data import LYNGBY
from portal.providers.cache import ProviderCache

CONCURRENT_VIEWS = 100
ANNE = ("demo-anne", 1001)


def redis_cache(portal_env: dict[str, str]) -> ProviderCache:
    """The provider cache the portal's workers share, reached from here through the same settings."""
    settings = load_settings(portal_env)
    app = Flask("bench-cache")
    app.config["PORTAL_SETTINGS"] = settings
    kvstore.init_app(app)
    return ProviderCache(kvstore.backend(app), settings.cache_ttl)


def until_callback(client: httpx.Client, portal_url: str, sub: str) -> str:
    """Sign in up to the IdP's answer; returns the portal's callback URL (not yet requested)."""
    start = client.get(f"{portal_url}/lyngby/login")
    authorize_url = start.headers["location"]
    page = client.get(authorize_url)
    action = re.search(r'<form[^>]*\baction="([^"]*)"', page.text)
    target = urljoin(authorize_url, action[1].replace("&amp;", "&")) if action else authorize_url
    chosen = client.post(target, data={"sub": sub})
    return str(chosen.headers["location"])


def sign_in(client: httpx.Client, portal_url: str, sub: str) -> str:
    """Sign `client` in as `sub`; returns the overview's URL."""
    callback = until_callback(client, portal_url, sub)
    answer = client.get(callback)
    return urljoin(callback, answer.headers["location"])


def cookie_header(client: httpx.Client) -> str:
    """The client's cookies as one `Cookie` header value (for wrk)."""
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in client.cookies.jar)


def _timed_get(client: httpx.Client, url: str) -> tuple[float, httpx.Response]:
    started = time.monotonic()
    response = client.get(url)
    return time.monotonic() - started, response


def _checked(what: str, response: httpx.Response) -> None:
    if response.status_code != 200:
        raise SystemExit(f"{what} answered {response.status_code}")


@dataclass(frozen=True)
class SignInTimes:
    callback: float
    first_view: float
    after_expiry: float


def one_sign_in(portal_url: str, cache: ProviderCache) -> SignInTimes:
    """Seconds of the callback, the first view and a view after expiry, for a fresh sign-in of Anne."""
    sub, patron = ANNE
    with httpx.Client(timeout=30, trust_env=False) as client:
        callback_url = until_callback(client, portal_url, sub)
        cache.forget_patron(LYNGBY, patron)  # a true first view: nothing of hers is cached
        callback, answer = _timed_get(client, callback_url)
        page_url = urljoin(callback_url, answer.headers["location"])
        first, page = _timed_get(client, page_url)
        _checked("first view", page)
        cache.forget_patron(LYNGBY, patron)
        expired, page = _timed_get(client, page_url)
        _checked("view after expiry", page)
    return SignInTimes(callback, first, expired)


def fees_calls_of_concurrent_first_views(portal_url: str, cache: ProviderCache, fees_calls: Callable[[], int]) -> int:
    """FBS fees calls made for CONCURRENT_VIEWS simultaneous first views of Anne (`fees_calls()` counts them)."""
    sub, patron = ANNE
    with httpx.Client(timeout=30, trust_env=False) as client:
        callback_url = until_callback(client, portal_url, sub)
        cache.forget_patron(LYNGBY, patron)
        before = fees_calls()
        answer = client.get(callback_url)
        page_url = urljoin(callback_url, answer.headers["location"])
        cookies = client.cookies

        def one(_: int) -> int:
            with httpx.Client(timeout=60, trust_env=False, cookies=cookies) as own:
                return own.get(page_url).status_code

        with ThreadPoolExecutor(CONCURRENT_VIEWS) as pool:
            statuses = list(pool.map(one, range(CONCURRENT_VIEWS)))
        if set(statuses) != {200}:
            raise SystemExit(f"concurrent first views answered {sorted(set(statuses))}")
        return fees_calls() - before


def median_times(portal_url: str, cache: ProviderCache, runs: int) -> SignInTimes:
    one_sign_in(portal_url, cache)  # not counted: warms the sign-in path of a worker
    measured = [one_sign_in(portal_url, cache) for _ in range(runs)]
    return SignInTimes(
        statistics.median(m.callback for m in measured),
        statistics.median(m.first_view for m in measured),
        statistics.median(m.after_expiry for m in measured),
    )


def render_ratio(portal_url: str, many: str, few: str, views: int) -> float:
    """Median warm overview time of borrower `many` over that of `few` (everything cached: the portal's own time).

    The two are timed in turns, so a neighbour's load on the shared machine weighs on both alike.
    """
    with httpx.Client(timeout=60, trust_env=False) as a, httpx.Client(timeout=60, trust_env=False) as b:
        pages = [(a, sign_in(a, portal_url, many)), (b, sign_in(b, portal_url, few))]
        for client, url in pages:
            _checked("overview", client.get(url))  # fills the cache
        times: list[list[float]] = [[], []]
        for _ in range(views):
            for (client, url), spent in zip(pages, times, strict=True):
                seconds, page = _timed_get(client, url)
                _checked("warm overview", page)
                spent.append(seconds)
    return statistics.median(times[0]) / statistics.median(times[1])
