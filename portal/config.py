"""Settings read from environment variables, validated once at start-up.

Every variable is optional: without any the portal runs in demo mode against the
dev identity provider and the FBS simulator that ship with the project. A bad
value stops start-up with one line naming the variable (ConfigError).
"""
from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlparse

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"
DEMO_LIBRARIES_FILE = Path(__file__).resolve().parent / "devtools" / "demo_libraries.toml"

# Fixed loopback ports of the dev services; the portal itself listens on 5000.
DEV_IDP_PORT = 5001
DEV_FBS_PORT = 5002
DEV_IDP_ISSUER = f"http://127.0.0.1:{DEV_IDP_PORT}"
DEV_FBS_BASE_URL = f"http://127.0.0.1:{DEV_FBS_PORT}"
DEV_OIDC_CLIENT_ID = "gebyrportal-dev"
DEV_OIDC_CLIENT_SECRET = "gebyrportal-dev-secret"
DEV_FBS_USERNAME = "gebyrportal"
DEV_FBS_PASSWORD = "simulator"
# The debtor-system simulator (Mit Betalingsoverblik status, issue 3).
DEV_DEBTOR_PORT = 5003
DEV_DEBTOR_BASE_URL = f"http://127.0.0.1:{DEV_DEBTOR_PORT}"
DEV_DEBTOR_API_KEY = "debtor-simulator-key"
# The editor area's client at the dev IdP (issue 4), registered apart from the citizens' client.
DEV_EDITOR_CLIENT_ID = "gebyrportal-editor-dev"
DEV_EDITOR_CLIENT_SECRET = "gebyrportal-editor-dev-secret"
DEFAULT_EDITOR_LIBRARIES_CLAIM = "gebyrportal_libraries"


class ConfigError(Exception):
    """A configuration value is missing or invalid; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    secret_key: str
    database_url: str
    cache_url: str
    cache_ttl: int
    oidc_issuer: str
    oidc_client_id: str
    oidc_client_secret: str
    oidc_scope: str
    oidc_cpr_claim: str
    fbs_base_url: str
    fbs_username: str
    fbs_password: str
    libraries_file: Path | None
    http_timeout: float = 5.0
    session_lifetime: int = 1800
    demo: bool = False
    # Editor sign-in (issue 4): the organisation's IdP, configured apart from the citizens' one.
    # editor_oidc_issuer None means the editor area is switched off.
    editor_oidc_issuer: str | None = None
    editor_oidc_client_id: str = ""
    editor_oidc_client_secret: str = ""
    editor_oidc_scope: str = "openid"
    editor_libraries_claim: str = DEFAULT_EDITOR_LIBRARIES_CLAIM
    # The municipality's debtor-status API (issue 3); None: not configured, FBS data only.
    debtor_base_url: str | None = None
    debtor_api_key: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    def with_overrides(self, **changes: object) -> "Settings":
        """A copy with some fields replaced (tests and tools)."""
        return replace(self, **changes)


def _demo_secret_key() -> str:
    """A secret kept in instance/ so demo sessions survive a restart."""
    path = INSTANCE_DIR / "demo-secret-key"
    if path.exists():
        return path.read_text().strip()
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _url(env: Mapping[str, str], name: str, default: str, schemes: tuple[str, ...]) -> str:
    value = env.get(name, "").strip() or default
    parsed = urlparse(value)
    if parsed.scheme not in schemes or not parsed.netloc:
        raise ConfigError(f"{name}: expected a {'/'.join(schemes)} URL, got {value!r}")
    return value.rstrip("/")


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number of seconds, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name}: must be greater than 0, got {value}")
    return value


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name}: must be greater than 0, got {value}")
    return value


def _database_url(env: Mapping[str, str]) -> str:
    value = env.get("PORTAL_DATABASE_URL", "").strip()
    if not value:
        return f"sqlite:///{INSTANCE_DIR / 'gebyrportal.sqlite3'}"
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(value)
    except ArgumentError:
        raise ConfigError(f"PORTAL_DATABASE_URL: not a database URL: {value!r}") from None
    return value


def _cache_url(env: Mapping[str, str]) -> str:
    value = env.get("PORTAL_CACHE_URL", "").strip()
    if value and urlparse(value).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(f"PORTAL_CACHE_URL: expected redis://…, rediss://… or empty, got {value!r}")
    return value


def _libraries_file(env: Mapping[str, str], demo: bool) -> Path | None:
    raw = env.get("PORTAL_LIBRARIES_FILE", "").strip()
    if not raw:
        return DEMO_LIBRARIES_FILE if demo else None
    path = Path(raw)
    if not path.is_file():
        raise ConfigError(f"PORTAL_LIBRARIES_FILE: no such file: {raw}")
    return path


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate all PORTAL_* variables; raise ConfigError on the first bad one."""
    env = os.environ if env is None else env
    demo = not env.get("PORTAL_OIDC_ISSUER", "").strip() and not env.get("PORTAL_FBS_BASE_URL", "").strip()
    secret_key = env.get("PORTAL_SECRET_KEY", "").strip()
    if not secret_key:
        if not demo:
            raise ConfigError("PORTAL_SECRET_KEY: required outside the demo (set a long random value)")
        secret_key = _demo_secret_key()
    elif len(secret_key) < 16:
        raise ConfigError("PORTAL_SECRET_KEY: too short; use at least 16 random characters")
    fbs_user = env.get("PORTAL_FBS_USERNAME", "").strip() or DEV_FBS_USERNAME
    fbs_password = env.get("PORTAL_FBS_PASSWORD", "") or DEV_FBS_PASSWORD
    return Settings(
        secret_key=secret_key,
        database_url=_database_url(env),
        cache_url=_cache_url(env),
        cache_ttl=_positive_int(env, "PORTAL_CACHE_TTL", 60),
        oidc_issuer=_url(env, "PORTAL_OIDC_ISSUER", DEV_IDP_ISSUER, ("http", "https")),
        oidc_client_id=env.get("PORTAL_OIDC_CLIENT_ID", "").strip() or DEV_OIDC_CLIENT_ID,
        oidc_client_secret=env.get("PORTAL_OIDC_CLIENT_SECRET", "") or DEV_OIDC_CLIENT_SECRET,
        oidc_scope=_scope(env),
        oidc_cpr_claim=env.get("PORTAL_OIDC_CPR_CLAIM", "").strip() or "cpr",
        fbs_base_url=_url(env, "PORTAL_FBS_BASE_URL", DEV_FBS_BASE_URL, ("http", "https")),
        fbs_username=fbs_user,
        fbs_password=fbs_password,
        libraries_file=_libraries_file(env, demo),
        http_timeout=_positive_float(env, "PORTAL_HTTP_TIMEOUT", 5.0),
        session_lifetime=_positive_int(env, "PORTAL_SESSION_LIFETIME", 1800),
        demo=demo,
        **_debtor_settings(env, demo),
        **_editor_settings(env, demo),
    )


def _scope(env: Mapping[str, str], name: str = "PORTAL_OIDC_SCOPE") -> str:
    scope = " ".join(env.get(name, "").split()) or "openid"
    if "openid" not in scope.split():
        raise ConfigError(f"{name}: must include 'openid', got {scope!r}")
    return scope


def _editor_settings(env: Mapping[str, str], demo: bool) -> dict[str, Any]:
    """The editor area's sign-in: the dev IdP in the demo, else only when PORTAL_EDITOR_OIDC_ISSUER is set."""
    issuer = env.get("PORTAL_EDITOR_OIDC_ISSUER", "").strip()
    if not issuer and not demo:
        return {}
    client_id = env.get("PORTAL_EDITOR_OIDC_CLIENT_ID", "").strip()
    secret = env.get("PORTAL_EDITOR_OIDC_CLIENT_SECRET", "")
    if issuer:
        # A real IdP: guessing a client would only fail later, at the first editor's sign-in.
        for name, value in (("PORTAL_EDITOR_OIDC_CLIENT_ID", client_id),
                            ("PORTAL_EDITOR_OIDC_CLIENT_SECRET", secret)):
            if not value:
                raise ConfigError(f"{name}: required with PORTAL_EDITOR_OIDC_ISSUER")
    return {
        "editor_oidc_issuer": _url(env, "PORTAL_EDITOR_OIDC_ISSUER", DEV_IDP_ISSUER, ("http", "https")),
        "editor_oidc_client_id": client_id or DEV_EDITOR_CLIENT_ID,
        "editor_oidc_client_secret": secret or DEV_EDITOR_CLIENT_SECRET,
        "editor_oidc_scope": _scope(env, "PORTAL_EDITOR_OIDC_SCOPE"),
        "editor_libraries_claim": env.get("PORTAL_EDITOR_LIBRARIES_CLAIM", "").strip()
                                  or DEFAULT_EDITOR_LIBRARIES_CLAIM,
    }


def _debtor_settings(env: Mapping[str, str], demo: bool) -> dict[str, Any]:
    """The debtor-status API: the simulator in the demo, else only when PORTAL_DEBTOR_BASE_URL is set."""
    url = env.get("PORTAL_DEBTOR_BASE_URL", "").strip()
    key = env.get("PORTAL_DEBTOR_API_KEY", "").strip()
    if not url:
        if key and not demo:
            raise ConfigError("PORTAL_DEBTOR_API_KEY: set PORTAL_DEBTOR_BASE_URL too, or remove the key")
        return {"debtor_base_url": DEV_DEBTOR_BASE_URL, "debtor_api_key": DEV_DEBTOR_API_KEY} if demo else {}
    url = _url(env, "PORTAL_DEBTOR_BASE_URL", url, ("http", "https"))
    # Every call carries a CPR number in its body: plain HTTP only on this machine.
    if urlparse(url).scheme != "https" and urlparse(url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ConfigError(f"PORTAL_DEBTOR_BASE_URL: must be https:// (CPR numbers are sent), got {url!r}")
    if not key:
        raise ConfigError("PORTAL_DEBTOR_API_KEY: required with PORTAL_DEBTOR_BASE_URL")
    return {"debtor_base_url": url, "debtor_api_key": key}


def fingerprint(value: str) -> str:
    """A short, non-reversible tag for logs (never log secrets or CPR numbers)."""
    return hashlib.sha256(value.encode()).hexdigest()[:10]
