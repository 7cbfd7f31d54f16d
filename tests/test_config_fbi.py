"""PORTAL_FBI_BASE_URL / PORTAL_FBI_TOKEN: both or neither, the simulator in the demo, https for real."""

from __future__ import annotations

import pytest

from portal.config import ConfigError, load_settings
from portal.devtools.demo import DEV_FBI_BASE_URL, DEV_FBI_PORT, DEV_FBI_TOKEN, demo_settings
from tests.support.settings import PRODUCTION

FBI = "https://fbi-api.dbc.dk/775100/next"


def test_the_demo_uses_the_simulator_on_a_port_of_its_own() -> None:
    settings = demo_settings()
    assert (settings.fbi_base_url, settings.fbi_token) == (DEV_FBI_BASE_URL, DEV_FBI_TOKEN)
    assert DEV_FBI_PORT not in range(5000, 5005)


def test_outside_the_demo_it_is_off_unless_configured() -> None:
    settings = load_settings(PRODUCTION)
    assert settings.fbi_base_url is None and settings.fbi_token is None


def test_configured() -> None:
    settings = load_settings({**PRODUCTION, "PORTAL_FBI_BASE_URL": FBI + "/", "PORTAL_FBI_TOKEN": " token "})
    assert (settings.fbi_base_url, settings.fbi_token) == (FBI, "token")


def test_the_token_is_not_in_the_settings_repr() -> None:
    settings = load_settings({**PRODUCTION, "PORTAL_FBI_BASE_URL": FBI, "PORTAL_FBI_TOKEN": "very-secret-token"})
    assert "very-secret-token" not in repr(settings)


@pytest.mark.parametrize("url", ["http://127.0.0.1:5005/demo/next", "http://localhost:5005/p"])
def test_plain_http_only_on_this_machine(url: str) -> None:
    settings = load_settings({**PRODUCTION, "PORTAL_FBI_BASE_URL": url, "PORTAL_FBI_TOKEN": "t"})
    assert settings.fbi_base_url == url


@pytest.mark.parametrize(
    ("changes", "variable", "says"),
    [
        (
            {"PORTAL_FBI_BASE_URL": "http://fbi-api.dbc.dk/775100", "PORTAL_FBI_TOKEN": "t"},
            "PORTAL_FBI_BASE_URL",
            "https",
        ),
        ({"PORTAL_FBI_BASE_URL": "fbi-api.dbc.dk", "PORTAL_FBI_TOKEN": "t"}, "PORTAL_FBI_BASE_URL", "URL"),
        ({"PORTAL_FBI_BASE_URL": FBI}, "PORTAL_FBI_TOKEN", "required"),
        ({"PORTAL_FBI_BASE_URL": FBI, "PORTAL_FBI_TOKEN": "  "}, "PORTAL_FBI_TOKEN", "required"),
        ({"PORTAL_FBI_TOKEN": "t"}, "PORTAL_FBI_TOKEN", "PORTAL_FBI_BASE_URL"),
    ],
)
def test_bad_values_name_the_variable(changes: dict[str, str], variable: str, says: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({**PRODUCTION, **changes})
    assert str(info.value).startswith(variable + ":") and says in str(info.value)
    assert "\n" not in str(info.value)
