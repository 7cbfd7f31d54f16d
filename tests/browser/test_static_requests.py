"""What Chromium actually fetches for Anne's overview (issue 11): at most 7 requests on a first visit (the
page, one stylesheet, one script, four woff2 fonts), and only the page on a repeat visit (immutable caching).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import sign_in
from tests.support.stack import Stack

pytestmark = pytest.mark.browser


def test_a_first_visit_makes_seven_requests_and_a_repeat_visit_one(page: Page, stack: Stack) -> None:
    sign_in(page, stack, "Anne")
    paths: list[str] = []
    inner = stack.app.wsgi_app

    def counting(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        paths.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    # A fresh browser context (empty cache) with Anne's session cookie.
    assert page.context.browser is not None
    context = page.context.browser.new_context()
    context.add_cookies(page.context.cookies())  # type: ignore[arg-type]
    fresh = context.new_page()
    stack.app.wsgi_app = counting  # type: ignore[method-assign]
    try:
        fresh.goto(f"{stack.url}/lyngby/")
        fresh.wait_for_load_state("networkidle")
        first = list(paths)
        paths.clear()
        fresh.goto(f"{stack.url}/lyngby/?lang=en")  # another page of the site: everything is cached
        fresh.wait_for_load_state("networkidle")
        repeat = list(paths)
    finally:
        stack.app.wsgi_app = inner  # type: ignore[method-assign]
        context.close()
    assert len(first) <= 7 and all(p.endswith(".woff2") for p in first if "/fonts/" in p), first
    assert repeat == ["/lyngby/"], repeat
