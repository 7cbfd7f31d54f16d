"""axe-core (WCAG 2.1 A/AA) finds 0 violations on every page of the editor area, refusals included."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date

import httpx
import pytest
from playwright.sync_api import Page, expect

from portal import db
from portal.libraries import editing
from portal.payments import reasons
from portal.payments.states import State
from tests.browser.test_accessibility import violations
from tests.browser.test_editor_journey import editor_sign_in, follow
from tests.editor.helpers import make_order
from tests.support.stack import Stack, start_stack

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def editor_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = start_stack(tmp_path_factory.mktemp("editor-axe"))
    yield stack
    stack.stop()


@pytest.fixture
def lone(page: Page, editor_stack: Stack) -> Page:
    editor_sign_in(page, editor_stack, "Lone Lyngby")
    return page


def assert_no_violations(page: Page) -> None:
    found = violations(page)
    assert found == [], json.dumps(found, indent=1)


def change_behind_the_editors_back(stack: Stack, **fields: str) -> None:
    """Another editor saves a draft while the page is open (through the storage directly)."""
    with stack.app.app_context():
        state = editing.load_state(db.session(), "lyngby")
        assert state is not None
        form = {**editing.form_values(state.draft or state.published), **fields}
        editing.save_draft(db.session(), "lyngby", form, "Ada Admin (editor-ada)", state.version)


@pytest.mark.parametrize("path", ["/editor/", "/editor/?lang=en"])
def test_sign_in_page(page: Page, editor_stack: Stack, path: str) -> None:
    page.goto(editor_stack.url + path)
    assert_no_violations(page)


@pytest.mark.parametrize(
    "path",
    [
        "/editor/",
        "/editor/lyngby/",
        "/editor/lyngby/?lang=en",
        "/editor/lyngby/history",
        "/editor/lyngby/preview/da",
        "/editor/lyngby/preview/en",
        "/editor/rodovre/",
    ],
)
def test_signed_in_pages(lone: Page, editor_stack: Stack, path: str) -> None:
    lone.goto(editor_stack.url + path)
    if path == "/editor/rodovre/":
        expect(lone.get_by_role("heading", level=1)).to_have_text("Siden findes ikke")  # a foreign library
    assert_no_violations(lone)


def test_form_with_validation_errors(lone: Page, editor_stack: Stack) -> None:
    lone.goto(f"{editor_stack.url}/editor/lyngby/")
    lone.get_by_role("textbox", name="Kodelinje", exact=True).fill("+71< 000000002000017+86021447<")
    lone.get_by_role("textbox", name="Indledning (dansk)").fill("Fra {cutoff}")
    follow(lone, lone.get_by_role("button", name="Gem kladde"))
    expect(lone.locator(".form-error")).to_have_count(2)
    expect(lone.get_by_role("alert").first).to_contain_text("Intet er gemt")
    assert_no_violations(lone)
    lone.get_by_role("link", name="Kodelinje: Kontrolcifferet er forkert", exact=False).click()
    expect(lone.get_by_role("textbox", name="Kodelinje", exact=True)).to_be_focused()


def test_schedule_with_errors_then_scheduled_and_draft(lone: Page, editor_stack: Stack) -> None:
    lone.goto(f"{editor_stack.url}/editor/lyngby/")
    follow(lone, lone.get_by_role("button", name="Planlæg ændringen"))
    expect(lone.locator(".form-error")).to_have_count(2)
    assert_no_violations(lone)
    lone.get_by_role("textbox", name="Fra").fill(date(2099, 3, 1).isoformat())
    lone.get_by_role("textbox", name="Ny skæringsdato").fill("2024-01-01")
    follow(lone, lone.get_by_role("button", name="Planlæg ændringen"))
    expect(lone.locator("[data-upcoming]")).to_contain_text("1. marts 2099")
    follow(lone, lone.get_by_role("button", name="Gem kladde"))
    expect(lone.locator("[data-draft]")).to_be_visible()
    assert_no_violations(lone)  # success message, upcoming change, draft actions


def test_conflict(lone: Page, editor_stack: Stack) -> None:
    lone.goto(f"{editor_stack.url}/editor/lyngby/")
    change_behind_the_editors_back(editor_stack, **{"text.en.extra_info": "Changed by Ada"})
    follow(lone, lone.get_by_role("button", name="Gem kladde"))
    expect(lone.get_by_role("alert").first).to_contain_text("En anden redaktør har ændret biblioteket")
    assert_no_violations(lone)


def test_history_after_changes_and_a_stale_restore(lone: Page, editor_stack: Stack) -> None:
    lone.goto(f"{editor_stack.url}/editor/lyngby/")
    lone.get_by_role("textbox", name="Skæringsdato", exact=True).fill("2023-01-01")
    follow(lone, lone.get_by_role("button", name="Gem kladde"))
    follow(lone, lone.get_by_role("button", name="Udgiv kladden"))
    lone.goto(f"{editor_stack.url}/editor/lyngby/history")
    assert_no_violations(lone)
    change_behind_the_editors_back(editor_stack)
    follow(lone, lone.get_by_role("button", name="Gendan version 1"))
    expect(lone.get_by_role("alert").first).to_contain_text("Intet er gendannet")
    assert_no_violations(lone)


def test_form_refused_without_its_token(lone: Page, editor_stack: Stack) -> None:
    lone.goto(f"{editor_stack.url}/editor/lyngby/")
    lone.locator("input[name=csrf_token]").first.evaluate("input => input.value = 'forged'")
    with lone.expect_navigation(wait_until="load"):
        lone.locator("form").first.evaluate("form => form.submit()")
    expect(lone.get_by_role("heading", level=1)).to_have_text("Formularen kunne ikke modtages")
    assert_no_violations(lone)


def test_sign_in_required_after_signing_out_elsewhere(lone: Page, editor_stack: Stack) -> None:
    lone.goto(f"{editor_stack.url}/editor/lyngby/")
    typed = lone.locator("textarea[name='text.da.extra_info']")
    typed.fill("Skrevet mens login udløb")
    # Signed out meanwhile (another tab's "Log ud"), sent with the browser's cookies, no navigation.
    token = lone.locator("input[name=csrf_token]").first.input_value()
    signed_out = lone.context.request.post(
        f"{editor_stack.url}/editor/logout", form={"csrf_token": token}, max_redirects=0
    )
    assert signed_out.status == 302
    follow(lone, lone.get_by_role("button", name="Gem kladde"))
    expect(lone.get_by_role("alert").first).to_contain_text("Intet er gemt: du er ikke logget ind som redaktør")
    expect(lone.get_by_role("alert").first).to_contain_text("Dine ændringer bevares i denne browser")
    assert_no_violations(lone)
    # Signed in again, straight back to the form, with what was typed (not saved).
    follow(lone, lone.get_by_role("link", name="Log ind som redaktør"))
    follow(lone, lone.get_by_role("button", name=re.compile("^Log ind som Lone Lyngby")))
    expect(lone).to_have_url(f"{editor_stack.url}/editor/lyngby/")
    expect(lone.get_by_role("alert").first).to_contain_text("Du sendte formularen, efter dit login var udløbet")
    expect(typed).to_have_value("Skrevet mens login udløb")
    assert_no_violations(lone)


def test_no_libraries_page(page: Page, editor_stack: Stack) -> None:
    editor_sign_in(page, editor_stack, "Niels Nobody")
    expect(page.get_by_text("Dit login giver dig ingen biblioteker at redigere")).to_be_visible()
    assert_no_violations(page)


def test_login_failed_page(page: Page, editor_stack: Stack) -> None:
    page.goto(f"{editor_stack.url}/editor/login")
    follow(page, page.get_by_role("button", name="Afbryd login"))
    expect(page.get_by_role("alert")).to_have_count(1)
    assert_no_violations(page)


def test_the_page_offered_instead_of_a_framed_sign_in(page: Page, editor_stack: Stack) -> None:
    # Chromium sets Sec-Fetch-Dest itself, and the page is refused inside a frame (frame-ancestors
    # 'none'): fetch it as a frame would, then check it on the portal's origin as a top-level page.
    answer = httpx.get(f"{editor_stack.url}/editor/login", headers={"Sec-Fetch-Dest": "iframe"})
    assert answer.status_code == 403
    page.goto(f"{editor_stack.url}/editor/")
    page.set_content(answer.text)
    expect(page.get_by_role("link", name="Log ind som redaktør")).to_have_attribute("target", "_top")
    assert_no_violations(page)


def test_payment_pages_with_a_refused_and_an_accepted_resolve(lone: Page, editor_stack: Stack) -> None:
    # A reason with Nexi's own words in it: the Danish sentence around an English part.
    waiting = make_order(editor_stack.app, reason=reasons.gave_up(reasons.upstream_failed("nexi", "HTTP 503"), 7))
    make_order(editor_stack.app, to=State.COMPLETED)
    lone.goto(f"{editor_stack.url}/editor/lyngby/betalinger/")
    expect(lone.locator("[data-orders=needs-review]")).to_contain_text(waiting)
    expect(lone.locator("[data-orders=needs-review] [lang=en]")).to_have_text("HTTP 503")
    assert_no_violations(lone)
    lone.goto(f"{editor_stack.url}/editor/lyngby/betalinger/{waiting}")
    assert_no_violations(lone)
    follow(lone, lone.get_by_role("button", name="Markér som løst"))  # without a note
    expect(lone.locator(".form-error")).to_have_count(1)
    assert_no_violations(lone)
    lone.get_by_role("textbox", name="Hvad gjorde du?").fill("Annullerede reservationen i Nexi-portalen.")
    follow(lone, lone.get_by_role("button", name="Markér som løst"))
    expect(lone.locator("[data-resolved]")).to_be_visible()
    assert_no_violations(lone)


def test_edit_page_with_the_live_preview_and_a_future_date(lone: Page, editor_stack: Stack) -> None:
    lone.goto(f"{editor_stack.url}/editor/lyngby/")
    field = lone.get_by_role("textbox", name="Ekstra information (dansk)")
    field.fill("Ny **tekst** fra {cutoff_date}\n\n- et punkt\n- [et link](https://www.ltk.dk/)")
    preview = lone.locator("#field-text-da-extra-info-preview")
    # The server renders it while the editor types (static/js/editor-preview.js).
    expect(preview.locator("strong")).to_have_text("tekst")
    expect(preview.get_by_role("link", name="et link")).to_have_attribute("href", "https://www.ltk.dk/")
    expect(preview).not_to_contain_text("{cutoff_date}")  # filled in with the date in force
    assert_no_violations(lone)
    lone.get_by_role("textbox", name="Skæringsdato", exact=True).fill("2099-01-01")
    follow(lone, lone.get_by_role("button", name="Gem kladde"))
    expect(lone.get_by_role("link", name="Gå til “Planlæg en ændring”")).to_be_visible()
    assert_no_violations(lone)
