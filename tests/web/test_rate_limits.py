"""Rate limits per client address on sign-in, the JSON API and the webhook; a cap on request bodies.

Each refusal is paired with the same request from another address (or below the limit) getting
through, so the test proves the limit is the cause.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from portal import create_app
from portal.config import ConfigError
from portal.devtools.demo import DEMO_LIBRARIES_FILE
from portal.web.limits import LIMITED_ENDPOINTS, MAX_REQUEST_BYTES
from tests.support.settings import test_settings

ALICE, BOB = {"REMOTE_ADDR": "192.0.2.10"}, {"REMOTE_ADDR": "192.0.2.20"}


def portal(tmp_path: Path, **env: str) -> Flask:
    settings = test_settings(
        **{
            "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
            "PORTAL_LIBRARIES_FILE": str(DEMO_LIBRARIES_FILE),
            "PORTAL_RATE_LIMITS": "on",
            **env,
        }
    )
    return create_app(settings)


def test_starting_sign_in_is_limited_per_address(tmp_path: Path) -> None:
    app = portal(tmp_path, PORTAL_RATE_LIMIT_SIGN_IN="3 per minute")
    client = app.test_client()
    for _ in range(3):
        assert client.get("/lyngby/login", environ_base=ALICE).status_code != 429
    refused = client.get("/lyngby/login", environ_base=ALICE, headers={"Accept-Language": "da"})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "For mange forsøg" in refused.get_data(as_text=True)  # the portal's own page, in Danish
    assert client.get("/lyngby/login", environ_base=BOB).status_code != 429  # another address is not held up


def test_the_json_api_answers_json_when_limited(tmp_path: Path) -> None:
    app = portal(tmp_path, PORTAL_RATE_LIMIT_API="2 per minute")
    client = app.test_client()
    for _ in range(2):
        assert client.get("/api/v1/libraries/lyngby/total", environ_base=ALICE).status_code == 401
    refused = client.get("/api/v1/libraries/lyngby/overview", environ_base=ALICE)
    assert (refused.status_code, refused.get_json()["error"]) == (429, "too_many_requests")
    assert client.get("/api/v1/libraries/lyngby/total", environ_base=BOB).status_code == 401


def test_the_webhook_is_limited(tmp_path: Path) -> None:
    app = portal(tmp_path, PORTAL_RATE_LIMIT_WEBHOOK="1 per minute")
    client = app.test_client()
    assert client.post("/betaling/nexi-webhook", json={}, environ_base=ALICE).status_code != 429
    assert client.post("/betaling/nexi-webhook", json={}, environ_base=ALICE).status_code == 429


def test_the_citizen_page_is_not_limited(tmp_path: Path) -> None:
    # A branch library behind one address must not lock itself out of the page on reminder day.
    app = portal(tmp_path, PORTAL_RATE_LIMIT_SIGN_IN="1 per minute", PORTAL_RATE_LIMIT_API="1 per minute")
    client = app.test_client()
    assert all(client.get("/lyngby/", environ_base=ALICE).status_code == 200 for _ in range(10))


def test_off_limits_nothing(tmp_path: Path) -> None:
    app = portal(tmp_path, PORTAL_RATE_LIMITS="off", PORTAL_RATE_LIMIT_SIGN_IN="1 per minute")
    client = app.test_client()
    assert all(client.get("/lyngby/login", environ_base=ALICE).status_code != 429 for _ in range(5))


def test_every_limited_endpoint_exists(tmp_path: Path) -> None:
    app = portal(tmp_path)
    assert set(LIMITED_ENDPOINTS) <= set(app.view_functions)


def test_a_body_over_the_cap_is_refused_and_one_under_it_is_read(tmp_path: Path) -> None:
    client = portal(tmp_path).test_client()
    too_big = client.post("/betaling/nexi-webhook", data=b"x" * (MAX_REQUEST_BYTES + 1), environ_base=ALICE)
    assert too_big.status_code == 413
    small = client.post("/betaling/nexi-webhook", data=b"x" * 1000, environ_base=BOB)
    assert small.status_code != 413


@pytest.mark.parametrize(
    "variable", ["PORTAL_RATE_LIMIT_SIGN_IN", "PORTAL_RATE_LIMIT_API", "PORTAL_RATE_LIMIT_WEBHOOK"]
)
def test_a_bad_limit_stops_start_up_naming_the_variable(variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        test_settings(**{variable: "lots"})
    with pytest.raises(ConfigError, match="PORTAL_RATE_LIMITS"):
        test_settings(PORTAL_RATE_LIMITS="maybe")
