"""The embed pages (/<slug>/embed, /embed/summary, /embed/theme.css) and /api/v1/…/total, over HTTP.

Framing policy exact per library (a slug sharing Lyngby's prefix must not share its sites),
'none' everywhere else; the CMS parameters are checked and never reflected unchecked; the
summary and the JSON total are exact, and never a figure when FBS failed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from decimal import Decimal
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
import redis

from portal import kvstore
from tests.support.cms_page import PREFIXED_ORIGIN, PREFIXED_SLUG, libraries_with_embedding
from tests.support.login import http_login
from tests.support.stack import Stack, start_stack

CMS = "https://www.lyngbybib.dk"
LOCAL_CMS = "http://localhost:8765"
PARENT = f"{CMS}/borger/gebyrer?side=2"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("embed")
    libraries = libraries_with_embedding(folder, [CMS, LOCAL_CMS])
    stack = start_stack(folder, PORTAL_LIBRARIES_FILE=str(libraries))
    stack.app.config["SESSION_COOKIE_SECURE"] = False  # httpx's jar keeps no Secure cookie on http
    yield stack
    stack.stop()


@pytest.fixture
def client(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def frame_ancestors(response: httpx.Response) -> str:
    csp = response.headers["Content-Security-Policy"]
    [directive] = [part.strip() for part in csp.split(";") if part.strip().startswith("frame-ancestors")]
    return directive


def test_embed_page_names_exactly_the_librarys_sites(client: httpx.Client, stack: Stack) -> None:
    response = client.get(f"{stack.url}/lyngby/embed")
    assert response.status_code == 200
    assert frame_ancestors(response) == f"frame-ancestors {CMS} {LOCAL_CMS}"
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "style-src 'self';" in csp and "unsafe-inline" not in csp
    assert "X-Frame-Options" not in response.headers
    # The prefixed slug has its own site only, for all three embed answers.
    for path in ("embed", "embed/summary"):
        other = client.get(f"{stack.url}/{PREFIXED_SLUG}/{path}")
        assert frame_ancestors(other) == f"frame-ancestors {PREFIXED_ORIGIN}"


def test_no_sites_listed_means_none(client: httpx.Client, stack: Stack) -> None:
    response = client.get(f"{stack.url}/rodovre/embed")
    assert response.status_code == 200
    assert frame_ancestors(response) == "frame-ancestors 'none'"


@pytest.mark.parametrize("path", ["/", "/lyngby/", "/lyngby/login", "/no-such/", "/api/v1/libraries/lyngby/total"])
def test_every_other_answer_is_never_framed(client: httpx.Client, stack: Stack, path: str) -> None:
    response = client.get(stack.url + path)
    assert frame_ancestors(response) == "frame-ancestors 'none'"


def test_signed_out_embed_has_no_portal_frame_and_signs_in_at_top_level(client: httpx.Client, stack: Stack) -> None:
    page = client.get(f"{stack.url}/lyngby/embed", params={"lang": "en", "parent": PARENT + "#top"}).text
    assert '<html lang="en"' in page and f'data-embed-parent-origin="{CMS}"' in page
    assert 'class="header"' not in page and "<footer" not in page
    [(href, target)] = re.findall(r'<a [^>]*href="([^"]*)" target="([^"]*)" data-embed-sign-in', page)
    login = urlsplit(html.unescape(href))
    assert target == "_top" and login.path == "/lyngby/login"
    assert parse_qs(login.query) == {"return_to": [PARENT]}
    assert "#top" not in page
    # The language links keep the CMS address (checked) for the next page's height messages.
    [danish] = re.findall(r'<a href="([^"]*)" lang="da"', page)
    assert parse_qs(urlsplit(html.unescape(danish)).query) == {"lang": ["da"], "parent": [PARENT]}


@pytest.mark.parametrize(
    "parent",
    [
        "https://evil.example/page",
        "https://www.lyngbybib.dk.evil.example/",
        "https://user@www.lyngbybib.dk/",
        "javascript:alert(1)//https://www.lyngbybib.dk",
        "https://www.lyngbybib.dk\\@evil.example/",
        "https://www.lyngbybib.dk/\n<script>",
        "http://www.lyngbybib.dk/",  # the listed site is https
        "//www.lyngbybib.dk/",
    ],
)
def test_a_parent_on_no_listed_site_is_ignored(client: httpx.Client, stack: Stack, parent: str) -> None:
    page = client.get(f"{stack.url}/lyngby/embed", params={"parent": parent}).text
    assert "data-embed-parent-origin" not in page
    assert "return_to" not in page and "evil" not in page and "<script>" not in page.split("</head>")[1]
    assert 'href="/lyngby/login" target="_top"' in page


def test_a_site_of_another_library_is_not_a_parent(client: httpx.Client, stack: Stack) -> None:
    page = client.get(f"{stack.url}/lyngby/embed", params={"parent": PREFIXED_ORIGIN + "/"}).text
    assert "data-embed-parent-origin" not in page


def test_theme_parameters_become_a_stylesheet_only_when_valid(client: httpx.Client, stack: Stack) -> None:
    good = {"color-primary": "#A0B1C2", "color-text": "#123", "font-family": "Open Sans, Arial, sans-serif"}
    page = client.get(f"{stack.url}/lyngby/embed", params=good).text
    [theme_link] = [line for line in page.splitlines() if "/embed/theme.css" in line]
    css = client.get(stack.url + theme_link.split('href="')[1].split('"')[0].replace("&amp;", "&"))
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "--gp-color-primary: #a0b1c2;" in css.text
    assert "--gp-color-text: #123;" in css.text
    assert "--gp-font-family: Open Sans, Arial, sans-serif;" in css.text
    assert "style=" not in page


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("color-primary", "red"),
        ("color-primary", "#12345"),
        ("color-primary", "#123;}body{display:none"),
        ("color-background", "url(https://evil.example/x)"),
        ("font-family", "Arial;}*{background:url(//evil.example)}"),
        ("font-family", "'Comic Sans'"),
        ("font-family", "A" * 81),
        ("font-family", "/* x */ Arial"),
        ("font-family", "Arial</style><script>"),
    ],
)
def test_bad_theme_values_are_dropped(client: httpx.Client, stack: Stack, name: str, value: str) -> None:
    page = client.get(f"{stack.url}/lyngby/embed", params={name: value}).text
    assert "/embed/theme.css" not in page and "evil" not in page
    css = client.get(f"{stack.url}/lyngby/embed/theme.css", params={name: value}).text
    assert css == ":root {\n\n}\n"


def test_signed_in_embed_shows_the_overview_with_a_top_level_sign_out(client: httpx.Client, stack: Stack) -> None:
    http_login(client, stack.url, "demo-anne")
    page = client.get(f"{stack.url}/lyngby/embed", params={"parent": PARENT}).text
    assert 'data-total="all">469,75' in page
    assert 'class="header"' not in page and "<footer" not in page
    assert 'target="_top"' in page.split('action="/lyngby/logout')[1].split(">")[0]
    assert f'name="return_to" value="{PARENT.replace("&", "&amp;")}"' in page


def test_summary_is_exact(client: httpx.Client, stack: Stack) -> None:
    http_login(client, stack.url, "demo-anne")
    page = client.get(f"{stack.url}/lyngby/embed/summary", params={"parent": PARENT}).text
    assert 'data-summary-state="complete"' in page
    assert 'data-total="all">469,75' in page
    assert 'data-total="payable-here">314,75' in page and 'data-total="handed-over">155,00' in page
    # The portal's own page, at the top level, with the way back to this CMS page.
    [link] = re.findall(r'href="(/lyngby/[^"]*)" target="_top"', page)
    target = urlsplit(html.unescape(link))
    assert target.path == "/lyngby/" and parse_qs(target.query) == {"return_to": [PARENT]}


@pytest.mark.parametrize("signed_in", [False, True])
def test_the_portal_page_opened_from_the_cms_links_back_to_it(
    client: httpx.Client, stack: Stack, signed_in: bool
) -> None:
    if signed_in:
        http_login(client, stack.url, "demo-anne")
    back = f'<a href="{PARENT.replace("&", "&amp;")}">Tilbage til bibliotekets hjemmeside</a>'
    from_cms = client.get(f"{stack.url}/lyngby/", params={"return_to": PARENT})
    assert from_cms.status_code == 200 and back in from_cms.text
    assert ("469,75" in from_cms.text) is signed_in
    # The same page without it, and with a page of no listed site: no link (the page cache keys it).
    for params in ({}, {"return_to": "https://evil.example/borger/gebyrer"}, {"return_to": PREFIXED_ORIGIN + "/"}):
        page = client.get(f"{stack.url}/lyngby/", params=params).text
        assert "Tilbage til bibliotekets hjemmeside" not in page


@pytest.mark.parametrize("signed_in", [False, True])
def test_the_language_switch_keeps_the_way_back_to_the_cms(client: httpx.Client, stack: Stack, signed_in: bool) -> None:
    if signed_in:
        http_login(client, stack.url, "demo-anne")
    from_cms = client.get(f"{stack.url}/lyngby/", params={"return_to": PARENT}).text
    [english] = re.findall(r'<a href="([^"]*)" lang="en"', from_cms)
    target = urlsplit(html.unescape(english))
    assert target.path == "/lyngby/" and parse_qs(target.query) == {"lang": ["en"], "return_to": [PARENT]}
    page = client.get(urljoin(stack.url, html.unescape(english))).text
    back = PARENT.replace("&", "&amp;")
    assert f'<a href="{back}">Back to the library\'s website</a>' in page
    # Without a checked way back, the switch carries none (a foreign one never reaches the link).
    for params in ({}, {"return_to": "https://evil.example/borger/gebyrer"}):
        plain = client.get(f"{stack.url}/lyngby/", params=params).text
        [english] = re.findall(r'<a href="([^"]*)" lang="en"', plain)
        assert parse_qs(urlsplit(html.unescape(english)).query) == {"lang": ["en"]}


def test_summary_signed_out_links_to_sign_in(client: httpx.Client, stack: Stack) -> None:
    page = client.get(f"{stack.url}/lyngby/embed/summary", params={"parent": PARENT}).text
    assert 'data-summary-state="signed_out"' in page and "kr." not in page
    assert "/lyngby/login?return_to=" in page


def test_total_json_is_exact(client: httpx.Client, stack: Stack) -> None:
    http_login(client, stack.url, "demo-anne")
    response = client.get(f"{stack.url}/api/v1/libraries/lyngby/total")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "library": "lyngby",
        "complete": True,
        "total": "469.75",
        "payable_here": "314.75",
        "handed_over": "155.00",
        "providers": {"fbs": "ok", "debtor": "ok"},
        "stale": False,
        "as_of": None,
    }
    assert Decimal(body["payable_here"]) + Decimal(body["handed_over"]) == Decimal(body["total"])


def test_total_signed_out_is_401(client: httpx.Client, stack: Stack) -> None:
    response = client.get(f"{stack.url}/api/v1/libraries/lyngby/total")
    assert response.status_code == 401 and "total" not in response.json()


def _forget_eva(stack: Stack) -> None:
    with stack.app.app_context():
        # The page shown at sign-in is no fallback either (portal.services.stale).
        kvstore.store.delete_many("fbs:DK-717300:1005:fees", "fbs:DK-717300:1005:patron", "snapshot:DK-717300:1005")


def test_fbs_down_gives_no_total_anywhere(client: httpx.Client, stack: Stack) -> None:
    http_login(client, stack.url, "demo-eva")
    _forget_eva(stack)
    stack.fbs_state.fail_next(50, endpoint="fees")
    try:
        api = client.get(f"{stack.url}/api/v1/libraries/lyngby/total")
        summary = client.get(f"{stack.url}/lyngby/embed/summary")
        page = client.get(f"{stack.url}/lyngby/embed", params={"lang": "en"})
    finally:
        stack.fbs_state.reset_faults()
    assert api.status_code == 503 and "total" not in api.json() and api.json()["providers"] == {"fbs": "error"}
    assert summary.status_code == 503 and "kr." not in summary.text and "0,00" not in summary.text
    assert page.status_code == 503 and "kr." not in page.text
    assert 'href="/lyngby/embed?lang=en">Try again' in page.text  # "try again" stays in the CMS's frame and language


def test_debtor_down_says_the_total_is_incomplete(client: httpx.Client, stack: Stack) -> None:
    http_login(client, stack.url, "demo-anne")
    with stack.app.app_context():
        kvstore.store.delete_many("debtor:DK-717300:1001:claims")
    stack.debtor_state.fail_next(50)
    try:
        api = client.get(f"{stack.url}/api/v1/libraries/lyngby/total").json()
        summary = client.get(f"{stack.url}/lyngby/embed/summary").text
    finally:
        stack.debtor_state.reset_faults()
    assert api["complete"] is False and api["total"] is None
    assert api["library_system_total"] == "803.75" and api["providers"]["debtor"] == "error"
    assert 'data-summary-state="incomplete"' in summary and "data-incomplete" in summary
    assert "I alt skylder du" not in summary


def test_embed_post_from_another_site_is_refused(client: httpx.Client, stack: Stack) -> None:
    http_login(client, stack.url, "demo-anne")
    page = client.get(f"{stack.url}/lyngby/embed").text
    assert "/lyngby/" in page
    # The sign-out form of the embed page, posted by another site (its Origin), does nothing.
    refused = client.post(f"{stack.url}/lyngby/logout", headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    refused = client.post(f"{stack.url}/lyngby/logout", headers={"Referer": "https://evil.example/x"})
    assert refused.status_code == 403
    refused = client.post(f"{stack.url}/lyngby/logout", headers={"Origin": "null"})
    assert refused.status_code == 403
    assert client.get(f"{stack.url}/api/v1/libraries/lyngby/total").status_code == 200  # still signed in
    # A payment form posted from another site is refused before the token is even looked at.
    pay = client.post(f"{stack.url}/lyngby/betaling/", data={"fee": "501"}, headers={"Origin": "https://evil.example"})
    assert pay.status_code == 403
    # From the portal's own pages (the iframe's document is the portal's), it works.
    done = client.post(f"{stack.url}/lyngby/logout", headers={"Origin": stack.url})
    assert done.status_code in (302, 303)


@pytest.mark.parametrize("path", ["embed", "embed/summary"])
def test_an_error_inside_the_frame_is_answered_in_the_frame(
    client: httpx.Client, stack: Stack, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    # Under the portal's own policy (frame-ancestors 'none') the CMS page would show an empty frame.
    http_login(client, stack.url, "demo-anne")
    cache = kvstore.backend(stack.app)

    def unreachable(*keys: str) -> object:
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(cache, "get", unreachable)
    monkeypatch.setattr(cache, "get_many", unreachable)
    response = client.get(f"{stack.url}/lyngby/{path}", params={"parent": PARENT})
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert frame_ancestors(response) == f"frame-ancestors {CMS} {LOCAL_CMS}"
    assert 'class="gp-embedded"' in response.text and "Vi kan ikke tjekke dit login lige nu" in response.text
    assert f'data-embed-parent-origin="{CMS}"' in response.text  # the frame still reports its height
    monkeypatch.undo()
    assert client.get(f"{stack.url}/lyngby/{path}", params={"parent": PARENT}).status_code == 200
