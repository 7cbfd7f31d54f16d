"""Settings of a test portal signing citizens in at a dev IdP (tests/auth and tests/editor)."""

from __future__ import annotations

from pathlib import Path

from portal.config import Settings
from tests.auth.helpers import CLIENT_ID, CLIENT_SECRET
from tests.support.settings import test_settings


def portal_settings_for(issuer: str, *, database: Path, libraries: Path, secret_key: str, **env: str) -> Settings:
    """Citizens' OIDC client at `issuer`, an unreachable FBS, short timeouts; `env` overrides."""
    return test_settings(
        **{
            "PORTAL_SECRET_KEY": secret_key,
            "PORTAL_DATABASE_URL": f"sqlite:///{database}",
            "PORTAL_OIDC_ISSUER": issuer,
            "PORTAL_OIDC_CLIENT_ID": CLIENT_ID,
            "PORTAL_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "PORTAL_FBS_BASE_URL": "http://127.0.0.1:9",
            "PORTAL_LIBRARIES_FILE": str(libraries),
            "PORTAL_HTTP_TIMEOUT": "3",
            **env,
        }
    )
