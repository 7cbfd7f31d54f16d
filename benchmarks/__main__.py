"""Benchmark: the citizen page against a bare Flask app, on the same server, in one run.

Reports ratios, not absolute timings (the machine is shared): requests per second of
each portal page divided by a hello-world Flask app served the same way, the effect
of the provider cache, and the memory one overview render allocates; then the request
path's rows (`request_path`) as multiples of the upstream latency L (BENCH_LATENCY seconds,
default 0.15).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from flask import Flask

from benchmarks.request_path import request_path_rows
from portal.providers import setup
from tests.support.live import start_live_server
from tests.support.login import http_login
from tests.support.stack import start_stack

DURATION = 3.0  # seconds per measurement
CLIENTS = 4


def hello_app() -> Flask:
    app = Flask("hello")
    app.add_url_rule("/", "hello", lambda: "hello")
    return app


def throughput(url: str, cookies: httpx.Cookies | None = None, before: object = None) -> float:
    """Requests per second that CLIENTS concurrent clients get from `url` for DURATION seconds."""

    def worker(_: int) -> int:
        done = 0
        with httpx.Client(cookies=cookies, timeout=10) as client:
            deadline = time.monotonic() + DURATION
            while time.monotonic() < deadline:
                if callable(before):
                    before()
                response = client.get(url)
                if response.status_code != 200:
                    raise SystemExit(f"{url} answered {response.status_code}")
                done += 1
        return done

    with ThreadPoolExecutor(CLIENTS) as pool:
        total = sum(pool.map(worker, range(CLIENTS)))
    return total / DURATION


def render_allocation(stack, cookies: httpx.Cookies) -> int:  # type: ignore[no-untyped-def]
    """Peak bytes Python allocates while serving one warm overview (tracemalloc)."""
    samples = []
    with httpx.Client(cookies=cookies, timeout=10) as client:
        client.get(f"{stack.url}/lyngby/")
        for _ in range(5):
            tracemalloc.start()
            client.get(f"{stack.url}/lyngby/")
            samples.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
    return int(statistics.median(samples))


def main() -> int:
    stack = start_stack(Path(tempfile.mkdtemp(prefix="bench-")))
    stack.app.config["SESSION_COOKIE_SECURE"] = False  # httpx does not send Secure cookies over http
    hello = start_live_server(hello_app())
    try:
        with httpx.Client(timeout=10) as client:
            http_login(client, stack.url, "demo-anne")
            cookies = client.cookies
        base = throughput(hello.url + "/")

        def forget_anne() -> None:
            # Drop only Anne's provider entries (clearing the cache would drop her session too).
            with stack.app.app_context():
                setup.upstreams().cache.forget_patron("DK-717300", 1001)

        results = {
            "signed-out page": throughput(f"{stack.url}/lyngby/"),
            "overview, cache warm": throughput(f"{stack.url}/lyngby/", cookies),
            "overview, cache cold (every view asks FBS)": throughput(f"{stack.url}/lyngby/", cookies, forget_anne),
            "JSON overview, cache warm": throughput(f"{stack.url}/api/v1/libraries/lyngby/overview", cookies),
        }
        allocation = render_allocation(stack, cookies)
    finally:
        hello.stop()
        stack.stop()
    print(f"hello-world Flask on the same server: {base:.0f} req/s (the 1.00 reference)")
    for name, rate in results.items():
        print(f"{name:<45} {rate / base:5.2f} × hello-world")
    print(f"{'memory allocated per warm overview render':<45} {allocation / 1024:5.0f} KiB (tracemalloc peak)")
    latency = float(os.environ.get("BENCH_LATENCY", "0.15"))
    print(f"request path, every upstream call delayed by L = {latency * 1000:.0f} ms:")
    for name, value in request_path_rows(Path(tempfile.mkdtemp(prefix="bench-path-")), latency).items():
        print(f"  {name:<62} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
