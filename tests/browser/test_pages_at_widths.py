"""The citizen's other pages at phone and desktop widths: nothing too wide, axe 0, in both languages.

`test_layout.py` covers the signed-in overview and `test_contacts_kodelinje.py` the contacts and
code line; here every other page a citizen can reach: the list of libraries, each library's
signed-out page, the 404 page, the sign-out page (GET on the logout URL), the failed login of a
citizen without CPR (Frede Fisker on the dev IdP) and a card payment's receipt. At 320, 375 and
1280 px, in Danish and English: no horizontal scrolling and axe's 0 violations.

The receipt comes from one card payment per module (a stack of its own, as in
`test_payment_journey.py`); each test then signs in as Anne again and opens the order page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import violations
from tests.browser.test_payment_journey import SETTLED, order_id_of, order_state, start_payment, the_payment
from tests.support.stack import Stack, start_stack

pytestmark = pytest.mark.browser

WIDTHS = (320, 375, 1280)
LANGUAGES = ("da", "en")
HEIGHT = 800


@pytest.fixture(scope="module")
def receipt_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = start_stack(tmp_path_factory.mktemp("receipt-stack"), card_payment=True)
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def receipt_order(browser: Browser, receipt_stack: Stack) -> str:
    """Anne pays her Lyngby fees by card once; the order id of the completed payment."""
    context = browser.new_context()
    try:
        page = context.new_page()
        sign_in(page, receipt_stack, "Anne Andersen")
        start_payment(page, receipt_stack)
        page.get_by_role("button", name="Betal med kort").click()
        expect(order_state(page)).to_have_attribute("data-order-state", "completed", timeout=SETTLED)
        return order_id_of(the_payment(receipt_stack))
    finally:
        context.close()


def overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0: no horizontal scrolling)."""
    return int(page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth"))


def front_page(page: Page, request: pytest.FixtureRequest, language: str) -> None:
    stack: Stack = request.getfixturevalue("stack")
    page.goto(f"{stack.url}/?lang={language}")
    expect(page.locator("main a[href='/lyngby/']")).to_be_visible()
    expect(page.locator("main a[href='/rodovre/']")).to_be_visible()


def library_page(slug: str) -> Callable[[Page, pytest.FixtureRequest, str], None]:
    def visit(page: Page, request: pytest.FixtureRequest, language: str) -> None:
        stack: Stack = request.getfixturevalue("stack")
        page.goto(f"{stack.url}/{slug}/?lang={language}")
        expect(page.locator(f"main a[href='/{slug}/login']")).to_be_visible()

    return visit


def not_found_page(page: Page, request: pytest.FixtureRequest, language: str) -> None:
    stack: Stack = request.getfixturevalue("stack")
    response = page.goto(f"{stack.url}/nosuchlibrary/?lang={language}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def logout_page(page: Page, request: pytest.FixtureRequest, language: str) -> None:
    stack: Stack = request.getfixturevalue("stack")
    sign_in(page, stack, "Anne Andersen")
    page.goto(f"{stack.url}/lyngby/logout?lang={language}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log ud" if language == "da" else "Sign out")
    expect(page.locator("main form[action='/lyngby/logout'] button")).to_be_visible()


def login_failed_page(page: Page, request: pytest.FixtureRequest, language: str) -> None:
    stack: Stack = request.getfixturevalue("stack")
    page.goto(f"{stack.url}/lyngby/?lang={language}")  # the language cookie carries through the login
    page.locator("main a[href='/lyngby/login']").click()
    page.get_by_role("button", name=re.compile("^Log ind som Frede Fisker")).click()
    expect(page.get_by_role("alert")).to_have_count(1)
    back = "Tilbage til bibliotekets side" if language == "da" else "Back to the library's page"
    expect(page.get_by_role("link", name=back)).to_have_attribute("href", "/lyngby/")


def receipt_page(page: Page, request: pytest.FixtureRequest, language: str) -> None:
    stack: Stack = request.getfixturevalue("receipt_stack")
    order_id: str = request.getfixturevalue("receipt_order")
    sign_in(page, stack, "Anne Andersen")
    page.goto(f"{stack.url}/lyngby/betaling/{order_id}/?lang={language}")
    expect(order_state(page)).to_have_attribute("data-order-state", "completed")
    expect(page.get_by_role("heading", name="Kvittering" if language == "da" else "Receipt")).to_be_visible()
    expect(page.locator("[data-order-id]")).to_have_text(order_id)
    # The fee table fits its box too: no sideways scrolling inside the page either.
    assert page.locator(".receipt .table--responsive-scroll").evaluate("box => box.scrollWidth <= box.clientWidth")


PAGES: dict[str, Callable[[Page, pytest.FixtureRequest, str], None]] = {
    "front": front_page,
    "lyngby-signed-out": library_page("lyngby"),
    "rodovre-signed-out": library_page("rodovre"),
    "not-found": not_found_page,
    "logout": logout_page,
    "login-failed": login_failed_page,
    "receipt": receipt_page,
}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", list(PAGES))
def test_page_fits_and_passes_axe(
    page: Page, request: pytest.FixtureRequest, name: str, language: str, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": HEIGHT})
    PAGES[name](page, request, language)
    assert page.locator("html").get_attribute("lang") == language
    assert overflow(page) <= 0, f"{name} {language} {width}px is {overflow(page)}px too wide"
    found = violations(page)
    assert found == [], json.dumps({"page": name, "language": language, "width": width, "violations": found}, indent=1)
