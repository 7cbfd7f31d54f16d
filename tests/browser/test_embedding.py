"""The citizen page inside a library's website, in a real Chromium.

The listed CMS page is served from `127.0.0.1:<port B>`, the portal from `127.0.0.1:<port A>`:
another origin on the same site, the recommended deployment (docs/embedding.md: e.g. the portal at
gebyr.lyngbybib.dk inside www.lyngbybib.dk), where the SameSite=Lax session cookie is sent inside
the iframe. A second CMS, on `localhost` (another site) is not listed and must be refused by the
browser. The CMS pages have a strict CSP of their own and include only the documented snippet
(tests/support/cms_page.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from playwright.sync_api import FrameLocator, Page, expect

from portal.devtools.cms_demo import cms_app
from portal.devtools.demo import libraries_with_card_payment
from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import violations
from tests.support.cms_page import cms_origin, libraries_with_embedding, start_cms
from tests.support.live import LiveServer
from tests.support.stack import Stack, start_stack

pytestmark = pytest.mark.browser

HOSTED_PAGE = re.compile(r"/hpp/[0-9a-f]+$")
SETTLED = 60_000


class Cms:
    def __init__(self, listed: LiveServer, unlisted: LiveServer) -> None:
        self.listed, self.unlisted = listed, unlisted

    @property
    def url(self) -> str:
        return cms_origin(self.listed) + "/"

    @property
    def unlisted_url(self) -> str:
        return cms_origin(self.unlisted, "localhost") + "/"

    def page_url(self, **params: str) -> str:
        return self.url + ("?" + urlencode(params) if params else "")


@pytest.fixture(scope="module")
def cms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Cms]]:
    folder = tmp_path_factory.mktemp("embedding")
    listed, unlisted = start_cms(), start_cms()
    card = libraries_with_card_payment(folder / "card", "https://www.lyngbybib.dk/betalingsbetingelser")
    libraries = libraries_with_embedding(folder, [cms_origin(listed)], source=card)
    stack = start_stack(folder, card_payment=True, PORTAL_LIBRARIES_FILE=str(libraries), PORTAL_EMBED_CROSS_SITE="1")
    listed.set_app(cms_app(stack.url))
    unlisted.set_app(cms_app(stack.url))
    yield stack, Cms(listed, unlisted)
    stack.stop()
    listed.stop()
    unlisted.stop()


def portal_frame(page: Page) -> FrameLocator:
    return page.frame_locator("#gebyrportal iframe")


def reported_height(page: Page) -> int:
    """The height embed.js last applied from a message of the embedded page."""
    value = page.locator("#gebyrportal").get_attribute("data-gebyrportal-height")
    assert value is not None
    return int(value)


def wait_for_fitting_iframe(page: Page) -> None:
    """Until the iframe is exactly as tall as its content (within a pixel)."""
    page.wait_for_function(
        """() => {
          const frame = document.querySelector('#gebyrportal iframe');
          const doc = frame && frame.contentDocument;
          const holder = document.querySelector('#gebyrportal');
          const said = holder.getAttribute('data-gebyrportal-height');
          return said !== null && Math.abs(frame.getBoundingClientRect().height - Number(said)) < 1;
        }"""
    )


def forget_reported_height(page: Page) -> None:
    page.locator("#gebyrportal").evaluate("el => el.removeAttribute('data-gebyrportal-height')")


def test_signed_out_then_signed_in_the_iframe_follows_its_content(page: Page, cms: tuple[Stack, Cms]) -> None:
    stack, site = cms
    page.goto(site.page_url())
    frame = portal_frame(page)
    expect(frame.get_by_role("heading", level=1)).to_have_text("Dine mellemværender med biblioteket")
    expect(frame.get_by_role("link", name="Log ind")).to_have_attribute("target", "_top")
    wait_for_fitting_iframe(page)
    signed_out = reported_height(page)
    # The content's own height, measured inside the frame, is what the iframe got.
    inner = frame.locator("body").evaluate("body => Math.ceil(body.getBoundingClientRect().height)")
    assert inner == signed_out

    # Signed in (at the top level, on the portal) the overview is in the iframe, and it is taller.
    sign_in(page, stack, "Anne Andersen")
    page.goto(site.page_url())
    expect(frame.locator("[data-total='all']")).to_have_text("469,75\u00a0kr.")
    expect(frame.get_by_role("button", name="Log ud")).to_be_visible()
    wait_for_fitting_iframe(page)
    assert reported_height(page) > signed_out + 200

    # A language switch inside the iframe: the new page reports its height again.
    forget_reported_height(page)
    frame.get_by_role("link", name="English").click()
    expect(frame.get_by_role("heading", level=1)).to_have_text("Your debts to the library")
    wait_for_fitting_iframe(page)
    assert reported_height(page) > signed_out + 200


def test_the_cms_language_and_theme_reach_the_iframe(page: Page, cms: tuple[Stack, Cms]) -> None:
    _stack, site = cms
    page.goto(site.page_url(page_lang="en-GB", **{"color-primary": "#8a1538", "font-family": "Georgia, serif"}))
    frame = portal_frame(page)
    button = frame.get_by_role("link", name="Sign in")
    expect(button).to_be_visible()
    expect(button).to_have_css("background-color", "rgb(138, 21, 56)")
    expect(frame.locator("body")).to_have_css("font-family", "Georgia, serif")
    # data-lang wins over the page's <html lang>.
    page.goto(site.page_url(page_lang="en", lang="da"))
    expect(portal_frame(page).get_by_role("link", name="Log ind")).to_be_visible()
    # Without data-lang, a CMS switching its language in place (<html lang>) is followed.
    page.goto(site.page_url(page_lang="da"))
    expect(portal_frame(page).get_by_role("link", name="Log ind")).to_be_visible()
    page.evaluate("document.documentElement.lang = 'en'")
    expect(portal_frame(page).get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.locator("#gebyrportal iframe")).to_have_attribute("title", "Your debts to the library")


def test_the_cms_script_takes_heights_only_from_its_own_iframe(page: Page, cms: tuple[Stack, Cms]) -> None:
    _stack, site = cms
    page.goto(site.page_url())
    wait_for_fitting_iframe(page)
    honest = reported_height(page)
    # A message from the CMS page itself (another source and origin than the portal's iframe),
    # shaped like the real one: embed.js's listener (registered first) has run when ours runs.
    page.evaluate(
        """() => new Promise(resolve => {
          window.addEventListener('message', () => resolve(), { once: true });
          window.postMessage({ type: 'gebyrportal:height', height: 5000 }, '*');
        })"""
    )
    assert reported_height(page) == honest
    assert page.locator("#gebyrportal iframe").evaluate("f => f.getBoundingClientRect().height") < 5000


def test_a_site_not_listed_is_refused_by_the_browser(page: Page, cms: tuple[Stack, Cms]) -> None:
    _stack, site = cms
    with page.expect_console_message(lambda message: "frame-ancestors" in message.text) as refused:
        page.goto(site.unlisted_url)
    assert "frame-ancestors" in refused.value.text
    frame = page.locator("#gebyrportal iframe").content_frame
    expect(frame.locator("[data-embed-sign-in]")).to_have_count(0)
    assert page.locator("#gebyrportal").get_attribute("data-gebyrportal-height") is None


def test_a_library_without_sites_is_refused_even_by_a_listed_one(page: Page, cms: tuple[Stack, Cms]) -> None:
    _stack, site = cms
    with page.expect_console_message(lambda message: "frame-ancestors" in message.text):
        page.goto(site.page_url(slug="rodovre"))


def test_the_du_skylder_fragment(page: Page, cms: tuple[Stack, Cms]) -> None:
    stack, site = cms
    page.goto(site.page_url(view="summary"))
    frame = portal_frame(page)
    expect(frame.locator("[data-embed-sign-in]")).to_have_attribute("target", "_top")
    expect(frame.locator("[data-total]")).to_have_count(0)
    sign_in(page, stack, "Anne Andersen")
    page.goto(site.page_url(view="summary"))
    expect(frame.locator("[data-total='all']")).to_have_text("469,75\u00a0kr.")
    expect(frame.locator("[data-total='payable-here']")).to_have_text("314,75\u00a0kr.")
    expect(frame.locator("[data-total='handed-over']")).to_have_text("155,00\u00a0kr.")
    wait_for_fitting_iframe(page)


@pytest.mark.parametrize("lang", ["da", "en"])
def test_axe_on_the_embed_pages(page: Page, cms: tuple[Stack, Cms], lang: str) -> None:
    stack, site = cms
    query = urlencode({"lang": lang, "parent": site.url})
    for path in ("embed", "embed/summary"):
        page.goto(f"{stack.url}/lyngby/{path}?{query}")
        found = violations(page)
        assert found == [], json.dumps(found, indent=1)
    page.goto(f"{stack.url}/lyngby/?lang=da")  # sign_in speaks Danish
    sign_in(page, stack, "Anne Andersen")
    for path in ("embed", "embed/summary"):
        page.goto(f"{stack.url}/lyngby/{path}?{query}")
        expect(page.locator("[data-total='all']")).to_be_visible()
        found = violations(page)
        assert found == [], json.dumps(found, indent=1)


def test_sign_in_round_trip_returns_to_the_cms_page(page: Page, cms: tuple[Stack, Cms]) -> None:
    """Sign-in and sign-out from the iframe happen at the top level and land on the CMS page again.

    Needs auth's `return_to` on /<slug>/login and /<slug>/logout (another part of issue 10).
    """
    _stack, site = cms
    cms_page = site.page_url(lang="da")
    page.goto(cms_page)
    portal_frame(page).get_by_role("link", name="Log ind").click()
    page.get_by_role("button", name=re.compile("^Log ind som Anne Andersen")).click()
    expect(page).to_have_url(cms_page)
    expect(portal_frame(page).locator("[data-total='all']")).to_have_text("469,75\u00a0kr.")
    # Sign-out from the iframe leaves at the top level and comes back here too.
    portal_frame(page).get_by_role("button", name="Log ud").click()
    expect(page).to_have_url(cms_page)
    expect(portal_frame(page).get_by_role("link", name="Log ind")).to_be_visible()


def test_card_payment_opens_at_top_level_and_returns_to_the_cms_page(page: Page, cms: tuple[Stack, Cms]) -> None:
    stack, site = cms
    sign_in(page, stack, "Anne Andersen")
    page.goto(site.page_url())
    frame = portal_frame(page)
    for fee in ("502", "503", "504"):
        frame.locator(f"input[name='fee'][value='{fee}']").uncheck()
    frame.get_by_role("button", name="Betal med kort").click()
    # Nexi's hosted page is the top-level page, not inside the iframe.
    expect(page).to_have_url(HOSTED_PAGE)
    page.get_by_role("button", name="Betal med kort").click()
    expect(page).to_have_url(re.compile(r"/lyngby/betaling/GP-[^/]+/"))
    expect(page.locator("[data-order-state]")).to_have_attribute("data-order-state", "completed", timeout=SETTLED)
    back = page.locator("[data-way-back]")
    expect(back).to_have_attribute("href", site.url)
    back.click()
    expect(page).to_have_url(site.url)
    # Back on the CMS page: the paid fee is gone from the form, and the iframe fits its content again.
    frame = portal_frame(page)
    expect(frame.locator("[data-recent-orders]")).to_contain_text("30,00")
    expect(frame.locator("input[name='fee'][value='501']")).to_have_count(0)
    wait_for_fitting_iframe(page)
