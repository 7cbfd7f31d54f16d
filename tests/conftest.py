"""Fixtures shared by every test folder: browser launch arguments for Debian's Chromium, a fresh redis-server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.support.redis_server import redis_server


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A redis-server of this test's own, stopped afterwards.

    Modules that reuse one server (scope="module") or, like tests/scaleout, empty a shared one
    define their own `redis_url`.
    """
    with redis_server() as url:
        yield url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, browser_name):  # type: ignore[no-untyped-def]
    """Use the machine's Chromium; Playwright cannot download its own here."""
    if browser_name != "chromium":
        return browser_type_launch_args
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is not installed: run `make test`, which installs it")
    return {
        **browser_type_launch_args,
        "executable_path": executable,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            "--disable-dev-shm-usage",
        ],
    }
