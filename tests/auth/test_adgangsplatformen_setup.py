"""Adgangsplatformen's settings and start-up check, an unreachable DBC, and the simulator's own rules."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from flask import Flask

from portal.config import ConfigError
from portal.devtools.adgangsplatformen import ApState, create_adgangsplatformen_app, portal_client
from tests.auth.helpers import Browser, query
from tests.support.live import LiveServer, start_live_server
from tests.support.settings import PRODUCTION, test_settings

BOTH = """\
[[library]]
slug = "lyngby"
name = "Lyngby"
agency_id = "DK-717300"
cutoff_date = 2021-06-15
sign_in = ["mitid", "adgangsplatformen"]
"""
CLIENT = {"PORTAL_ADGANGSPLATFORMEN_CLIENT_ID": "gebyrportal", "PORTAL_ADGANGSPLATFORMEN_CLIENT_SECRET": "s3cret"}


def test_defaults_to_login_bib_dk_without_a_client() -> None:
    settings = test_settings()
    assert settings.adgangsplatformen_url == "https://login.bib.dk"
    assert (settings.adgangsplatformen_client_id, settings.adgangsplatformen_client_secret) == ("", "")
    assert "s3cret" not in repr(test_settings(**CLIENT))


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PORTAL_ADGANGSPLATFORMEN_CLIENT_ID": "gebyrportal"}, "PORTAL_ADGANGSPLATFORMEN_CLIENT_SECRET"),
        ({"PORTAL_ADGANGSPLATFORMEN_CLIENT_SECRET": "s3cret"}, "PORTAL_ADGANGSPLATFORMEN_CLIENT_ID"),
        ({"PORTAL_ADGANGSPLATFORMEN_URL": "http://login.example.dk"}, "PORTAL_ADGANGSPLATFORMEN_URL"),
        ({"PORTAL_ADGANGSPLATFORMEN_URL": "login.bib.dk"}, "PORTAL_ADGANGSPLATFORMEN_URL"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        test_settings(**{**PRODUCTION, **env})


def test_start_up_refuses_a_library_offering_it_without_a_client(
    tmp_path: Path, make_portal: Callable[..., Flask], idp: object
) -> None:
    (tmp_path / "libraries.toml").write_text(BOTH)
    with pytest.raises(
        SystemExit, match="lyngby.*PORTAL_ADGANGSPLATFORMEN_CLIENT_ID and PORTAL_ADGANGSPLATFORMEN_CLIENT_SECRET"
    ):
        make_portal(idp.issuer)  # type: ignore[attr-defined]


def test_unreachable_adgangsplatformen_is_a_clear_page(
    tmp_path: Path, make_portal: Callable[..., Flask], idp: object
) -> None:
    (tmp_path / "libraries.toml").write_text(BOTH)
    dead = start_live_server()
    url = dead.url
    dead.stop()  # nothing listens there any more
    portal = make_portal(idp.issuer, PORTAL_ADGANGSPLATFORMEN_URL=url, **CLIENT)  # type: ignore[attr-defined]
    visitor = Browser(portal)
    start = visitor.get("/lyngby/login?profile=adgangsplatformen")
    assert start.status_code == 302 and start.headers["Location"].startswith(f"{url}/oauth/authorize?")
    state = query(start.headers["Location"])["state"]
    answer = visitor.get(f"/auth/adgangsplatformen/callback?state={state}&code=some-code")
    assert answer.status_code == 503 and 'data-reason="unreachable"' in answer.get_data(as_text=True)
    visitor.close()


# --- the simulator keeps Adgangsplatformen's rules ------------------------------------------


@pytest.fixture
def sim() -> Iterator[tuple[LiveServer, ApState]]:
    state = ApState(code_lifetime=300)
    state.add_clients([portal_client("https://portal.example", "client", "secret")])
    server = start_live_server(create_adgangsplatformen_app(state))
    yield server, state
    server.stop()


REDIRECT = "https://portal.example/auth/adgangsplatformen/callback"


def code_for(server: LiveServer, user: str = "ap-eva-9c21", agency: str = "717300") -> str:
    answer = httpx.post(
        f"{server.url}/oauth/authorize",
        data={
            "response_type": "code",
            "client_id": "client",
            "redirect_uri": REDIRECT,
            "state": "s",
            "agency": agency,
            "user": user,
        },
    )
    assert answer.status_code == 302, answer.text
    return query(answer.headers["location"])["code"]


def exchange(server: LiveServer, code: str, **changes: str) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": "client",
        "client_secret": "secret",
        **changes,
    }
    return httpx.post(f"{server.url}/oauth/token", data=form)


def test_sim_code_once_secret_and_exact_redirect(sim: tuple[LiveServer, ApState]) -> None:
    server, _ = sim
    assert exchange(server, code_for(server), client_secret="wrong").status_code == 401
    assert exchange(server, code_for(server), redirect_uri=REDIRECT + "/").status_code == 400
    code = code_for(server)
    first = exchange(server, code)
    assert first.status_code == 200 and first.json()["expires_in"] == 3600
    assert exchange(server, code).json() == {"error": "invalid_grant"}  # once
    info = httpx.get(f"{server.url}/userinfo", headers={"Authorization": f"Bearer {first.json()['access_token']}"})
    assert info.json() == {
        "attributes": {
            "uniqueId": "ap-eva-9c21",
            "municipality": "173",
            "idpUsed": "borchk",
            "agencies": [{"agencyId": "717300", "userId": "3847100005", "userIdType": "LOCAL"}],
        }
    }
    assert httpx.get(f"{server.url}/userinfo", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_sim_code_expires(sim: tuple[LiveServer, ApState]) -> None:
    server, state = sim
    state.code_lifetime = 0.0
    code = code_for(server)
    time.sleep(0.01)  # any time at all: the code lived 0 seconds
    assert exchange(server, code).status_code == 400


def test_sim_authorize_checks_client_and_redirect_uri(sim: tuple[LiveServer, ApState]) -> None:
    server, _ = sim
    base = {"response_type": "code", "client_id": "client", "redirect_uri": REDIRECT, "agency": "717300"}
    assert httpx.get(f"{server.url}/oauth/authorize", params=base).status_code == 200
    bad = httpx.get(f"{server.url}/oauth/authorize", params={**base, "redirect_uri": "https://evil.example/cb"})
    assert bad.status_code == 400 and "location" not in bad.headers
    assert httpx.get(f"{server.url}/oauth/authorize", params={**base, "client_id": "x"}).status_code == 400


def test_sim_offers_card_users_only_at_their_agency(sim: tuple[LiveServer, ApState]) -> None:
    server, _ = sim
    base = {"response_type": "code", "client_id": "client", "redirect_uri": REDIRECT}
    at_lyngby = httpx.get(f"{server.url}/oauth/authorize", params={**base, "agency": "717300"}).text
    at_rodovre = httpx.get(f"{server.url}/oauth/authorize", params={**base, "agency": "717500"}).text
    assert "Eva Eriksen" in at_lyngby and "Eva Eriksen" not in at_rodovre
    assert "Anne Andersen" in at_rodovre and "Dennis Dahl" in at_rodovre  # MitID through DBC: anyone
