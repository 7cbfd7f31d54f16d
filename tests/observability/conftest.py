"""A live stack (portal, IdP, FBS and debtor simulators) for the observability tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.stack import Stack, start_stack

METRICS_TOKEN = "metrics-token-under-test-0123456789"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = start_stack(tmp_path_factory.mktemp("observability"), PORTAL_METRICS_TOKEN=METRICS_TOKEN)
    # httpx's cookie jar sends no Secure cookies to http://127.0.0.1 (the flag is tested in tests/auth).
    stack.app.config["SESSION_COOKIE_SECURE"] = False
    yield stack
    stack.stop()
