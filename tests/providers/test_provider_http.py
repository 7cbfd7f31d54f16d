"""The app's one httpx.Client: created by setup.init_app with the configured timeouts, shared by all clients."""

from __future__ import annotations

import httpx
import pytest
from flask import Flask

from portal.providers import setup
from portal.providers.credentials import FbsLogin
from tests.providers.conftest import make_app, provider_settings


def test_one_client_per_app_with_timeouts_from_settings(sim_url: str) -> None:
    app = make_app(provider_settings(sim_url, PORTAL_HTTP_TIMEOUT="2.5"))
    upstreams = app.extensions[setup.EXTENSION_KEY]
    try:
        client = upstreams.http
        assert isinstance(client, httpx.Client)
        assert client.timeout.connect == 2.5 and client.timeout.read == 2.5
        assert client.timeout.write == 2.5 and client.timeout.pool == 2.5
        assert client.follow_redirects is False
        with app.app_context():
            assert setup.upstreams() is upstreams
            fbs = upstreams.fbs("DK-717300", FbsLogin("a", "b"))
            assert fbs._client._http is client  # every provider client shares it
    finally:
        upstreams.close()
    assert client.is_closed


def test_apps_do_not_share_clients(sim_url: str) -> None:
    first, second = (make_app(provider_settings(sim_url)).extensions[setup.EXTENSION_KEY] for _ in range(2))
    try:
        assert first.http is not second.http
        assert first.http.timeout.read == 5.0  # the default
    finally:
        first.close()
        second.close()


def test_upstreams_without_setup() -> None:
    with Flask("bare").app_context():
        with pytest.raises(KeyError):
            setup.upstreams()
