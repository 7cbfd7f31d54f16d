"""Bad input gets a clear answer: query parameters, Host headers, proxies, and errors in error handling."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask

from portal import create_app, kvstore
from portal.devtools.demo import DEMO_LIBRARIES_FILE
from portal.devtools.idp import DevIdp, start_dev_idp
from portal.web import errors
from portal.web.security import HSTS, LAST_RESORT_PAGE
from tests.auth.helpers import CLIENT_ID, CLIENT_SECRET, portal_client
from tests.support.settings import TEST_CLIENT_URL, test_settings

HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy", "cache-control")


@pytest.fixture(scope="module")
def idp() -> Iterator[DevIdp]:
    idp = start_dev_idp("127.0.0.1", 0, None, [portal_client()])
    yield idp
    idp.shutdown()


@pytest.fixture
def make_app(tmp_path: Path, idp: DevIdp) -> Iterator[object]:
    count = 0

    def make(**env: str) -> Flask:
        nonlocal count
        count += 1
        settings = test_settings(
            PORTAL_DATABASE_URL=f"sqlite:///{tmp_path / f'portal-{count}.sqlite3'}",
            PORTAL_LIBRARIES_FILE=str(DEMO_LIBRARIES_FILE),
            PORTAL_OIDC_ISSUER=idp.issuer,
            PORTAL_OIDC_CLIENT_ID=CLIENT_ID,
            PORTAL_OIDC_CLIENT_SECRET=CLIENT_SECRET,
            **env,
        )
        return create_app(settings)

    yield make


@pytest.fixture
def app(make_app) -> Flask:  # type: ignore[no-untyped-def]
    return make_app()  # type: ignore[no-any-return]


def assert_security_headers(headers: object) -> None:
    for name in HEADERS:
        assert name in {key.lower() for key in headers.keys()}, name  # type: ignore[attr-defined]
    assert headers["Cache-Control"] == "no-store"  # type: ignore[index]
    assert "script-src 'self';" in headers["Content-Security-Policy"]  # type: ignore[index]


# -- query parameters never reach url_for ------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["endpoint=x", "_method=POST", "_external=1", "_scheme=https", "_anchor=top", "slug=rodovre", "lang=xx"],
)
@pytest.mark.parametrize("path", ["/lyngby/", "/", "/editor/"])
def test_query_parameters_do_not_reach_the_links(app: Flask, path: str, query: str) -> None:
    response = app.test_client().get(f"{path}?{query}")
    assert response.status_code in (200, 404)  # /editor/ is off without an editor IdP
    page = response.get_data(as_text=True)
    links = re.findall(r'href="([^"]*)" lang="(da|en)"', page)
    if response.status_code == 200:
        assert {code for _, code in links} == {"da", "en"}
    for href, code in links:
        # Only the page's own path and the language: relative, no host, nothing from the query.
        assert href == f"{path}?lang={code}", href


def test_the_language_switch_keeps_the_library(app: Flask) -> None:
    page = app.test_client().get("/rodovre/?lang=en&endpoint=citizen.index").get_data(as_text=True)
    assert 'href="/rodovre/?lang=da"' in page and 'lang="en"' in page


# -- absolute URLs come from PORTAL_BASE_URL, never from the Host header --------------------------


def test_the_redirect_uri_ignores_the_host_header(app: Flask) -> None:
    for host in ("evil.example", "localhost:8443"):
        response = app.test_client().get("/lyngby/login", headers={"Host": host})
        assert response.status_code == 302
        query = parse_qs(urlsplit(response.headers["Location"]).query)
        assert query["redirect_uri"] == [f"{TEST_CLIENT_URL}/auth/callback"]


def test_forwarded_host_is_ignored_even_behind_a_trusted_proxy(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(PORTAL_TRUSTED_PROXIES="1")
    response = app.test_client().get(
        "/lyngby/login", headers={"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}
    )
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["redirect_uri"] == [f"{TEST_CLIENT_URL}/auth/callback"]


def test_base_url_with_a_path_prefix(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(PORTAL_BASE_URL="https://kommune.example/gebyr")
    response = app.test_client().get("/lyngby/login")
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["redirect_uri"] == ["https://kommune.example/gebyr/auth/callback"]


# -- behind a TLS-terminating proxy ----------------------------------------------------------------


def test_hsts_and_secure_cookies_behind_a_trusted_proxy(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(PORTAL_TRUSTED_PROXIES="1")
    response = app.test_client().get("/lyngby/?lang=en", headers={"X-Forwarded-Proto": "https"})
    assert response.headers["Strict-Transport-Security"] == HSTS
    assert "Secure" in response.headers["Set-Cookie"]  # the language cookie


def test_forwarded_headers_are_not_believed_without_the_opt_in(app: Flask) -> None:
    response = app.test_client().get("/lyngby/?lang=en", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers
    assert "Secure" not in response.headers["Set-Cookie"]
    # The same request over HTTPS itself does get both.
    secure = app.test_client().get("/lyngby/?lang=en", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"] == HSTS and "Secure" in secure.headers["Set-Cookie"]


def test_the_session_cookie_is_secure_when_the_portal_is_served_over_https(app: Flask, make_app) -> None:  # type: ignore[no-untyped-def]
    assert app.config["SESSION_COOKIE_SECURE"] is True  # PORTAL_BASE_URL is https
    assert make_app(PORTAL_BASE_URL="http://127.0.0.1:5000").config["SESSION_COOKIE_SECURE"] is False


# -- errors, and errors while handling errors --------------------------------------------------------


def add_failing_route(app: Flask) -> None:
    def boom() -> str:
        raise RuntimeError("a bug")

    app.add_url_rule("/boom", "boom", boom)


def test_an_unhandled_error_is_the_friendly_page_with_every_header(app: Flask) -> None:
    add_failing_route(app)
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Der gik noget galt hos os" in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert_security_headers(response.headers)


def test_when_the_error_page_fails_too_the_fixed_page_is_served(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    add_failing_route(app)

    def broken(*_args: object, **_kwargs: object) -> str:
        raise RuntimeError("the template is broken as well")

    monkeypatch.setattr(errors, "render_template", broken)
    response = app.test_client().get("/boom")
    assert response.status_code == 500 and response.data == LAST_RESORT_PAGE
    assert_security_headers(response.headers)
    # Rendering works again: the friendly page, not the fixed one.
    monkeypatch.undo()
    assert app.test_client().get("/boom").data != LAST_RESORT_PAGE


def test_when_flasks_error_handling_itself_fails_the_layer_answers(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    add_failing_route(app)

    def handling_fails(_exc: Exception) -> None:
        raise RuntimeError("the error handling broke")

    monkeypatch.setattr(app, "handle_user_exception", handling_fails)
    monkeypatch.setattr(app, "handle_exception", handling_fails)
    response = app.test_client().get("/boom")
    assert response.status_code == 500 and response.data == LAST_RESORT_PAGE
    assert_security_headers(response.headers)


def test_an_answer_whose_finishing_step_failed_still_has_every_header(app: Flask) -> None:
    @app.after_request
    def failing(response):  # type: ignore[no-untyped-def]
        raise RuntimeError("an after-request step broke")

    response = app.test_client().get("/lyngby/")
    assert response.status_code == 500
    assert "Traceback" not in response.get_data(as_text=True)
    assert_security_headers(response.headers)


def test_a_session_store_that_is_down_is_a_clear_500_with_every_header(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = kvstore.backend(app)

    def down(*_args: object, **_kwargs: object) -> None:
        raise ConnectionError("the session store is down")

    monkeypatch.setattr(backend, "set", down)
    # ?lang= alone stores nothing; starting a login stores its state in the session.
    response = app.test_client().get("/lyngby/login")
    assert response.status_code == 500
    assert_security_headers(response.headers)


def test_static_files_may_be_cached(app: Flask) -> None:
    response = app.test_client().get("/static/css/portal.css")
    response.close()  # a file: the layer passes its iterable on, close() included
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"
    assert "Content-Security-Policy" in response.headers and "X-Content-Type-Options" in response.headers
    page = app.test_client().get("/lyngby/")
    assert page.headers["Cache-Control"] == "no-store"
