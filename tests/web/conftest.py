"""A live stack for the web tests, and an httpx client that can sign in."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.stack import Stack, start_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = start_stack(tmp_path_factory.mktemp("web"))
    # Browsers send Secure cookies to http://127.0.0.1; httpx's cookie jar does not.
    # (The Secure flag itself is tested in tests/auth.)
    stack.app.config["SESSION_COOKIE_SECURE"] = False
    yield stack
    stack.stop()


@pytest.fixture
def client(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


# The payment world (portal, FBS and Nexi simulators; tests/payments/conftest.py) for the payment pages.
from tests.payments.conftest import world  # noqa: E402, F401
