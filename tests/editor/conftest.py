"""Fixtures: a dev IdP (citizens and editors) on loopback and a portal with the demo libraries."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from portal import create_app
from portal.config import Settings
from portal.devtools.demo import DEMO_LIBRARIES_FILE
from portal.devtools.idp import DevIdp, start_dev_idp
from tests.editor.helpers import EDITOR_CLIENT_ID, EDITOR_CLIENT_SECRET, EditorBrowser, idp_clients
from tests.support.portals import portal_settings_for


@pytest.fixture(scope="module")
def idp() -> Iterator[DevIdp]:
    idp = start_dev_idp("127.0.0.1", 0, None, idp_clients())
    yield idp
    idp.shutdown()


def portal_settings(issuer: str, database: Path, **env: str) -> Settings:
    editor = {
        "PORTAL_EDITOR_OIDC_ISSUER": issuer,
        "PORTAL_EDITOR_OIDC_CLIENT_ID": EDITOR_CLIENT_ID,
        "PORTAL_EDITOR_OIDC_CLIENT_SECRET": EDITOR_CLIENT_SECRET,
    }
    return portal_settings_for(
        issuer,
        database=database,
        libraries=DEMO_LIBRARIES_FILE,
        secret_key="editor-test-secret-" + "x" * 24,
        **{**editor, **env},
    )


@pytest.fixture
def make_portal(tmp_path: Path) -> Callable[..., Flask]:
    """A portal (its own database, the demo libraries) signing citizens and editors in at `issuer`."""
    count = 0

    def make(issuer: str, **env: str) -> Flask:
        nonlocal count
        count += 1
        app = create_app(portal_settings(issuer, tmp_path / f"portal-{count}.sqlite3", **env))
        app.config["TESTING"] = True
        return app

    return make


# Editor tests travel in time (portal.clock) months away from the sign-in, and session expiry is
# measured on that clock: the session must outlive the jump (five years, in seconds).
LONG_SESSION_LIFETIME = str(5 * 365 * 24 * 3600)


@pytest.fixture
def portal(make_portal: Callable[..., Flask], idp: DevIdp) -> Flask:
    return make_portal(idp.issuer, PORTAL_SESSION_LIFETIME=LONG_SESSION_LIFETIME)


@pytest.fixture
def browser_for(portal: Flask) -> Iterator[Callable[..., EditorBrowser]]:
    """Browsers on `portal`, each optionally signed in as an editor; closed after the test."""
    opened: list[EditorBrowser] = []

    def open_browser(editor: str | None = None) -> EditorBrowser:
        browser = EditorBrowser(portal)
        opened.append(browser)
        if editor is not None:
            response = browser.editor_login(editor)
            assert response.status_code == 302, response.get_data(as_text=True)
        return browser

    yield open_browser
    for browser in opened:
        browser.close()
