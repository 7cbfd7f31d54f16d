"""Settings for test portals: every variable a deployment must set, with test values."""

from __future__ import annotations

from portal.config import Settings, load_settings
from portal.devtools.demo import DEV_FBS_PASSWORD, DEV_FBS_USERNAME

# Where the portal under Flask's test client is (https, as deployed: Secure cookies); live servers pass their own.
TEST_CLIENT_URL = "https://localhost"

REQUIRED = {
    "PORTAL_SECRET_KEY": "test-secret-key-" + "x" * 24,
    "PORTAL_BASE_URL": TEST_CLIENT_URL,
    "PORTAL_OIDC_ISSUER": "http://127.0.0.1:9",
    "PORTAL_OIDC_CLIENT_ID": "portal-under-test",
    "PORTAL_OIDC_CLIENT_SECRET": "portal-under-test-secret",
    "PORTAL_FBS_BASE_URL": "http://127.0.0.1:9",
    # The simulators' client login, so a test portal can log in to an FBS simulator.
    "PORTAL_FBS_USERNAME": DEV_FBS_USERNAME,
    "PORTAL_FBS_PASSWORD": DEV_FBS_PASSWORD,
    # Test portals sign in far more often than a person could; tests/web/test_rate_limits.py turns them on.
    "PORTAL_RATE_LIMITS": "off",
    # Start-up lines of background threads would land between the tests' output; tests of the logs set their own.
    "PORTAL_LOG_LEVEL": "WARNING",
    # Shared test stacks inject runs of upstream failures (fail_next(50)); an open breaker would carry one
    # test's outage into the next. tests/providers/test_circuit_breaker.py sets its own, tight values.
    "PORTAL_BREAKER_FAILURES": "1000",
}


# A deployment's required variables, as an operator would set them (for configuration tests).
PRODUCTION: dict[str, str] = {
    "PORTAL_SECRET_KEY": "k" * 32,
    "PORTAL_BASE_URL": "https://gebyr.example.dk",
    "PORTAL_OIDC_ISSUER": "https://idp.example",
    "PORTAL_OIDC_CLIENT_ID": "gebyrportal",
    "PORTAL_OIDC_CLIENT_SECRET": "oidc-secret",
    "PORTAL_FBS_BASE_URL": "https://fbs.example",
    "PORTAL_FBS_USERNAME": "portal-client",
    "PORTAL_FBS_PASSWORD": "fbs-secret",
}


def test_settings(**env: str) -> Settings:
    """The required variables with test values; `env` adds or overrides PORTAL_* variables."""
    return load_settings({**REQUIRED, **env})


# Not a test, though pytest would collect it by name from modules that import it.
test_settings.__test__ = False  # type: ignore[attr-defined]
