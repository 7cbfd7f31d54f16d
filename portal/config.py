"""Settings read from environment variables, validated once at start-up.

Outside the demo nothing is guessed: the variables a deployment needs (secret key, public base
URL, the citizens' IdP client, FBS and its client login) must be set, and a missing or bad value
stops start-up with one line naming the variable (ConfigError). The demo (`make run`,
portal.devtools.demo) fills them in with the dev identity provider and the simulators.

Nothing else reads the environment: per-library FBS credentials are looked up in
`Settings.environment`, the snapshot taken here, when the libraries are loaded.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from portal.domain.digits import ascii_digits

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"
DEFAULT_EDITOR_LIBRARIES_CLAIM = "gebyrportal_libraries"
DEFAULT_EDITOR_PAYMENTS_CLAIM = "gebyrportal_payments"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MIN_SECRET_LENGTH = 16
# The web processes' Redis socket timeouts (sessions and cache, locks, rate limits). A healthy
# Redis answers in about a millisecond; a stalled one (a failover, a full network buffer) should
# cost a request half a second and an error, not redis-py's default of 5 s of a worker thread.
REDIS_SOCKET_TIMEOUT = 0.5


class ConfigError(Exception):
    """A configuration value is missing or invalid; the message names the variable."""


@dataclass(frozen=True)
class UpstreamProxies:
    """The forward proxies upstream calls go through: the standard `HTTP_PROXY`, `HTTPS_PROXY`,
    `ALL_PROXY` and `NO_PROXY` variables (lower case first), the ones the sign-in's calls
    (requests) read too. None: that scheme is reached directly."""

    http: str | None = field(default=None, repr=False)  # a proxy URL may carry a password
    https: str | None = field(default=None, repr=False)
    no_proxy: str = ""  # hosts and domains reached directly, comma-separated; "*": all

    def for_scheme(self, scheme: str) -> str | None:
        return self.https if scheme == "https" else self.http if scheme == "http" else None


@dataclass(frozen=True)
class Settings:
    secret_key: str = field(repr=False)
    base_url: str  # the portal's public address; every absolute URL starts here
    database_url: str = field(repr=False)  # may carry a password, as may the cache URL
    cache_url: str = field(repr=False)
    cache_ttl: int
    oidc_issuer: str
    oidc_client_id: str
    oidc_client_secret: str = field(repr=False)
    oidc_scope: str
    oidc_cpr_claim: str
    fbs_base_url: str
    fbs_username: str
    fbs_password: str = field(repr=False)
    libraries_file: Path | None
    http_timeout: float = 5.0  # per connect / read / write of one upstream call
    upstream_deadline: float = 8.0  # wall clock for one upstream call, however it trickles
    page_budget: float = 10.0  # wall clock for all upstream calls of one page
    session_lifetime: int = 1800
    # Secret keys used before PORTAL_SECRET_KEY, still accepted for sessions made with them.
    secret_key_fallbacks: tuple[str, ...] = field(default=(), repr=False)
    trusted_proxies: int = 0  # X-Forwarded-* hops to believe (Werkzeug's ProxyFix); 0: none
    upstream_proxies: UpstreamProxies = field(default_factory=UpstreamProxies)
    # Editor sign-in (issue 4): the organisation's IdP, configured apart from the citizens' one.
    # editor_oidc_issuer None means the editor area is switched off.
    editor_oidc_issuer: str | None = None
    editor_oidc_client_id: str = ""
    editor_oidc_client_secret: str = field(default="", repr=False)
    editor_oidc_scope: str = "openid"
    editor_libraries_claim: str = DEFAULT_EDITOR_LIBRARIES_CLAIM
    # Whose card payments an editor may review (same shape as the libraries claim, granted apart).
    editor_payments_claim: str = DEFAULT_EDITOR_PAYMENTS_CLAIM
    # The municipality's debtor-status API (issue 3); None: not configured, FBS data only.
    debtor_base_url: str | None = None
    debtor_api_key: str | None = field(default=None, repr=False)
    # DBC's FBI API (titles of the fees' materials, issue 9); None: not configured, item numbers only.
    fbi_base_url: str | None = None
    fbi_token: str | None = field(default=None, repr=False)
    # Nexi Checkout's API (card payment, issue 8); None: not configured. Keys are per library.
    nexi_base_url: str | None = None
    # DBC's FBS adapter (issue 10): FBS read with the borrower's Adgangsplatformen token, for the
    # libraries with fbs_access = "dbc_adapter" (checked at start-up); None: no library uses it.
    fbs_adapter_base_url: str | None = None
    # The payment task queue (Huey): sqlite:///file (default, beside a SQLite database), redis://…
    # when scaled out, memory:// for one process. "embedded": its worker runs in the portal's
    # process; "external": `flask payments worker` runs it (see docs/payments.md).
    queue_url: str = field(default="memory://", repr=False)
    queue_worker: str = "embedded"
    payment_retention_days: int = 90
    # Embedding in a library's CMS on another site (issue 10, docs/embedding.md): the session
    # cookie is then SameSite=None; Secure, so the browser sends it inside the cross-site iframe.
    embed_cross_site: bool = False
    # Rate limits per client address (portal.web.limits), in Flask-Limiter's notation.
    # Sign-in counts its start and its callback: 60 is 30 sign-ins a minute from one address
    # (a library's public network on reminder day).
    rate_limits: bool = True
    rate_limit_sign_in: str = "60 per minute"
    rate_limit_api: str = "120 per minute"
    rate_limit_webhook: str = "600 per minute"
    # Adgangsplatformen (DBC's login.bib.dk, issue 10), the second sign-in profile: plain OAuth 2,
    # the portal's client there. The client is required only when a library offers the profile
    # (checked at start-up with the libraries, portal.libraries._check_logins).
    adgangsplatformen_url: str = "https://login.bib.dk"
    adgangsplatformen_client_id: str = ""
    adgangsplatformen_client_secret: str = field(default="", repr=False)
    # Observability (issue 11, docs/observability.md): /metrics only with a bearer token (None: 404);
    # log lines as JSON ("json") or readable ("console"); the root log level; prometheus-client's
    # multi-process directory under gunicorn (None: the in-process registry).
    metrics_token: str | None = field(default=None, repr=False)
    log_format: str = "console"
    log_level: str = "INFO"
    metrics_multiproc_dir: str | None = None
    # Per upstream (issue 11, portal.providers.breakers): the circuit breaker opens after this many
    # failed calls in a row and tries one call again after breaker_reset seconds; at most
    # upstream_concurrency calls to one upstream in flight per process. 16: a process's 4 gunicorn
    # threads (GUNICORN_THREADS) each with a call or two in flight (the FBI titles go alongside FBS,
    # sign-in prefetches in the background) plus the embedded payment worker stay below it, so a
    # healthy burst is never refused; with more threads, set it to about half of them, so a
    # trickling upstream leaves the other half free for the pages that do not wait on it.
    breaker_failures: int = 5
    breaker_reset: float = 30.0
    upstream_concurrency: int = 16
    # Stale-if-error (issue 11, portal.services.stale): minutes a borrower's last shown overview is
    # shown again, marked, while FBS fails; 0: never.
    stale_minutes: int = 15
    # The environment as it was at start-up: libraries name their FBS credentials' variables.
    environment: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def secure(self) -> bool:
        """Served over HTTPS: cookies are Secure (only the demo and tests run on http://127.0.0.1)."""
        return self.base_url.startswith("https://")

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some fields replaced (tests and tools)."""
        return replace(self, **changes)  # type: ignore[arg-type]


def _required(env: Mapping[str, str], name: str, what: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name}: required ({what})")
    return value


def _secret(env: Mapping[str, str], name: str) -> str:
    value = _required(env, name, "set a long random value")
    if len(value) < MIN_SECRET_LENGTH:
        raise ConfigError(f"{name}: too short; use at least {MIN_SECRET_LENGTH} random characters")
    return value


def _secret_fallbacks(env: Mapping[str, str]) -> tuple[str, ...]:
    keys = tuple(env.get("PORTAL_SECRET_KEY_FALLBACKS", "").split())
    if any(len(key) < MIN_SECRET_LENGTH for key in keys):
        raise ConfigError(
            "PORTAL_SECRET_KEY_FALLBACKS: every key must have at least "
            f"{MIN_SECRET_LENGTH} characters (separate keys by spaces)"
        )
    return keys


def _base_url(env: Mapping[str, str]) -> str:
    value = _required(env, "PORTAL_BASE_URL", "the portal's public address, e.g. https://gebyr.example.dk")
    parsed = urlparse(value)
    secure = parsed.scheme == "https" or (parsed.scheme == "http" and parsed.hostname in LOOPBACK_HOSTS)
    if not secure or not parsed.netloc or parsed.query or parsed.fragment:
        raise ConfigError(
            f"PORTAL_BASE_URL: expected an https:// address without query (http:// only on this machine), got {value!r}"
        )
    return value.rstrip("/")


def _url(env: Mapping[str, str], name: str, what: str) -> str:
    value = _required(env, name, what)
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"{name}: expected an http(s) URL, got {value!r}")
    return value.rstrip("/")


def _number(
    env: Mapping[str, str], name: str, default: float, kind: type[int] | type[float], unit: str = "seconds"
) -> Any:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        label = f"a whole number of {unit}" if kind is int else f"a number of {unit}"
        raise ConfigError(f"{name}: expected {label}, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name}: must be greater than 0, got {value}")
    return value


def _proxies(env: Mapping[str, str]) -> int:
    raw = env.get("PORTAL_TRUSTED_PROXIES", "").strip() or "0"
    if not ascii_digits(raw) or int(raw) > 5:
        raise ConfigError(f"PORTAL_TRUSTED_PROXIES: expected the number of proxies in front (0-5), got {raw!r}")
    return int(raw)


def _first_set(env: Mapping[str, str], *names: str) -> tuple[str, str] | None:
    """(name, value) of the first of `names` set to something, or None."""
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return name, value
    return None


def _upstream_proxies(env: Mapping[str, str]) -> UpstreamProxies:
    fallback = _first_set(env, "all_proxy", "ALL_PROXY")
    proxies: dict[str, str | None] = {}
    for scheme in ("http", "https"):
        found = _first_set(env, f"{scheme}_proxy", f"{scheme.upper()}_PROXY") or fallback
        proxies[scheme] = None if found is None else _proxy_url(*found)
    no_proxy = _first_set(env, "no_proxy", "NO_PROXY")
    return UpstreamProxies(proxies["http"], proxies["https"], no_proxy[1] if no_proxy else "")


def _proxy_url(name: str, value: str) -> str:
    # No scheme ("proxy:3128") means http://, as curl and requests read it.
    value = value if "://" in value else f"http://{value}"
    try:
        parsed = urlparse(value)
        valid = parsed.scheme in ("http", "https") and bool(parsed.hostname) and parsed.port != 0
    except ValueError:  # a bad port or bracketed host
        raise ConfigError(f"{name}: not a proxy URL (host or port unreadable)") from None
    if not valid:
        shown = f"{parsed.scheme}://{parsed.hostname or ''}"  # never the password it may carry
        raise ConfigError(f"{name}: expected an http:// or https:// proxy URL, got {shown!r}")
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


def _libraries_file(env: Mapping[str, str]) -> Path | None:
    raw = env.get("PORTAL_LIBRARIES_FILE", "").strip()
    if not raw:
        return None
    path = Path(raw)
    if not path.is_file():
        raise ConfigError(f"PORTAL_LIBRARIES_FILE: no such file: {raw}")
    return path


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate all PORTAL_* variables; raise ConfigError on the first bad one."""
    env = dict(os.environ if env is None else env)
    return Settings(
        secret_key=_secret(env, "PORTAL_SECRET_KEY"),
        secret_key_fallbacks=_secret_fallbacks(env),
        base_url=_base_url(env),
        database_url=_database_url(env),
        cache_url=_cache_url(env),
        cache_ttl=_number(env, "PORTAL_CACHE_TTL", 60, int),
        oidc_issuer=_url(env, "PORTAL_OIDC_ISSUER", "the citizens' OpenID Connect issuer"),
        oidc_client_id=_required(env, "PORTAL_OIDC_CLIENT_ID", "the portal's client at the citizens' IdP"),
        oidc_client_secret=_required(env, "PORTAL_OIDC_CLIENT_SECRET", "the secret of that client"),
        oidc_scope=_scope(env),
        oidc_cpr_claim=env.get("PORTAL_OIDC_CPR_CLAIM", "").strip() or "cpr",
        fbs_base_url=_url(env, "PORTAL_FBS_BASE_URL", "FBS's external API"),
        fbs_username=_required(env, "PORTAL_FBS_USERNAME", "the portal's FBS client login"),
        fbs_password=_required(env, "PORTAL_FBS_PASSWORD", "the password of that login"),
        libraries_file=_libraries_file(env),
        http_timeout=_number(env, "PORTAL_HTTP_TIMEOUT", 5.0, float),
        upstream_deadline=_number(env, "PORTAL_UPSTREAM_DEADLINE", 8.0, float),
        page_budget=_number(env, "PORTAL_PAGE_BUDGET", 10.0, float),
        session_lifetime=_number(env, "PORTAL_SESSION_LIFETIME", 1800, int),
        trusted_proxies=_proxies(env),
        upstream_proxies=_upstream_proxies(env),
        environment=env,
        nexi_base_url=_nexi_base_url(env),
        embed_cross_site=_embed_cross_site(env),
        **_rate_limit_settings(env),
        **_queue_settings(env),
        **_debtor_settings(env),
        **_fbi_settings(env),
        **_fbs_adapter_settings(env),
        **_adgangsplatformen_settings(env),
        **_editor_settings(env),
        **_observability_settings(env),
        **_breaker_settings(env),
        stale_minutes=_stale_minutes(env),
    )


def _stale_minutes(env: Mapping[str, str]) -> int:
    """PORTAL_STALE_MINUTES: 0 turns stale-if-error off, so unlike `_number` it may be 0."""
    raw = env.get("PORTAL_STALE_MINUTES", "").strip() or "15"
    if not ascii_digits(raw) or int(raw) > 24 * 60:
        raise ConfigError(f"PORTAL_STALE_MINUTES: expected a whole number of minutes (0-1440; 0: off), got {raw!r}")
    return int(raw)


def _breaker_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The upstreams' circuit breakers and concurrency limit (portal.providers.breakers)."""
    return {
        "breaker_failures": _number(env, "PORTAL_BREAKER_FAILURES", 5, int, "failed calls"),
        "breaker_reset": _number(env, "PORTAL_BREAKER_RESET", 30.0, float),
        "upstream_concurrency": _number(env, "PORTAL_UPSTREAM_CONCURRENCY", 16, int, "calls"),
    }


def _rate_limit_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """PORTAL_RATE_LIMITS (on/off) and the limits, each checked as Flask-Limiter will read it."""
    from limits import parse_many

    raw = env.get("PORTAL_RATE_LIMITS", "").strip().lower() or "on"
    if raw not in ("on", "off"):
        raise ConfigError(f"PORTAL_RATE_LIMITS: expected on or off, got {raw!r}")
    found: dict[str, Any] = {"rate_limits": raw == "on"}
    for name in ("sign_in", "api", "webhook"):
        variable = f"PORTAL_RATE_LIMIT_{name.upper()}"
        value = env.get(variable, "").strip() or getattr(Settings, f"rate_limit_{name}")
        try:
            parse_many(value)
        except ValueError:
            raise ConfigError(f"{variable}: not a rate limit like '30 per minute', got {value!r}") from None
        found[f"rate_limit_{name}"] = value
    return found


def _embed_cross_site(env: Mapping[str, str]) -> bool:
    """PORTAL_EMBED_CROSS_SITE: 1 when a library's CMS on another site embeds the page (docs/embedding.md)."""
    raw = env.get("PORTAL_EMBED_CROSS_SITE", "").strip() or "0"
    if raw not in ("0", "1"):
        raise ConfigError(f"PORTAL_EMBED_CROSS_SITE: expected 1 or 0, got {raw!r}")
    return raw == "1"


def _scope(env: Mapping[str, str], name: str = "PORTAL_OIDC_SCOPE") -> str:
    scope = " ".join(env.get(name, "").split()) or "openid"
    if "openid" not in scope.split():
        raise ConfigError(f"{name}: must include 'openid', got {scope!r}")
    return scope


def _editor_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The editor area's sign-in, only when PORTAL_EDITOR_OIDC_ISSUER is set."""
    if not env.get("PORTAL_EDITOR_OIDC_ISSUER", "").strip():
        return {}
    # A real IdP: guessing a client would only fail later, at the first editor's sign-in.
    with_issuer = "required with PORTAL_EDITOR_OIDC_ISSUER"
    return {
        "editor_oidc_issuer": _url(env, "PORTAL_EDITOR_OIDC_ISSUER", "the editors' OpenID Connect issuer"),
        "editor_oidc_client_id": _required(env, "PORTAL_EDITOR_OIDC_CLIENT_ID", with_issuer),
        "editor_oidc_client_secret": _required(env, "PORTAL_EDITOR_OIDC_CLIENT_SECRET", with_issuer),
        "editor_oidc_scope": _scope(env, "PORTAL_EDITOR_OIDC_SCOPE"),
        "editor_libraries_claim": env.get("PORTAL_EDITOR_LIBRARIES_CLAIM", "").strip()
        or DEFAULT_EDITOR_LIBRARIES_CLAIM,
        "editor_payments_claim": env.get("PORTAL_EDITOR_PAYMENTS_CLAIM", "").strip() or DEFAULT_EDITOR_PAYMENTS_CLAIM,
    }


def _https_url(env: Mapping[str, str], name: str, what: str, why: str) -> str:
    """An http(s) URL that is https:// unless it points at this machine."""
    url = _url(env, name, what)
    if urlparse(url).scheme != "https" and urlparse(url).hostname not in LOOPBACK_HOSTS:
        raise ConfigError(f"{name}: must be https:// ({why}), got {url!r}")
    return url


def _nexi_base_url(env: Mapping[str, str]) -> str | None:
    """Nexi Checkout's API base URL, or None when PORTAL_NEXI_BASE_URL is unset."""
    if not env.get("PORTAL_NEXI_BASE_URL", "").strip():
        return None
    return _https_url(env, "PORTAL_NEXI_BASE_URL", "Nexi Checkout's API", "payments and secret keys are sent")


def _queue_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """Where card payments' background work queues, who runs it, how long finished orders stay."""
    url = env.get("PORTAL_QUEUE_URL", "").strip()
    if not url:
        database = _database_url(env)
        if not database.startswith("sqlite:///") or database == "sqlite:///:memory:":
            if env.get("PORTAL_NEXI_BASE_URL", "").strip():
                raise ConfigError("PORTAL_QUEUE_URL: required with card payment on this database (redis://…)")
            url = "memory://"
        else:
            url = f"{database}.queue"
    elif urlparse(url).scheme not in ("sqlite", "redis", "rediss", "unix", "memory"):
        raise ConfigError(f"PORTAL_QUEUE_URL: expected sqlite:///…, redis://… or memory://, got {url!r}")
    worker = env.get("PORTAL_QUEUE_WORKER", "").strip() or "embedded"
    if worker not in ("embedded", "external"):
        raise ConfigError(f"PORTAL_QUEUE_WORKER: expected 'embedded' or 'external', got {worker!r}")
    return {
        "queue_url": url,
        "queue_worker": worker,
        "payment_retention_days": _number(env, "PORTAL_PAYMENT_RETENTION_DAYS", 90, int, "days"),
    }


def _debtor_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The debtor-status API, only when PORTAL_DEBTOR_BASE_URL is set."""
    url = env.get("PORTAL_DEBTOR_BASE_URL", "").strip()
    key = env.get("PORTAL_DEBTOR_API_KEY", "").strip()
    if not url:
        if key:
            raise ConfigError("PORTAL_DEBTOR_API_KEY: set PORTAL_DEBTOR_BASE_URL too, or remove the key")
        return {}
    # Every call carries a CPR number in its body: plain HTTP only on this machine.
    url = _https_url(env, "PORTAL_DEBTOR_BASE_URL", "the debtor-status API", "CPR numbers are sent")
    if not key:
        raise ConfigError("PORTAL_DEBTOR_API_KEY: required with PORTAL_DEBTOR_BASE_URL")
    return {"debtor_base_url": url, "debtor_api_key": key}


def _fbi_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """DBC's FBI API (bibliographic data), only when PORTAL_FBI_BASE_URL is set; both or neither."""
    url = env.get("PORTAL_FBI_BASE_URL", "").strip()
    token = env.get("PORTAL_FBI_TOKEN", "").strip()
    if not url:
        if token:
            raise ConfigError("PORTAL_FBI_TOKEN: set PORTAL_FBI_BASE_URL too, or remove the token")
        return {}
    # The library's token travels in every request: plain HTTP only on this machine.
    url = _https_url(
        env, "PORTAL_FBI_BASE_URL", "DBC's FBI API, e.g. https://fbi-api.dbc.dk/<profile>", "a token is sent"
    )
    if not token:
        raise ConfigError("PORTAL_FBI_TOKEN: required with PORTAL_FBI_BASE_URL")
    return {"fbi_base_url": url, "fbi_token": token}


def _fbs_adapter_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """DBC's FBS adapter, only when PORTAL_FBS_ADAPTER_BASE_URL is set (e.g. https://fbs-openplatform.dbc.dk)."""
    if not env.get("PORTAL_FBS_ADAPTER_BASE_URL", "").strip():
        return {}
    # Every call carries a borrower's user token: plain HTTP only on this machine.
    url = _https_url(env, "PORTAL_FBS_ADAPTER_BASE_URL", "DBC's FBS adapter", "borrowers' tokens are sent")
    return {"fbs_adapter_base_url": url.rstrip("/")}


def _adgangsplatformen_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """Adgangsplatformen's address and the portal's client there (both or neither of id and secret)."""
    url = "https://login.bib.dk"
    if env.get("PORTAL_ADGANGSPLATFORMEN_URL", "").strip():
        # Codes, the client secret and user tokens travel here: plain HTTP only on this machine.
        url = _https_url(env, "PORTAL_ADGANGSPLATFORMEN_URL", "Adgangsplatformen", "tokens are sent")
    client_id = env.get("PORTAL_ADGANGSPLATFORMEN_CLIENT_ID", "").strip()
    secret = env.get("PORTAL_ADGANGSPLATFORMEN_CLIENT_SECRET", "").strip()
    if bool(client_id) != bool(secret):
        missing = "PORTAL_ADGANGSPLATFORMEN_CLIENT_SECRET" if client_id else "PORTAL_ADGANGSPLATFORMEN_CLIENT_ID"
        raise ConfigError(f"{missing}: set both the client id and its secret at Adgangsplatformen, or neither")
    return {
        "adgangsplatformen_url": url,
        "adgangsplatformen_client_id": client_id,
        "adgangsplatformen_client_secret": secret,
    }


# -- observability (issue 11) -------------------------------------------------------------------

_LOG_FORMATS = ("console", "json")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _observability_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """PORTAL_METRICS_TOKEN, PORTAL_LOG_FORMAT, PORTAL_LOG_LEVEL and prometheus-client's PROMETHEUS_MULTIPROC_DIR."""
    token = env.get("PORTAL_METRICS_TOKEN", "").strip()
    if token and len(token) < MIN_SECRET_LENGTH:
        raise ConfigError(f"PORTAL_METRICS_TOKEN: too short; use at least {MIN_SECRET_LENGTH} random characters")
    log_format = env.get("PORTAL_LOG_FORMAT", "").strip().lower() or "console"
    if log_format not in _LOG_FORMATS:
        raise ConfigError(f"PORTAL_LOG_FORMAT: expected 'json' or 'console', got {log_format!r}")
    log_level = env.get("PORTAL_LOG_LEVEL", "").strip().upper() or "INFO"
    if log_level not in _LOG_LEVELS:
        raise ConfigError(f"PORTAL_LOG_LEVEL: expected one of {', '.join(_LOG_LEVELS)}, got {log_level!r}")
    multiproc_dir = env.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    if multiproc_dir and not Path(multiproc_dir).is_dir():
        raise ConfigError(f"PROMETHEUS_MULTIPROC_DIR: no such directory: {multiproc_dir}")
    return {
        "metrics_token": token or None,
        "log_format": log_format,
        "log_level": log_level,
        "metrics_multiproc_dir": multiproc_dir or None,
    }
