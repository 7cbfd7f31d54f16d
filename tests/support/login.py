"""Sign in over real HTTP, as a browser without JavaScript would: portal → dev IdP → portal."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import httpx

from tests.support.waiting import wait_for_background


def http_login(client: httpx.Client, portal_url: str, sub: str, slug: str = "lyngby") -> httpx.Response:
    """Log `client` in as demo citizen `sub`; returns the portal's page after the login.

    Returns once the sign-in's prefetch has ended too (where the portal runs in this process), so
    what the test does next to FBS or the cache cannot race it.
    """
    start = client.get(f"{portal_url}/{slug}/login")
    assert start.status_code == 302, start.text
    authorize_url = start.headers["location"]
    page = client.get(authorize_url)
    assert page.status_code == 200, page.text
    action = re.search(r'<form[^>]*\baction="([^"]*)"', page.text)
    target = urljoin(authorize_url, action[1].replace("&amp;", "&")) if action else authorize_url
    chosen = client.post(target, data={"sub": sub})
    assert chosen.status_code == 302, chosen.text
    page = client.get(chosen.headers["location"], follow_redirects=True)
    wait_for_background()
    return page
