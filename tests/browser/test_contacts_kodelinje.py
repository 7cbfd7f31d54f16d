"""Who to ask and the code line's bank fields in a real browser (issue 9): axe 0, wraps at 320 px, copy works."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import violations
from tests.support.stack import Stack

pytestmark = pytest.mark.browser
WIDTHS = (320, 375, 1280)


def no_horizontal_overflow(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", ["da", "en"])
@pytest.mark.parametrize("slug", ["lyngby", "rodovre"])
def test_contacts_and_code_line_pass_axe_and_wrap(page: Page, stack: Stack, slug: str, lang: str, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    sign_in(page, stack, "Anne Andersen", slug=slug)
    page.goto(f"{stack.url}/{slug}/?lang={lang}")
    expect(page.locator('[data-contact="library"]')).to_be_visible()
    expect(page.locator('[data-contact="municipality"]')).to_be_visible()
    block = page.locator("[data-kodelinje-block]")
    expect(block).to_be_visible()
    # The copy buttons appear once the script found a clipboard (127.0.0.1 is a secure context).
    expect(block.locator("button[data-copy-target]").first).to_be_visible()
    # Nothing in the code line or the contacts sticks out of the page.
    assert no_horizontal_overflow(page), f"{slug} {lang} {width}px overflows"
    for locator in (block, page.locator(".contact-block").first):
        box = locator.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5
    found = violations(page)
    assert found == [], json.dumps(found, indent=1)


def test_a_copy_button_copies_its_field(page: Page, context: BrowserContext, stack: Stack) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.url)
    sign_in(page, stack, "Anne Andersen")
    page.locator('[data-bank-field="creditor_number"] button').click()
    expect(page.locator("[data-copy-status]")).to_have_text("Kopieret")
    assert page.evaluate("navigator.clipboard.readText()") == "86836084"
    page.locator('[data-bank-field="message"] button').click()
    assert page.evaluate("navigator.clipboard.readText()").startswith("Lånernummer ")


def test_without_javascript_the_values_are_there_and_no_button_is(browser: Browser, stack: Stack) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, stack, "Anne Andersen")
        expect(page.locator('[data-bank-field="creditor_number"]')).to_contain_text("86836084")
        assert page.locator("button[data-copy-target]:visible").count() == 0
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_not_a_borrower_page_names_the_library(page: Page, stack: Stack, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    sign_in(page, stack, "Bent Berg", slug="rodovre")
    expect(page.locator('[data-contact="library"]')).to_contain_text("36 37 89 00")
    assert no_horizontal_overflow(page)
    found = violations(page)
    assert found == [], json.dumps(found, indent=1)
