"""An editor moves Lyngby's cut-off date: edit, preview in both languages, publish; citizens see it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.conftest import sign_in
from tests.support.stack import Stack, start_stack

pytestmark = pytest.mark.browser


def follow(page: Page, target: Locator) -> None:
    """Click a link or submit button and wait until the next page has loaded.

    Leaving a page before its scripts arrive drops their connections, and the test server then
    leaves a file unclosed (a ResourceWarning, which this suite treats as an error).
    """
    with page.expect_navigation(wait_until="load"):
        target.click()


def editor_sign_in(page: Page, stack: Stack, name: str) -> None:
    """Open /editor/, press 'Log ind som redaktør', pick demo editor `name` on the dev IdP."""
    page.goto(f"{stack.url}/editor/")
    follow(page, page.get_by_role("link", name="Log ind som redaktør"))
    follow(page, page.get_by_role("button", name=re.compile(f"^Log ind som {name}")))
    expect(page).to_have_url(f"{stack.url}/editor/")
    expect(page.get_by_role("button", name="Log ud")).to_be_visible()


@pytest.fixture(scope="module")
def editor_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # Its own stack and database: publishing here must not change what other browser tests see.
    stack = start_stack(tmp_path_factory.mktemp("editor-journey"))
    yield stack
    stack.stop()


def test_editor_changes_the_date_previews_publishes_and_citizens_see_it(
    page: Page, browser: Browser, editor_stack: Stack
) -> None:
    stack = editor_stack
    editor_sign_in(page, stack, "Lone Lyngby")
    follow(page, page.get_by_role("link", name="Lyngby-Taarbæk Bibliotekerne"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Redigér Lyngby-Taarbæk Bibliotekerne")
    expect(page.locator("[data-current-cutoff]")).to_have_text("15. juni 2021")

    page.get_by_role("textbox", name="Skæringsdato", exact=True).fill("2024-01-01")
    follow(page, page.get_by_role("button", name="Gem kladde"))
    expect(page.get_by_text("Kladden er gemt.")).to_be_visible()
    expect(page.locator("[data-current-cutoff]")).to_have_text("15. juni 2021")  # a draft changes nothing yet

    follow(page, page.get_by_role("link", name="Forhåndsvisning på dansk"))
    expect(page.locator("[data-preview]")).to_contain_text("Forhåndsvisning af kladden")
    expect(page.locator("main")).to_contain_text("Mellemværender oprettet før 1. januar 2024")
    follow(page, page.get_by_role("link", name="English"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("main")).to_contain_text("Debts created before 1 January 2024")

    follow(page, page.get_by_role("button", name="Publish the draft"))
    # Back on the form, in the editor's own language (the preview's language does not stick).
    expect(page.get_by_text("Udgivet. Borgerne ser nu den nye version.")).to_be_visible()
    expect(page.locator("[data-current-cutoff]")).to_have_text("1. januar 2024")

    # A borrower, in a browser of their own, now reads the new date inside the library's texts.
    citizen = browser.new_context().new_page()
    sign_in(citizen, stack, "Anne Andersen")
    expect(citizen.locator("main")).to_contain_text("Mellemværender oprettet før 1. januar 2024")
    expect(citizen.locator("section[aria-labelledby='payable-here']")).to_contain_text("før 1. januar 2024")
    expect(citizen.locator("main")).not_to_contain_text("15. juni 2021")
    citizen.wait_for_load_state("load")  # closing earlier would drop the page's script requests
    citizen.context.close()

    page.goto(f"{stack.url}/editor/lyngby/history")
    expect(page.locator("#revision-2")).to_have_text("Version 2: Udgivet")
