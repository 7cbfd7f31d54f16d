"""The editor sign-in's settings: the dev IdP in the demo, its own variables elsewhere."""

from __future__ import annotations

import pytest

from portal.config import ConfigError, load_settings
from portal.devtools.demo import DEV_EDITOR_CLIENT_ID, DEV_IDP_ISSUER, demo_settings
from tests.support.settings import PRODUCTION as BASE

PRODUCTION = {**BASE, "PORTAL_OIDC_ISSUER": "https://mitid-broker.example"}
EDITORS = {
    "PORTAL_EDITOR_OIDC_ISSUER": "https://login.kommune.example/",
    "PORTAL_EDITOR_OIDC_CLIENT_ID": "gebyr",
    "PORTAL_EDITOR_OIDC_CLIENT_SECRET": "s3cret",
}


def test_the_demo_signs_editors_in_at_the_dev_idp() -> None:
    settings = demo_settings()
    assert settings.editor_oidc_issuer == DEV_IDP_ISSUER
    assert settings.editor_oidc_client_id == DEV_EDITOR_CLIENT_ID
    assert settings.editor_oidc_client_id != settings.oidc_client_id  # a client of its own
    assert settings.editor_oidc_scope == "openid"
    assert settings.editor_libraries_claim == "gebyrportal_libraries"
    assert settings.editor_payments_claim == "gebyrportal_payments"


def test_outside_the_demo_the_area_is_off_until_configured() -> None:
    assert load_settings(PRODUCTION).editor_oidc_issuer is None


def test_production_values_are_read() -> None:
    settings = load_settings(
        {
            **PRODUCTION,
            **EDITORS,
            "PORTAL_EDITOR_OIDC_SCOPE": "openid  profile groups",
            "PORTAL_EDITOR_LIBRARIES_CLAIM": "roles",
            "PORTAL_EDITOR_PAYMENTS_CLAIM": " payment_roles ",
        }
    )
    assert settings.editor_oidc_issuer == "https://login.kommune.example"
    assert (settings.editor_oidc_client_id, settings.editor_oidc_client_secret) == ("gebyr", "s3cret")
    assert settings.editor_oidc_scope == "openid profile groups"
    assert settings.editor_libraries_claim == "roles"
    assert settings.editor_payments_claim == "payment_roles"
    assert settings.oidc_issuer == "https://mitid-broker.example"  # the citizens' IdP is apart


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"PORTAL_EDITOR_OIDC_ISSUER": "login.kommune.example"}, "PORTAL_EDITOR_OIDC_ISSUER"),
        ({"PORTAL_EDITOR_OIDC_CLIENT_ID": ""}, "PORTAL_EDITOR_OIDC_CLIENT_ID"),
        ({"PORTAL_EDITOR_OIDC_CLIENT_SECRET": ""}, "PORTAL_EDITOR_OIDC_CLIENT_SECRET"),
        ({"PORTAL_EDITOR_OIDC_SCOPE": "profile"}, "PORTAL_EDITOR_OIDC_SCOPE"),
    ],
)
def test_bad_values_name_the_variable(changes: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_settings({**PRODUCTION, **EDITORS, **changes})
    assert str(excinfo.value).startswith(variable + ":")
