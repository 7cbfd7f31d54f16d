"""The live stack for browser tests, and a helper to sign in as a demo borrower."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.support.stack import Stack, start_stack
from tests.support.waiting import wait_for_background


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # As in the demo: fee rows name what was borrowed (the FBI simulator answers for the demo data).
    stack = start_stack(tmp_path_factory.mktemp("stack"), fbi=True)
    yield stack
    stack.stop()


def sign_in(page: Page, stack: Stack, name: str, slug: str = "lyngby") -> None:
    """Open the library page, press 'Log ind', pick `name` on the dev IdP, land on the overview.

    Returns once the sign-in's prefetch has ended, so a test's next change to FBS cannot race it.
    """
    page.goto(f"{stack.url}/{slug}/")
    page.get_by_role("link", name="Log ind").click()
    page.get_by_role("button", name=re.compile(f"^Log ind som {name}")).click()
    expect(page).to_have_url(f"{stack.url}/{slug}/")
    expect(page.get_by_role("button", name="Log ud")).to_be_visible()
    wait_for_background()
