"""`return_to` on sign-in and sign-out: only a page of the library's own embedding sites, never an open redirect."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from html import unescape
from pathlib import Path
from urllib.parse import urlencode, urljoin

import pytest
from flask import Flask

from portal.auth.return_to import allowed_return_to
from portal.devtools.adgangsplatformen import ApState, create_adgangsplatformen_app, portal_client
from portal.devtools.idp import DevIdp
from portal.libraries.library import Library
from tests.auth.helpers import PORTAL_URL, Browser, query
from tests.support.live import LiveServer, start_live_server

SITE = "https://www.lyngbybib.dk"
PAGE = f"{SITE}/betaling?tab=gebyrer#oversigt"
LIBRARY = Library("lyngby", "Lyngby", "DK-717300", date(2021, 6, 15), embed_origins=(SITE, "http://127.0.0.1:8080"))

ALLOWED = [
    PAGE,
    SITE,
    f"{SITE}/",
    "https://WWW.LyngbyBib.DK:443/betaling",  # the same origin, as browsers read it
    "http://127.0.0.1:8080/cms/page",  # a listed loopback site (development)
]
REFUSED = [
    "https://evil.example/betaling",
    "//evil.example/betaling",
    "//www.lyngbybib.dk/betaling",  # no scheme: not an absolute URL
    "/lyngby/",
    "https://www.lyngbybib.dk.evil.dk/betaling",
    "https://evil.dk/https://www.lyngbybib.dk/",
    "https://user@www.lyngbybib.dk/betaling",
    "https://user:pw@www.lyngbybib.dk/betaling",
    "https://www.lyngbybib.dk@evil.dk/",
    "https://evil.dk\\@www.lyngbybib.dk/",
    "https:\\\\evil.dk",
    "https://www.lyngbybib.dk\t.evil.dk/",
    "https://www.lyngbybib.dk\n/",
    " https://www.lyngbybib.dk/",
    "javascript:alert(1)",
    "JavaScript://www.lyngbybib.dk/%0aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "http://www.lyngbybib.dk/betaling",  # plain http to a listed https site
    "https://www.lyngbybib.dk:8443/betaling",  # another port is another origin
    "http://127.0.0.1:8081/cms/page",
    "https://*.lyngbybib.dk/",
    f"{SITE}/" + "x" * 2001,
    "",
]


@pytest.mark.parametrize("url", ALLOWED)
def test_pages_of_the_embedding_sites_are_allowed(url: str) -> None:
    assert allowed_return_to(LIBRARY, url) == url


@pytest.mark.parametrize("url", REFUSED)
def test_anything_else_is_ignored(url: str) -> None:
    assert allowed_return_to(LIBRARY, url) is None


@pytest.mark.parametrize("value", [None, 42, ["https://www.lyngbybib.dk/"]])
def test_non_strings_are_ignored(value: object) -> None:
    assert allowed_return_to(LIBRARY, value) is None


def test_a_library_without_embedding_sites_allows_none() -> None:
    assert allowed_return_to(Library("x", "X", "DK-1", date(2020, 1, 1)), PAGE) is None


# --- through the views -------------------------------------------------------------------

LIBRARIES = f"""\
[[library]]
slug = "lyngby"
name = "Lyngby"
agency_id = "DK-717300"
cutoff_date = 2021-06-15
embed_origins = ["{SITE}"]
sign_in = ["mitid", "adgangsplatformen"]
"""


@pytest.fixture
def dbc() -> Iterator[tuple[LiveServer, ApState]]:
    state = ApState()
    state.add_clients([portal_client(PORTAL_URL, "ap-client", "ap-secret")])
    server = start_live_server(create_adgangsplatformen_app(state))
    yield server, state
    server.stop()


@pytest.fixture
def visitor(
    tmp_path: Path, make_portal: Callable[..., Flask], idp: DevIdp, dbc: tuple[LiveServer, ApState]
) -> Iterator[Browser]:
    (tmp_path / "libraries.toml").write_text(LIBRARIES)
    portal = make_portal(
        idp.issuer,
        PORTAL_ADGANGSPLATFORMEN_URL=dbc[0].url,
        PORTAL_ADGANGSPLATFORMEN_CLIENT_ID="ap-client",
        PORTAL_ADGANGSPLATFORMEN_CLIENT_SECRET="ap-secret",
    )
    browser = Browser(portal)
    yield browser
    browser.close()


def mitid_login(visitor: Browser, return_to: str) -> str:
    start = visitor.get("/lyngby/login?" + urlencode({"return_to": return_to}))
    assert start.status_code == 302
    answer = visitor.get(visitor.choose(start.headers["Location"], {"sub": "demo-anne"}))
    assert answer.status_code == 302
    return answer.headers["Location"]


def ap_login(visitor: Browser, return_to: str) -> str:
    start = visitor.get("/lyngby/login?" + urlencode({"profile": "adgangsplatformen", "return_to": return_to}))
    assert start.status_code == 302
    url = start.headers["Location"]
    page = visitor.http.get(url).text
    fields = {k: unescape(v) for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)}
    action = unescape(re.search(r'<form method="post" action="([^"]+)"', page)[1])  # type: ignore[index]
    chosen = visitor.http.post(urljoin(url, action), data={**fields, "user": "ap-eva-9c21"})
    answer = visitor.get(chosen.headers["location"])
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return answer.headers["Location"]


@pytest.mark.parametrize("login", [mitid_login, ap_login])
def test_sign_in_lands_on_the_allowed_page(visitor: Browser, login: Callable[[Browser, str], str]) -> None:
    assert login(visitor, PAGE) == PAGE


@pytest.mark.parametrize("login", [mitid_login, ap_login])
@pytest.mark.parametrize("evil", ["https://evil.example/", "//evil.example/", "https://www.lyngbybib.dk.evil.dk/"])
def test_sign_in_ignores_another_site(visitor: Browser, login: Callable[[Browser, str], str], evil: str) -> None:
    assert login(visitor, evil) == "/lyngby/"


def test_signed_in_login_goes_straight_to_the_allowed_page(visitor: Browser) -> None:
    mitid_login(visitor, PAGE)
    again = visitor.get("/lyngby/login?" + urlencode({"return_to": PAGE}))
    assert (again.status_code, again.headers["Location"]) == (302, PAGE)
    evil = visitor.get("/lyngby/login?" + urlencode({"return_to": "https://evil.example/"}))
    assert evil.headers["Location"] == "/lyngby/"


def test_a_refused_login_tries_again_with_the_same_return_to(visitor: Browser) -> None:
    start = visitor.get("/lyngby/login?" + urlencode({"return_to": PAGE}))
    state = query(start.headers["Location"])["state"]
    failed = visitor.get(f"/auth/callback?state={state}&error=server_error").get_data(as_text=True)
    retry = re.search(r'class="button button-primary" href="([^"]+)"', failed)
    assert retry is not None and retry[1].startswith("/lyngby/login?")
    assert query(unescape(retry[1])) == {"return_to": PAGE}


@pytest.mark.parametrize(("return_to", "lands"), [(PAGE, PAGE), ("https://evil.example/", None)])
def test_mitid_sign_out_comes_back_through_the_portal(visitor: Browser, return_to: str, lands: str | None) -> None:
    mitid_login(visitor, PAGE)
    out = visitor.portal.post("/lyngby/logout", data={"return_to": return_to})
    idp_logout = out.headers["Location"]
    # The post-logout URI stays the portal's own page, as registered at the IdP.
    assert query(idp_logout)["post_logout_redirect_uri"] == f"{PORTAL_URL}/lyngby/"
    back = visitor.http.get(idp_logout)
    assert back.status_code == 302 and back.headers["location"].startswith(f"{PORTAL_URL}/lyngby/")
    home = visitor.get(back.headers["location"])
    if lands is None:
        assert home.status_code == 200  # the library's (signed-out) page
    else:
        assert (home.status_code, home.headers["Location"]) == (302, lands)


def test_a_forged_state_on_the_library_page_sends_nowhere(visitor: Browser) -> None:
    mitid_login(visitor, PAGE)
    visitor.portal.post("/lyngby/logout", data={"return_to": PAGE})
    assert visitor.get("/lyngby/?state=guessed").status_code == 200


def test_adgangsplatformen_sign_out_comes_back_through_the_portal(visitor: Browser) -> None:
    ap_login(visitor, PAGE)
    leaving = visitor.portal.post("/lyngby/logout", data={"return_to": PAGE}).get_data(as_text=True)
    logout_url = unescape(re.search(r'content="0; url=([^"]+)"', leaving)[1])  # type: ignore[index]
    assert query(logout_url)["redirect_uri"] == f"{PORTAL_URL}/auth/adgangsplatformen/logged-out"
    back = visitor.http.get(logout_url)
    assert back.status_code == 302
    home = visitor.get(back.headers["location"])
    assert (home.status_code, home.headers["Location"]) == (302, PAGE)


def test_sign_out_without_idp_round_trip_goes_straight_back(visitor: Browser) -> None:
    out = visitor.portal.post("/lyngby/logout", data={"return_to": PAGE})  # nobody signed in
    assert (out.status_code, out.headers["Location"]) == (302, PAGE)
    evil = visitor.portal.post("/lyngby/logout", data={"return_to": "javascript:alert(1)"})
    assert evil.headers["Location"] == "/lyngby/"
