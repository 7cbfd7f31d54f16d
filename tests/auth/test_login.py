"""A whole login and logout against the dev IdP, over real HTTP, through the portal's production path."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from portal import signals
from portal.devtools.idp import DevIdp
from tests.auth.helpers import CLIENT_ID, COOKIE, PORTAL_URL, Browser, query

SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")


def test_login_keeps_the_citizen_server_side(visitor: Browser, idp: DevIdp) -> None:
    response = visitor.login("demo-anne")

    assert response.status_code == 302
    assert response.headers["Location"] == "/lyngby/"
    citizen = visitor.stored_data()["citizen"]
    assert citizen["sub"] == "demo-anne"
    assert citizen["name"] == "Anne Andersen"
    assert citizen["cpr"] == "0101901111"
    assert citizen["issuer"] == idp.issuer
    assert citizen["id_token"] is None  # it carries the CPR: never kept for a logout URL


def test_cookie_holds_only_a_random_id(visitor: Browser) -> None:
    response = visitor.login("demo-anne")

    cookie_value = visitor.session_id()
    assert cookie_value is not None and SESSION_ID.fullmatch(cookie_value)
    # Not a signed Flask session (payload.timestamp.signature), no CPR, no token.
    assert "." not in cookie_value
    assert "0101901111" not in cookie_value
    header = response.headers["Set-Cookie"]
    assert "0101901111" not in header and "eyJ" not in header
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" in header
    assert "Expires" not in header


def test_session_id_is_renewed_at_login(visitor: Browser) -> None:
    authorize_url = visitor.start_login()
    before = visitor.session_id()
    assert before is not None and visitor.stored(before) is not None  # the login under way

    visitor.get(visitor.choose(authorize_url, {"sub": "demo-anne"}))

    after = visitor.session_id()
    assert after is not None and after != before
    assert visitor.stored(before) is None
    assert visitor.stored_data(after)["citizen"]["sub"] == "demo-anne"


def test_already_signed_in_goes_straight_to_the_library(visitor: Browser) -> None:
    visitor.login()
    response = visitor.get("/lyngby/login")
    assert response.status_code == 302 and response.headers["Location"] == "/lyngby/"


def test_logout_destroys_the_session_and_ends_it_at_the_idp(visitor: Browser, idp: DevIdp) -> None:
    visitor.login()
    session_id = visitor.session_id()
    visitor.edit_session(lambda data: data.update(patrons={"DK-717300": 1001, "DK-717500": None}))
    sent: list[dict[str, Any]] = []

    def listener(sender: Flask, **kwargs: Any) -> None:
        sent.append(kwargs)

    with signals.citizen_logged_out.connected_to(listener):
        response = visitor.post("/lyngby/logout")

    assert sent == [{"patrons": {"DK-717300": 1001}}]
    assert visitor.stored(session_id) is None
    assert visitor.session_id() is None  # cookie deleted
    location = response.headers["Location"]
    assert response.status_code == 302 and location.startswith(f"{idp.issuer}/end_session?")
    params = query(location)
    assert params["post_logout_redirect_uri"] == f"{PORTAL_URL}/lyngby/"
    assert params["client_id"] == CLIENT_ID
    # The dev IdP puts the CPR in the ID token: no id_token_hint, so no CPR in a URL.
    assert "id_token_hint" not in params
    assert "0101901111" not in location
    # The IdP accepts it and sends the visitor back to the library page.
    back = visitor.http.get(location)
    assert back.status_code == 302 and back.headers["location"] == f"{PORTAL_URL}/lyngby/"


def test_old_session_id_is_worthless_after_logout(visitor: Browser) -> None:
    visitor.login()
    old = visitor.session_id()
    visitor.post("/lyngby/logout")
    visitor.portal.set_cookie(COOKIE, str(old))

    visitor.get("/lyngby/")

    assert visitor.stored(old) is None
    assert visitor.session_id() is None


def test_logout_without_a_login_stays_in_the_portal(visitor: Browser) -> None:
    response = visitor.post("/lyngby/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/lyngby/"


def test_get_on_the_logout_url_offers_the_sign_out_button(visitor: Browser) -> None:
    """A bookmarked or typed logout URL is no error: a page whose button signs out (a POST)."""
    visitor.login("demo-anne")
    response = visitor.get("/lyngby/logout")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'method="post" action="/lyngby/logout"' in page and "Anne Andersen" in page
    assert visitor.stored_data().get("citizen") is not None  # a GET signs nobody out
    assert visitor.post("/lyngby/logout").status_code == 302
    assert "citizen" not in (visitor.stored() or {})


def test_get_on_the_logout_url_when_signed_out_goes_to_the_library(visitor: Browser) -> None:
    response = visitor.get("/lyngby/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/lyngby/"
    assert visitor.get("/nowhere/logout").status_code == 404


def test_logout_works_when_the_idp_is_unreachable(make_portal: Any) -> None:
    visitor = Browser(make_portal("http://127.0.0.1:9"))
    with visitor.portal.session_transaction() as session:
        session["citizen"] = {
            "sub": "s",
            "name": "n",
            "cpr": "0101901111",
            "id_token": "x.y.z",
            "issuer": "http://127.0.0.1:9",
        }
    session_id = visitor.session_id()
    assert visitor.stored(session_id) is not None

    response = visitor.post("/lyngby/logout")

    assert response.status_code == 302 and response.headers["Location"] == "/lyngby/"
    assert visitor.stored(session_id) is None
    visitor.close()


@pytest.mark.parametrize("method,path", [("get", "/nowhere/login"), ("post", "/nowhere/logout")])
def test_unknown_library_is_404(visitor: Browser, method: str, path: str) -> None:
    assert getattr(visitor.portal, method)(path).status_code == 404
