"""Configuration: every required variable, no fallbacks outside the demo, one clear line per mistake."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal.config import ConfigError, load_settings
from portal.devtools.demo import DEV_FBS_BASE_URL, DEV_FBS_PASSWORD, DEV_FBS_USERNAME, DEV_IDP_ISSUER, demo_settings
from tests.support.settings import PRODUCTION


def test_the_demo_fills_in_the_dev_services() -> None:
    settings = demo_settings()
    assert settings.oidc_issuer == DEV_IDP_ISSUER
    assert settings.fbs_base_url == DEV_FBS_BASE_URL
    assert (settings.fbs_username, settings.fbs_password) == (DEV_FBS_USERNAME, DEV_FBS_PASSWORD)
    assert settings.base_url == "http://127.0.0.1:5000" and not settings.secure
    assert settings.libraries_file is not None and settings.libraries_file.name == "demo_libraries.toml"


def test_demo_secret_is_stable_across_restarts() -> None:
    assert demo_settings().secret_key == demo_settings().secret_key


def test_production_values_are_read() -> None:
    settings = load_settings(
        {
            **PRODUCTION,
            "PORTAL_OIDC_SCOPE": "openid  profile",
            "PORTAL_CACHE_TTL": "30",
            "PORTAL_OIDC_CPR_CLAIM": "dk:cpr",
            "PORTAL_CACHE_URL": "redis://127.0.0.1:6379/0",
            "PORTAL_UPSTREAM_DEADLINE": "4.5",
            "PORTAL_PAGE_BUDGET": "6",
            "PORTAL_TRUSTED_PROXIES": "1",
            "PORTAL_SECRET_KEY_FALLBACKS": "o" * 20 + " " + "p" * 20,
        }
    )
    assert settings.oidc_scope == "openid profile"
    assert settings.cache_ttl == 30 and settings.cache_url == "redis://127.0.0.1:6379/0"
    assert settings.oidc_cpr_claim == "dk:cpr"
    assert settings.libraries_file is None
    assert (settings.upstream_deadline, settings.page_budget) == (4.5, 6.0)
    assert settings.trusted_proxies == 1 and settings.secure
    assert settings.secret_key_fallbacks == ("o" * 20, "p" * 20)
    assert (settings.fbs_username, settings.fbs_password) == ("portal-client", "fbs-secret")


def test_defaults_of_the_optional_variables() -> None:
    settings = load_settings(PRODUCTION)
    assert settings.cache_url == "" and settings.cache_ttl == 60
    assert (settings.http_timeout, settings.upstream_deadline, settings.page_budget) == (5.0, 8.0, 10.0)
    assert settings.trusted_proxies == 0 and settings.secret_key_fallbacks == ()
    assert settings.editor_oidc_issuer is None and settings.debtor_base_url is None


@pytest.mark.parametrize("variable", sorted(PRODUCTION))
def test_every_required_variable_stops_start_up_when_missing(variable: str) -> None:
    # No fallback to the simulator's or the dev IdP's values outside the demo.
    for missing in ({k: v for k, v in PRODUCTION.items() if k != variable}, {**PRODUCTION, variable: "  "}):
        with pytest.raises(ConfigError) as excinfo:
            load_settings(missing)
        assert str(excinfo.value).startswith(f"{variable}: required")


def test_no_variables_names_the_first_missing_one() -> None:
    with pytest.raises(ConfigError, match="^PORTAL_SECRET_KEY: required"):
        load_settings({})


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"PORTAL_OIDC_ISSUER": "idp.example"}, "PORTAL_OIDC_ISSUER"),
        ({"PORTAL_FBS_BASE_URL": "ftp://fbs.example"}, "PORTAL_FBS_BASE_URL"),
        ({"PORTAL_SECRET_KEY": "short"}, "PORTAL_SECRET_KEY"),
        ({"PORTAL_SECRET_KEY_FALLBACKS": "long-enough-old-key short"}, "PORTAL_SECRET_KEY_FALLBACKS"),
        ({"PORTAL_BASE_URL": "http://gebyr.example.dk"}, "PORTAL_BASE_URL"),
        ({"PORTAL_BASE_URL": "gebyr.example.dk"}, "PORTAL_BASE_URL"),
        ({"PORTAL_BASE_URL": "https://gebyr.example.dk/?x=1"}, "PORTAL_BASE_URL"),
        ({"PORTAL_CACHE_URL": "memcached://x"}, "PORTAL_CACHE_URL"),
        ({"PORTAL_CACHE_TTL": "soon"}, "PORTAL_CACHE_TTL"),
        ({"PORTAL_CACHE_TTL": "0"}, "PORTAL_CACHE_TTL"),
        ({"PORTAL_DATABASE_URL": "not a url"}, "PORTAL_DATABASE_URL"),
        ({"PORTAL_OIDC_SCOPE": "profile"}, "PORTAL_OIDC_SCOPE"),
        ({"PORTAL_LIBRARIES_FILE": "/no/such/file.toml"}, "PORTAL_LIBRARIES_FILE"),
        ({"PORTAL_HTTP_TIMEOUT": "-1"}, "PORTAL_HTTP_TIMEOUT"),
        ({"PORTAL_UPSTREAM_DEADLINE": "0"}, "PORTAL_UPSTREAM_DEADLINE"),
        ({"PORTAL_PAGE_BUDGET": "later"}, "PORTAL_PAGE_BUDGET"),
        ({"PORTAL_TRUSTED_PROXIES": "yes"}, "PORTAL_TRUSTED_PROXIES"),
        ({"PORTAL_TRUSTED_PROXIES": "-1"}, "PORTAL_TRUSTED_PROXIES"),
    ],
)
def test_bad_values_name_the_variable(changes: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_settings({**PRODUCTION, **changes})
    message = str(excinfo.value)
    assert message.startswith(variable + ":")
    assert "\n" not in message


def test_plain_http_base_url_only_on_this_machine() -> None:
    for url in ("http://127.0.0.1:5000", "http://localhost/"):
        settings = load_settings({**PRODUCTION, "PORTAL_BASE_URL": url})
        assert settings.base_url == url.rstrip("/") and not settings.secure


def test_nexi_base_url_is_optional_and_https_unless_on_this_machine() -> None:
    assert load_settings(PRODUCTION).nexi_base_url is None
    assert load_settings({**PRODUCTION, "PORTAL_NEXI_BASE_URL": "  "}).nexi_base_url is None
    settings = load_settings({**PRODUCTION, "PORTAL_NEXI_BASE_URL": "https://api.dibspayment.eu/"})
    assert settings.nexi_base_url == "https://api.dibspayment.eu"
    local = load_settings({**PRODUCTION, "PORTAL_NEXI_BASE_URL": "http://127.0.0.1:5004"})
    assert local.nexi_base_url == "http://127.0.0.1:5004"
    for bad in ("http://api.dibspayment.eu", "api.dibspayment.eu"):
        with pytest.raises(ConfigError, match="^PORTAL_NEXI_BASE_URL: "):
            load_settings({**PRODUCTION, "PORTAL_NEXI_BASE_URL": bad})


def test_secrets_stay_out_of_the_settings_repr() -> None:
    settings = load_settings({**PRODUCTION, "LYNGBY_FBS_PASSWORD": "library-secret"})
    assert settings.environment["LYNGBY_FBS_PASSWORD"] == "library-secret"  # the snapshot, for libraries
    shown = repr(settings)
    for secret in ("k" * 32, "oidc-secret", "fbs-secret", "library-secret"):
        assert secret not in shown


def test_the_environment_is_read_once() -> None:
    env = dict(PRODUCTION)
    settings = load_settings(env)
    env["LATE_VARIABLE"] = "set after start-up"
    assert "LATE_VARIABLE" not in settings.environment


def start_up(env: dict[str, str], folder: Path) -> subprocess.CompletedProcess[str]:
    """`portal.create_app()` in a process of its own, with exactly the environment `env`."""
    return subprocess.run(
        [sys.executable, "-c", "import portal; portal.create_app()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=folder,
    )


def test_start_up_fails_with_one_line(tmp_path: Path) -> None:
    result = start_up({**os.environ, **PRODUCTION, "PORTAL_CACHE_TTL": "soon"}, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "gebyrportal: configuration error: PORTAL_CACHE_TTL: expected a whole number of seconds, got 'soon'"
    ]


def test_start_up_without_configuration_names_the_missing_variable(tmp_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("PORTAL_")}
    result = start_up(env, tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("gebyrportal: configuration error: PORTAL_SECRET_KEY: required")
