"""PORTAL_FBS_ADAPTER_BASE_URL: optional, https unless on this machine, required once a library uses the adapter."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal import create_app
from portal.config import ConfigError, Settings, load_settings
from portal.devtools.demo import DEMO_LIBRARIES_FILE
from tests.support.settings import PRODUCTION, test_settings

AP_ENV = {
    "PORTAL_ADGANGSPLATFORMEN_URL": "http://127.0.0.1:9",
    "PORTAL_ADGANGSPLATFORMEN_CLIENT_ID": "portal-under-test",
    "PORTAL_ADGANGSPLATFORMEN_CLIENT_SECRET": "portal-under-test-secret",
}


def test_unset_means_no_adapter() -> None:
    assert test_settings().fbs_adapter_base_url is None


def test_https_in_production_and_the_trailing_slash_goes() -> None:
    settings = load_settings({**PRODUCTION, "PORTAL_FBS_ADAPTER_BASE_URL": "https://fbs-openplatform.dbc.dk/"})
    assert settings.fbs_adapter_base_url == "https://fbs-openplatform.dbc.dk"
    with pytest.raises(ConfigError, match="PORTAL_FBS_ADAPTER_BASE_URL: must be https://"):
        load_settings({**PRODUCTION, "PORTAL_FBS_ADAPTER_BASE_URL": "http://fbs-openplatform.dbc.dk"})
    assert test_settings(PORTAL_FBS_ADAPTER_BASE_URL="http://127.0.0.1:5002").fbs_adapter_base_url


def _adapter_libraries(folder: Path) -> Path:
    text = DEMO_LIBRARIES_FILE.read_text(encoding="utf-8")
    marker = 'slug = "lyngby"\n'
    path = folder / DEMO_LIBRARIES_FILE.name
    extra = 'fbs_access = "dbc_adapter"\nsign_in = ["mitid", "adgangsplatformen"]\n'
    path.write_text(text.replace(marker, marker + extra, 1), encoding="utf-8")
    return path


def _settings(tmp_path: Path, **env: str) -> Settings:
    return test_settings(
        PORTAL_DATABASE_URL=f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        PORTAL_LIBRARIES_FILE=str(_adapter_libraries(tmp_path)),
        **AP_ENV,
        **env,
    )


def test_start_up_stops_naming_the_library_when_the_adapter_has_no_address(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="PORTAL_FBS_ADAPTER_BASE_URL: required, library lyngby"):
        create_app(_settings(tmp_path))


def test_start_up_goes_on_with_the_address(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path, PORTAL_FBS_ADAPTER_BASE_URL="http://127.0.0.1:9"))
    assert app.config["PORTAL_SETTINGS"].fbs_adapter_base_url == "http://127.0.0.1:9"
