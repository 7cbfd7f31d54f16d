"""PORTAL_DEBTOR_BASE_URL / PORTAL_DEBTOR_API_KEY: optional, the simulator in the demo, https for real."""

from __future__ import annotations

import pytest

from portal.config import ConfigError, load_settings
from portal.devtools.demo import DEV_DEBTOR_API_KEY, DEV_DEBTOR_BASE_URL, demo_settings
from tests.support.settings import PRODUCTION


def test_the_demo_uses_the_simulator() -> None:
    settings = demo_settings()
    assert (settings.debtor_base_url, settings.debtor_api_key) == (DEV_DEBTOR_BASE_URL, DEV_DEBTOR_API_KEY)


def test_outside_the_demo_it_is_off_unless_configured() -> None:
    settings = load_settings(PRODUCTION)
    assert settings.debtor_base_url is None and settings.debtor_api_key is None


def test_configured() -> None:
    settings = load_settings(
        {**PRODUCTION, "PORTAL_DEBTOR_BASE_URL": "https://debtor.example/api/", "PORTAL_DEBTOR_API_KEY": " secret "}
    )
    assert (settings.debtor_base_url, settings.debtor_api_key) == ("https://debtor.example/api", "secret")


def test_plain_http_only_on_this_machine() -> None:
    settings = load_settings(
        {**PRODUCTION, "PORTAL_DEBTOR_BASE_URL": "http://127.0.0.1:5003", "PORTAL_DEBTOR_API_KEY": "k"}
    )
    assert settings.debtor_base_url == "http://127.0.0.1:5003"


@pytest.mark.parametrize(
    ("changes", "variable", "says"),
    [
        (
            {"PORTAL_DEBTOR_BASE_URL": "http://debtor.example", "PORTAL_DEBTOR_API_KEY": "k"},
            "PORTAL_DEBTOR_BASE_URL",
            "https",
        ),
        ({"PORTAL_DEBTOR_BASE_URL": "debtor.example", "PORTAL_DEBTOR_API_KEY": "k"}, "PORTAL_DEBTOR_BASE_URL", "URL"),
        ({"PORTAL_DEBTOR_BASE_URL": "https://debtor.example"}, "PORTAL_DEBTOR_API_KEY", "required"),
        ({"PORTAL_DEBTOR_API_KEY": "k"}, "PORTAL_DEBTOR_API_KEY", "PORTAL_DEBTOR_BASE_URL"),
    ],
)
def test_bad_values_name_the_variable(changes: dict[str, str], variable: str, says: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({**PRODUCTION, **changes})
    assert str(info.value).startswith(variable + ":") and says in str(info.value)
    assert "\n" not in str(info.value)
