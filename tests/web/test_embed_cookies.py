"""The session cookie across sites: Lax by default, SameSite=None; Secure with PORTAL_EMBED_CROSS_SITE=1."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from portal.config import ConfigError
from tests.support.settings import test_settings
from tests.support.stack import Stack, start_stack


@pytest.fixture(scope="module")
def cross_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = start_stack(tmp_path_factory.mktemp("cross-site"), PORTAL_EMBED_CROSS_SITE="1")
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def same_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = start_stack(tmp_path_factory.mktemp("same-site"))
    yield stack
    stack.stop()


def session_cookie(stack: Stack) -> str:
    # Starting a sign-in stores its state in the session: the answer sets the cookie.
    answer = httpx.get(f"{stack.url}/lyngby/login")
    [cookie] = [value for name, value in answer.headers.multi_items() if name == "set-cookie" and "session" in value]
    return cookie


def attributes(cookie: str) -> set[str]:
    return {part.strip().lower() for part in cookie.split(";")[1:]}


def test_default_is_lax(same_site: Stack) -> None:
    found = attributes(session_cookie(same_site))
    assert "samesite=lax" in found and "httponly" in found
    assert "secure" not in found  # http://127.0.0.1: Secure follows PORTAL_BASE_URL


def test_cross_site_is_none_and_always_secure(cross_site: Stack) -> None:
    found = attributes(session_cookie(cross_site))
    assert {"samesite=none", "secure", "httponly"} <= found
    assert "partitioned" not in found  # see docs/embedding.md: a top-level sign-in would not reach it


def test_signing_out_clears_the_cookie_with_the_same_attributes(cross_site: Stack) -> None:
    # httpx keeps no Secure cookie on http://, so the test carries it itself, as a browser would.
    session = session_cookie(cross_site).split(";")[0]
    out = httpx.post(f"{cross_site.url}/lyngby/logout", headers={"Origin": cross_site.url, "Cookie": session})
    cleared = [value for name, value in out.headers.multi_items() if name == "set-cookie" and "session" in value]
    assert cleared and all({"samesite=none", "secure"} <= attributes(value) for value in cleared)


@pytest.mark.parametrize("value", ["yes", "true", "2"])
def test_the_setting_is_1_or_0(value: str) -> None:
    with pytest.raises(ConfigError, match="PORTAL_EMBED_CROSS_SITE"):
        test_settings(PORTAL_EMBED_CROSS_SITE=value)


def test_the_setting_defaults_off() -> None:
    assert test_settings().embed_cross_site is False
    assert test_settings(PORTAL_EMBED_CROSS_SITE="1").embed_cross_site is True


def test_cross_site_signed_out_embed_also_offers_the_portals_own_page(cross_site: Stack, same_site: Stack) -> None:
    # Where the browser blocks third-party cookies, signing in never shows inside the iframe.
    assert 'href="/lyngby/" target="_top"' in httpx.get(f"{cross_site.url}/lyngby/embed").text
    assert 'href="/lyngby/" target="_top"' not in httpx.get(f"{same_site.url}/lyngby/embed").text
