"""Cross-site embedding where the browser blocks third-party cookies: the Storage Access API.

The CMS page is on `localhost:<port>`, another site than the portal's `127.0.0.1`, and Lyngby lists
it; the portal runs with PORTAL_EMBED_CROSS_SITE=1 (a `SameSite=None; Secure` session cookie). The
test Chromium blocks third-party cookies, so after signing in at the top level the iframe gets no
session and shows "signed out" until the borrower lets the portal in: a click, then
`document.requestStorageAccess()` (static/js/embedded.js). The browser's own answer is the test's to
give: granted with Playwright's `grant_permissions` (the borrower says yes), or not (Chromium refuses).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from playwright.sync_api import FrameLocator, Page, expect

from portal.devtools.cms_demo import cms_app
from tests.browser.test_accessibility import violations
from tests.support.cms_page import cms_origin, libraries_with_embedding, start_cms
from tests.support.stack import Stack, start_stack

pytestmark = pytest.mark.browser

SHOW_HERE = "Vis mine mellemværender her"


@pytest.fixture(scope="module")
def cross_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str]]:
    folder = tmp_path_factory.mktemp("cross-site-embedding")
    cms = start_cms()
    libraries = libraries_with_embedding(folder, [cms_origin(cms, "localhost")])
    stack = start_stack(folder, PORTAL_LIBRARIES_FILE=str(libraries), PORTAL_EMBED_CROSS_SITE="1")
    cms.set_app(cms_app(stack.url))
    yield stack, cms_origin(cms, "localhost") + "/"
    stack.stop()
    cms.stop()


def frame(page: Page) -> FrameLocator:
    return page.frame_locator("#gebyrportal iframe")


def sign_in_from_the_cms(page: Page, cms_url: str) -> None:
    """The borrower's way: 'Log ind' in the iframe, the IdP at the top level, back on the CMS page."""
    page.goto(cms_url)
    frame(page).get_by_role("link", name="Log ind").click()
    page.get_by_role("button", name=re.compile("^Log ind som Anne Andersen")).click()
    expect(page).to_have_url(re.compile("^" + re.escape(cms_url)))


def test_signed_in_at_the_top_the_iframe_asks_and_then_shows_the_debts(
    page: Page, cross_site: tuple[Stack, str]
) -> None:
    _stack, cms_url = cross_site
    sign_in_from_the_cms(page, cms_url)
    # The cookie is blocked here: without the offer the borrower would be asked to sign in again.
    expect(frame(page).get_by_role("button", name=SHOW_HERE)).to_be_visible()
    expect(frame(page).get_by_role("button", name="Log ud")).to_have_count(0)
    page.context.grant_permissions(["storage-access"])  # the borrower answers yes to the browser
    frame(page).get_by_role("button", name=SHOW_HERE).click()
    expect(frame(page).locator("[data-total='all']")).to_have_text("469,75\u00a0kr.")
    expect(frame(page).get_by_role("button", name="Log ud")).to_be_visible()


def test_when_the_browser_says_no_the_iframe_says_so_and_links_the_portal_page(
    page: Page, cross_site: tuple[Stack, str]
) -> None:
    _stack, cms_url = cross_site
    sign_in_from_the_cms(page, cms_url)
    frame(page).get_by_role("button", name=SHOW_HERE).click()
    expect(frame(page).get_by_role("status")).to_have_text(re.compile("^Din browser tillod det ikke"))
    expect(frame(page).get_by_role("button", name="Log ud")).to_have_count(0)
    # The portal's own page at the top level shows the debts (and a click there is the top-level
    # use Chrome and Safari ask for), with the way back to the library's page.
    frame(page).get_by_role("link", name="Se dine mellemværender på portalens egen side").click()
    expect(page.locator("[data-total='all']")).to_have_text("469,75\u00a0kr.")
    page.get_by_role("link", name="Tilbage til bibliotekets hjemmeside").click()
    expect(page).to_have_url(re.compile("^" + re.escape(cms_url)))
    expect(frame(page).get_by_role("button", name=SHOW_HERE)).to_be_visible()


def test_a_permission_given_before_is_used_without_a_click(page: Page, cross_site: tuple[Stack, str]) -> None:
    _stack, cms_url = cross_site
    page.context.grant_permissions(["storage-access"])  # said yes on an earlier visit
    sign_in_from_the_cms(page, cms_url)
    expect(frame(page).locator("[data-total='all']")).to_have_text("469,75\u00a0kr.")
    expect(frame(page).get_by_role("button", name=SHOW_HERE)).to_have_count(0)


def test_signed_out_indeed_with_the_permission_no_offer_and_no_loop(page: Page, cross_site: tuple[Stack, str]) -> None:
    _stack, cms_url = cross_site
    page.context.grant_permissions(["storage-access"])
    loads: list[str] = []
    page.on("framenavigated", lambda navigated: loads.append(navigated.url) if "/embed" in navigated.url else None)
    page.goto(cms_url)
    expect(frame(page).get_by_role("link", name="Log ind")).to_be_visible()
    # Access granted and the page loaded once more with it: still signed out, so nothing to offer.
    page.wait_for_function("() => document.querySelector('#gebyrportal iframe') !== null")
    expect(frame(page).locator("[data-storage-access]")).to_be_hidden()
    page.wait_for_timeout(500)  # time for a further load, were there one
    assert 1 <= len(loads) <= 2


def test_the_summary_takes_an_access_allowed_before_and_offers_none_of_its_own(
    page: Page, cross_site: tuple[Stack, str]
) -> None:
    _stack, cms_url = cross_site
    sign_in_from_the_cms(page, cms_url)
    page.goto(f"{cms_url}?view=summary")
    expect(frame(page).locator("[data-embed-sign-in]")).to_be_visible()  # no cookie in the iframe
    expect(frame(page).get_by_role("button")).to_have_count(0)
    page.context.grant_permissions(["storage-access"])  # allowed on the embedded page earlier
    page.goto(f"{cms_url}?view=summary")
    expect(frame(page).locator("[data-total='all']")).to_have_text("469,75\u00a0kr.")


@pytest.mark.parametrize("lang", ["da", "en"])
def test_axe_on_the_offer(page: Page, cross_site: tuple[Stack, str], lang: str) -> None:
    """At the top level the page has its cookies, so the offer stays hidden: shown here by hand,
    with the browser's refusal in its status line, for axe to see every part of it."""
    stack, cms_url = cross_site
    page.goto(f"{stack.url}/lyngby/embed?{urlencode({'lang': lang, 'parent': cms_url})}")
    offer = page.locator("[data-storage-access]")
    expect(offer).to_be_hidden()
    offer.evaluate(
        """box => { box.hidden = false; const s = box.querySelector('[role=status]');
                    s.textContent = s.getAttribute('data-storage-access-refused'); }"""
    )
    expect(page.get_by_role("status")).not_to_be_empty()
    found = violations(page)
    assert found == [], json.dumps(found, indent=1)


def test_axe_on_the_portal_page_with_the_way_back(page: Page, cross_site: tuple[Stack, str]) -> None:
    stack, cms_url = cross_site
    page.goto(f"{stack.url}/lyngby/?{urlencode({'return_to': cms_url})}")
    expect(page.get_by_role("link", name="Tilbage til bibliotekets hjemmeside")).to_have_attribute("href", cms_url)
    found = violations(page)
    assert found == [], json.dumps(found, indent=1)
