"""The app's one httpx.Client: created by setup.init_app with the configured timeouts."""
from __future__ import annotations

import httpx
import pytest
from flask import Flask

from portal.providers.http import EXTENSION_KEY, close_http, get_http
from tests.providers.conftest import make_app, provider_settings


def test_one_client_per_app_with_timeouts_from_settings(sim_url: str) -> None:
    app = make_app(provider_settings(sim_url, PORTAL_HTTP_TIMEOUT="2.5"))
    try:
        client = app.extensions[EXTENSION_KEY]
        assert isinstance(client, httpx.Client)
        assert client.timeout.connect == 2.5 and client.timeout.read == 2.5
        assert client.timeout.write == 2.5 and client.timeout.pool == 2.5
        assert client.follow_redirects is False
        with app.app_context():
            assert get_http() is client
            assert get_http() is get_http()
    finally:
        close_http(app)
    assert client.is_closed


def test_apps_do_not_share_clients(sim_url: str) -> None:
    first, second = (make_app(provider_settings(sim_url)) for _ in range(2))
    try:
        assert first.extensions[EXTENSION_KEY] is not second.extensions[EXTENSION_KEY]
        assert first.extensions[EXTENSION_KEY].timeout.read == 5.0     # the default
    finally:
        close_http(first)
        close_http(second)


def test_get_http_without_setup() -> None:
    with Flask("bare").app_context():
        with pytest.raises(RuntimeError, match="init_app"):
            get_http()
