"""Configuration: defaults, and one clear line naming the variable for a bad value."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal.config import DEV_FBS_BASE_URL, DEV_IDP_ISSUER, ConfigError, load_settings

PRODUCTION = {"PORTAL_OIDC_ISSUER": "https://idp.example", "PORTAL_FBS_BASE_URL": "https://fbs.example",
              "PORTAL_SECRET_KEY": "k" * 32}


def test_no_variables_means_the_demo() -> None:
    settings = load_settings({})
    assert settings.demo
    assert settings.oidc_issuer == DEV_IDP_ISSUER
    assert settings.fbs_base_url == DEV_FBS_BASE_URL
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith(".sqlite3")
    assert settings.cache_url == "" and settings.cache_ttl == 60
    assert settings.oidc_scope == "openid" and settings.oidc_cpr_claim == "cpr"
    assert settings.libraries_file is not None and settings.libraries_file.name == "demo_libraries.toml"


def test_demo_secret_is_stable_across_restarts() -> None:
    assert load_settings({}).secret_key == load_settings({}).secret_key


def test_production_values_are_read() -> None:
    settings = load_settings({**PRODUCTION, "PORTAL_OIDC_SCOPE": "openid  profile", "PORTAL_CACHE_TTL": "30",
                              "PORTAL_OIDC_CPR_CLAIM": "dk:cpr", "PORTAL_CACHE_URL": "redis://127.0.0.1:6379/0"})
    assert not settings.demo
    assert settings.oidc_scope == "openid profile"
    assert settings.cache_ttl == 30 and settings.cache_url == "redis://127.0.0.1:6379/0"
    assert settings.oidc_cpr_claim == "dk:cpr"
    assert settings.libraries_file is None


@pytest.mark.parametrize(("changes", "variable"), [
    ({"PORTAL_OIDC_ISSUER": "idp.example"}, "PORTAL_OIDC_ISSUER"),
    ({"PORTAL_FBS_BASE_URL": "ftp://fbs.example"}, "PORTAL_FBS_BASE_URL"),
    ({"PORTAL_SECRET_KEY": ""}, "PORTAL_SECRET_KEY"),
    ({"PORTAL_SECRET_KEY": "short"}, "PORTAL_SECRET_KEY"),
    ({"PORTAL_CACHE_URL": "memcached://x"}, "PORTAL_CACHE_URL"),
    ({"PORTAL_CACHE_TTL": "soon"}, "PORTAL_CACHE_TTL"),
    ({"PORTAL_CACHE_TTL": "0"}, "PORTAL_CACHE_TTL"),
    ({"PORTAL_DATABASE_URL": "not a url"}, "PORTAL_DATABASE_URL"),
    ({"PORTAL_OIDC_SCOPE": "profile"}, "PORTAL_OIDC_SCOPE"),
    ({"PORTAL_LIBRARIES_FILE": "/no/such/file.toml"}, "PORTAL_LIBRARIES_FILE"),
    ({"PORTAL_HTTP_TIMEOUT": "-1"}, "PORTAL_HTTP_TIMEOUT"),
])
def test_bad_values_name_the_variable(changes: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_settings({**PRODUCTION, **changes})
    message = str(excinfo.value)
    assert message.startswith(variable + ":")
    assert "\n" not in message


def test_start_up_fails_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, **PRODUCTION, "PORTAL_CACHE_TTL": "soon"}
    result = subprocess.run([sys.executable, "-c", "import portal; portal.create_app()"], env=env,
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "gebyrportal: configuration error: PORTAL_CACHE_TTL: expected a whole number of seconds, got 'soon'"]
