"""The citizen's page at phone and desktop widths (issue 9): summary first, nothing too wide, compact rows.

For every demo borrower who has an overview, at both libraries and in both languages, at 320,
375 and 1280 px: no horizontal scrolling, the total and "Log ud" inside the first 375×667 screen,
fee rows short, the mismatch note where FBS's flag and the cut-off date disagree, a clean printed
statement, and axe's 0 violations at each width. One sign-in per borrower, library and language.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import violations
from tests.support.stack import Stack

pytestmark = pytest.mark.browser

WIDTHS = (320, 375, 1280)
PHONE: ViewportSize = {"width": 375, "height": 667}
# (borrower, library): every demo borrower with an overview there (portal/devtools/demo_data.py).
BORROWERS = (
    ("Anne Andersen", "lyngby"),
    ("Anne Andersen", "rodovre"),
    ("Bent Berg", "lyngby"),
    ("Clara Christensen", "lyngby"),
    ("Clara Christensen", "rodovre"),
    ("Eva Eriksen", "lyngby"),
)
# Fees whose FBS flag disagrees with the cut-off date -> where the date would put them.
MISMATCHES = {("Anne Andersen", "lyngby"): {"507": "payable_here"}}
ROW_HEIGHT = 160  # a fee row with up to two materials, at 375 px (also one with the mismatch note)
LIBRARY_NAMES = {"lyngby": "Lyngby-Taarbæk Bibliotekerne", "rodovre": "Rødovre Bibliotek"}


def overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0: no horizontal scrolling)."""
    return int(page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth"))


def bottom_in_first_screen(page: Page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]


def open_page(page: Page, stack: Stack, name: str, slug: str, language: str) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, stack, name, slug)
    if language == "en":
        page.goto(f"{stack.url}/{slug}/?lang=en")
    page.evaluate("window.scrollTo(0, 0)")


@pytest.mark.parametrize("language", ["da", "en"])
@pytest.mark.parametrize(("name", "slug"), BORROWERS)
def test_the_page_at_every_width(page: Page, stack: Stack, name: str, slug: str, language: str) -> None:
    open_page(page, stack, name, slug, language)
    sign_out = "Log ud" if language == "da" else "Sign out"
    empty = page.locator("[data-total='all']").count() == 0

    # The first phone screen: the total (or "no debts") and where each part is paid, and sign-out.
    expect(page.get_by_role("button", name=sign_out)).to_be_visible()
    assert bottom_in_first_screen(page, "header button[type=submit]")
    assert bottom_in_first_screen(page, "header .additional-info strong")
    if empty:
        assert bottom_in_first_screen(page, ".alert-success")
    else:
        for part in page.locator("#debt-summary [data-total]").all():
            box = part.bounding_box()
            assert box is not None and box["y"] + box["height"] <= PHONE["height"], part.inner_text()
        # A place with nothing to pay is left out of the summary, not shown as 0,00.
        assert not re.search(r"\b0[,.]00\b", page.locator("#debt-summary").inner_text())

    # Compact rows on the phone.
    for row in page.locator("tbody tr").all():
        box = row.bounding_box()
        assert box is not None
        materials = row.locator(".cell-materials li").count()
        if materials <= 2:
            assert box["height"] <= ROW_HEIGHT, (row.get_attribute("data-fee-id"), box["height"])

    # Each section says how many debts it holds.
    for section in page.locator("section.debt-section:has(tbody)").all():
        rows = section.locator("tbody tr").count()
        count = section.locator(".section-count")
        if count.count():
            assert count.get_attribute("data-count") == str(rows)
    for heading_id in ("payable-here", "handed-over"):
        if page.locator(f"section[aria-labelledby='{heading_id}']").count():
            expect(page.locator(f"#{heading_id} .section-count")).to_be_visible()

    # The notice about payments in Mit Betalingsoverblik sits in that section, if anywhere.
    for notice in page.locator("[data-delay-notice]").all():
        assert notice.locator("xpath=ancestor::section[@aria-labelledby='handed-over']").count() == 1

    # What was borrowed, by name (the FBI simulator knows the demo records): Anne's first fee's book.
    if (name, slug) == ("Anne Andersen", "lyngby"):
        expect(page.locator("tr[data-fee-id='501'] .cell-materials")).to_contain_text("Havet om natten")

    # The mismatch note, where the data disagrees and nowhere else.
    expected = MISMATCHES.get((name, slug), {})
    noted = {
        row.get_attribute("data-fee-id"): row.locator("[data-mismatch]").get_attribute("data-mismatch")
        for row in page.locator("tr:has([data-mismatch])").all()
    }
    assert noted == expected

    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": PHONE["height"]})
        assert overflow(page) <= 0, (width, overflow(page))
        expect(page.get_by_role("button", name=sign_out)).to_be_visible()
        found = violations(page)
        assert found == [], json.dumps({"width": width, "violations": found}, indent=1)

    # The printed statement: whose, from where, when; no navigation, buttons or forms.
    print_button = page.locator("button[data-print]")
    expect(print_button).to_be_visible()
    page.emulate_media(media="print")
    try:
        expect(page.locator("nav.language-switcher")).to_be_hidden()
        expect(page.locator("header.header")).to_be_hidden()
        expect(print_button).to_be_hidden()
        for form in page.locator("main form").all():
            expect(form).to_be_hidden()
        statement = page.locator("[data-statement-header]")
        expect(statement).to_be_visible()
        expect(statement).to_contain_text(LIBRARY_NAMES[slug])
        expect(statement).to_contain_text(name)
        expect(statement.locator("time")).to_have_text(re.compile(r"\d{4}.*\d\d:\d\d"))
        for section in page.locator("section.debt-section").all():
            expect(section).to_be_visible()
        if not empty:
            expect(page.locator("[data-total='all']")).to_be_visible()
    finally:
        page.emulate_media(media="screen")


def test_the_statement_header_is_only_on_paper(page: Page, stack: Stack) -> None:
    open_page(page, stack, "Anne Andersen", "lyngby", "da")
    expect(page.locator("[data-statement-header]")).to_be_hidden()
    expect(page.locator("[data-statement-header]")).to_contain_text("Udskrevet")
    expect(page.locator("tr[data-fee-id='507'] [data-mismatch]")).to_have_text(
        "Overført til kommunen, selv om det er oprettet før 15. juni 2021."
    )


def test_sign_out_at_phone_width(page: Page, stack: Stack) -> None:
    open_page(page, stack, "Eva Eriksen", "lyngby", "da")
    page.get_by_role("button", name="Log ud").click()
    expect(page.get_by_role("link", name="Log ind")).to_be_visible()


def test_the_logout_url_opened_directly(page: Page, stack: Stack) -> None:
    """GET on the logout URL: a page with the sign-out button, not an error."""
    open_page(page, stack, "Anne Andersen", "lyngby", "da")
    page.goto(f"{stack.url}/lyngby/logout")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log ud")
    assert violations(page) == []
    page.locator("main").get_by_role("button", name="Log ud").click()
    expect(page.get_by_role("link", name="Log ind")).to_be_visible()


def test_a_login_without_cpr_does_not_loop(page: Page, stack: Stack) -> None:
    page.set_viewport_size(PHONE)
    page.goto(f"{stack.url}/lyngby/")
    page.get_by_role("link", name="Log ind").click()
    page.get_by_role("button", name=re.compile("^Log ind som Frede Fisker")).click()
    alert = page.get_by_role("alert")
    expect(alert.locator("svg.alert-icon")).to_have_count(1)
    back = page.get_by_role("link", name="Tilbage til bibliotekets side")
    expect(back).to_have_attribute("href", "/lyngby/")
    assert overflow(page) <= 0
    found = violations(page)
    assert found == [], json.dumps(found, indent=1)
    back.click()
    expect(page).to_have_url(f"{stack.url}/lyngby/")


def _label_before(page: Page, selector: str) -> str:
    """What a cell's ::before says (the phone's label of a table cell); "none" when nothing."""
    return str(page.locator(selector).evaluate("cell => getComputedStyle(cell, '::before').content"))


def test_phone_rows_label_their_dates_and_the_notes_stand_apart(page: Page, stack: Stack) -> None:
    open_page(page, stack, "Anne Andersen", "lyngby", "da")
    # A date is labelled; "Ingen forfaldsdato" says it alone, not "Forfalder Ingen forfaldsdato".
    assert _label_before(page, "tr[data-fee-id='501'] td.cell-meta >> nth=2") == '"Forfalder "'
    no_due = page.locator("tr[data-fee-id='503'] td.cell-meta >> nth=2")
    expect(no_due).to_have_text("Ingen forfaldsdato")
    assert _label_before(page, "tr[data-fee-id='503'] td.cell-meta >> nth=2") == "none"
    # The library's general notes after the last table are set apart from it, as a section is.
    table = page.locator("section.debt-section").last.bounding_box()
    notes = page.locator(".extra-info").bounding_box()
    assert table is not None and notes is not None
    assert notes["y"] - (table["y"] + table["height"]) >= 20
