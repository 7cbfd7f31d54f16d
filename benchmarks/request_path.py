"""Benchmark rows of the request path: a citizen page's wall time as a multiple of the upstream latency L.

Every simulator call (FBS and the debtor system) is delayed by L. Measured over real HTTP against the
stack of the tests (one portal process, threaded server, in-process cache):

- sign-in callback: the IdP's redirect back to the portal (with the prefetch: the patron look-up, 1 × L);
- first view after sign-in: the page right after that redirect;
- view after the cache expired: the same session, the borrower's cache entries dropped;
- FBS fees calls for 100 concurrent first views of one borrower (a count, not a time).

Ratios, not milliseconds: the machine is shared. Medians of a few runs.
"""

from __future__ import annotations

import re
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urljoin

import httpx

from portal.devtools.demo_data import LYNGBY
from portal.providers.setup import EXTENSION_KEY
from tests.support.stack import Stack, start_stack

RUNS = 5
CONCURRENT_VIEWS = 100
ANNE = 1001


def _until_callback(client: httpx.Client, stack: Stack, sub: str) -> str:
    """Sign in up to the IdP's answer; returns the portal's callback URL (not yet requested)."""
    start = client.get(f"{stack.url}/lyngby/login")
    authorize_url = start.headers["location"]
    page = client.get(authorize_url)
    action = re.search(r'<form[^>]*\baction="([^"]*)"', page.text)
    target = urljoin(authorize_url, action[1].replace("&amp;", "&")) if action else authorize_url
    chosen = client.post(target, data={"sub": sub})
    return str(chosen.headers["location"])


def _forget_anne(stack: Stack) -> None:
    stack.app.extensions[EXTENSION_KEY].forget_patrons({LYNGBY: ANNE})


def _timed_get(client: httpx.Client, url: str) -> tuple[float, httpx.Response]:
    started = time.monotonic()
    response = client.get(url)
    return time.monotonic() - started, response


def _one_sign_in(stack: Stack) -> tuple[float, float, float]:
    """(callback, first view, view after expiry) seconds for a fresh sign-in of Anne."""
    with httpx.Client(timeout=30, trust_env=False) as client:
        callback_url = _until_callback(client, stack, "demo-anne")
        _forget_anne(stack)  # a true first view: nothing of hers is cached
        callback, answer = _timed_get(client, callback_url)
        page_url = urljoin(callback_url, answer.headers["location"])
        first, page = _timed_get(client, page_url)
        if page.status_code != 200:
            raise SystemExit(f"first view answered {page.status_code}")
        _forget_anne(stack)
        expired, page = _timed_get(client, page_url)
        if page.status_code != 200:
            raise SystemExit(f"view after expiry answered {page.status_code}")
    return callback, first, expired


def _fees_calls_of_concurrent_first_views(stack: Stack) -> int:
    with httpx.Client(timeout=30, trust_env=False) as client:
        callback_url = _until_callback(client, stack, "demo-anne")
        _forget_anne(stack)
        before = stack.fbs_state.calls["fees"]
        answer = client.get(callback_url)
        page_url = urljoin(callback_url, answer.headers["location"])
        cookies = client.cookies

        def one(_: int) -> int:
            with httpx.Client(timeout=30, trust_env=False, cookies=cookies) as own:
                return own.get(page_url).status_code

        with ThreadPoolExecutor(CONCURRENT_VIEWS) as pool:
            statuses = list(pool.map(one, range(CONCURRENT_VIEWS)))
        if set(statuses) != {200}:
            raise SystemExit(f"concurrent first views answered {sorted(set(statuses))}")
        return stack.fbs_state.calls["fees"] - before


def request_path_rows(tmp: Path, latency: float) -> dict[str, str]:
    """The rows, as text, with upstream latency `latency` seconds (L)."""
    stack = start_stack(tmp)
    stack.app.config["SESSION_COOKIE_SECURE"] = False  # httpx sends no Secure cookie over http
    try:
        stack.fbs_state.delay_answers(latency)
        stack.debtor_state.delay_answers(latency)
        # The start-up's early FBS logins (one per library) are done before we measure.
        ends = time.monotonic() + 10 * latency + 10
        while stack.fbs_state.calls["login"] < 2 and time.monotonic() < ends:
            time.sleep(0.01)
        _one_sign_in(stack)  # not counted: the first page compiles the templates
        runs = [_one_sign_in(stack) for _ in range(RUNS)]
        fees_calls = _fees_calls_of_concurrent_first_views(stack)
    finally:
        stack.stop()
    callback, first, expired = (statistics.median(run[i] for run in runs) for i in range(3))
    return {
        "sign-in callback (IdP → portal redirect)": f"{callback / latency:5.2f} × L",
        "first view after sign-in (target ≤ 1.2)": f"{first / latency:5.2f} × L",
        "view after the cache expired (target ≤ 1.2)": f"{expired / latency:5.2f} × L",
        f"FBS fees calls, {CONCURRENT_VIEWS} concurrent first views (target 1)": f"{fees_calls:5d}",
    }
