"""axe-core (WCAG 2.1 A/AA) finds 0 violations on every page a citizen can reach."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from portal import kvstore
from portal.web import citizen
from portal.web.security import LAST_RESORT_PAGE
from tests.browser.conftest import sign_in
from tests.support.stack import Stack

pytestmark = pytest.mark.browser
AXE = Axe()
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}}


def violations(page: Page) -> list[dict[str, Any]]:
    """axe's violations on the current page, as a list a failing assert prints in full."""
    results = AXE.run(page, options=WCAG)
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["html"] for n in v["nodes"]][:3]}
        for v in results.response["violations"]
    ]


def test_axe_can_fail(page: Page) -> None:
    """The check itself must be able to fail: a page with known faults shows them."""
    page.set_content("<html><body><img src='x.png'><a href='#'></a><input type='text'></body></html>")
    ids = {v["id"] for v in violations(page)}
    assert {"image-alt", "link-name", "label", "html-has-lang"} <= ids


@pytest.mark.parametrize("path", ["/", "/lyngby/", "/lyngby/?lang=en", "/no-such-library/"])
def test_signed_out_pages(page: Page, stack: Stack, path: str) -> None:
    page.goto(stack.url + path)
    assert violations(page) == [], json.dumps(violations(page), indent=1)


@pytest.mark.parametrize("name", ["Anne Andersen", "Bent Berg", "Clara Christensen", "Dennis Dahl", "Eva Eriksen"])
def test_signed_in_pages(page: Page, stack: Stack, name: str) -> None:
    sign_in(page, stack, name)
    found = violations(page)
    assert found == [], json.dumps(found, indent=1)
    page.goto(f"{stack.url}/lyngby/?lang=en")
    found = violations(page)
    assert found == [], json.dumps(found, indent=1)


def test_unavailable_page(page: Page, stack: Stack) -> None:
    stack.fbs_state.fail_next(50)
    try:
        sign_in(page, stack, "Clara Christensen", slug="rodovre")
        found = violations(page)
    finally:
        stack.fbs_state.reset_faults()
    assert page.get_by_role("alert").count() == 1
    assert found == [], json.dumps(found, indent=1)


def test_stale_page(page: Page, stack: Stack) -> None:
    """FBS down after Bent was shown his page: the same page, marked (portal.services.stale)."""
    sign_in(page, stack, "Bent Berg")
    stack.app.extensions["portal.upstreams"].cache.forget_patron("DK-717300", 1002)
    stack.fbs_state.fail_next(50)
    try:
        page.goto(f"{stack.url}/lyngby/?lang=en")
        found = violations(page)
    finally:
        stack.fbs_state.reset_faults()
    assert page.locator("[data-stale-as-of]").count() == 1 and page.locator("[data-total='all']").count() == 1
    assert found == [], json.dumps(found, indent=1)


def test_login_failed_page(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.url}/lyngby/login")
    page.get_by_role("button", name="Afbryd login").click()
    assert page.get_by_role("alert").count() == 1
    found = violations(page)
    assert found == [], json.dumps(found, indent=1)


def test_the_last_resort_page(page: Page) -> None:
    """The fixed page served when even the error handling fails."""
    page.set_content(LAST_RESORT_PAGE.decode("utf-8"))
    found = violations(page)
    assert found == [], json.dumps(found, indent=1)


def test_the_friendly_500_page(page: Page, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(slug: str) -> None:
        raise RuntimeError("a bug, for the test")

    monkeypatch.setattr(citizen, "library_or_404", broken)
    response = page.goto(f"{stack.url}/lyngby/")
    assert response is not None and response.status == 500
    found = violations(page)
    assert found == [], json.dumps(found, indent=1)


@pytest.mark.parametrize("path", ["/lyngby/", "/lyngby/embed"])
def test_the_sign_in_cannot_be_checked_page(
    page: Page, stack: Stack, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """The session store unreachable: the 503 page, on its own and inside the library's frame."""
    sign_in(page, stack, "Anne Andersen")
    cache = kvstore.backend(stack.app)

    def unreachable(*keys: str) -> object:
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(cache, "get", unreachable)
    monkeypatch.setattr(cache, "get_many", unreachable)
    response = page.goto(stack.url + path)
    assert response is not None and response.status == 503
    found = violations(page)
    assert found == [], json.dumps(found, indent=1)
