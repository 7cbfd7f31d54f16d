"""Fixtures: a dev IdP on a real loopback port and a portal (non-demo settings) signing in against it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from portal import create_app
from portal.devtools.idp import DevIdp, IdpClient, start_dev_idp
from tests.auth.helpers import Browser, portal_client
from tests.support.portals import portal_settings_for

LIBRARIES_TOML = """\
[[library]]
slug = "lyngby"
name = "Lyngby"
agency_id = "DK-717300"
cutoff_date = 2021-06-15
"""


@pytest.fixture
def start_idp() -> Iterator[Callable[..., DevIdp]]:
    """Start dev IdPs (options as for create_idp_app); all are stopped after the test."""
    started: list[DevIdp] = []

    def start(clients: list[IdpClient] | None = None, **options: Any) -> DevIdp:
        idp = start_dev_idp("127.0.0.1", 0, None, clients or [portal_client()], **options)
        started.append(idp)
        return idp

    yield start
    for idp in started:
        idp.shutdown()


@pytest.fixture
def idp(start_idp: Callable[..., DevIdp]) -> DevIdp:
    return start_idp()


@pytest.fixture
def make_portal(tmp_path: Path) -> Callable[..., Flask]:
    """A portal app signing in against `issuer`; `env` overrides PORTAL_* variables."""
    libraries = tmp_path / "libraries.toml"
    libraries.write_text(LIBRARIES_TOML)

    def make(issuer: str, **env: str) -> Flask:
        settings = portal_settings_for(
            issuer,
            database=tmp_path / "portal.sqlite3",
            libraries=libraries,
            secret_key="test-secret-key-" + "x" * 24,
            **env,
        )
        app = create_app(settings)
        app.config["TESTING"] = True
        return app

    return make


@pytest.fixture
def portal(make_portal: Callable[..., Flask], idp: DevIdp) -> Flask:
    return make_portal(idp.issuer)


@pytest.fixture
def visitor(portal: Flask) -> Iterator[Browser]:
    b = Browser(portal)
    yield b
    b.close()
