"""Gebyrportal: one page where a library borrower sees (and pays) all their debts."""

from __future__ import annotations

import logging
import sys

from flask import Flask
from jinja2 import StrictUndefined
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.config import INSTANCE_DIR, PROJECT_ROOT, ConfigError, Settings, load_settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> Flask:
    """Build the portal from `settings` (default: the PORTAL_* environment variables).

    A bad configuration stops start-up with one line naming the variable.
    """
    if settings is None:
        try:
            settings = load_settings()
        except ConfigError as exc:
            print(f"gebyrportal: configuration error: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(INSTANCE_DIR),
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SECRET_KEY_FALLBACKS=list(settings.secret_key_fallbacks),
        PORTAL_SETTINGS=settings,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure,
        SESSION_COOKIE_NAME="gebyrportal_session",
        PERMANENT_SESSION_LIFETIME=settings.session_lifetime,
    )
    # A misspelt or missing template variable is an error, never an empty string on a page about money.
    app.jinja_env.undefined = StrictUndefined
    from portal.web.converters import RowIdConverter, SlugConverter

    app.url_map.converters["slug"] = SlugConverter
    app.url_map.converters["rowid"] = RowIdConverter
    from portal.web.static_files import init_app as init_static_files

    init_static_files(app)  # WhiteNoise first: the security-headers layer (init_web) wraps it too
    _init_extensions(app)
    if settings.trusted_proxies:
        # Opt-in, outermost: only behind that many proxies are X-Forwarded-For/-Proto/-Host true,
        # and the headers layer (portal.web.security) sees the scheme the browser used.
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    return app


def _init_extensions(app: Flask) -> None:
    # Imports are local so that `portal.config` and the domain stay importable
    # without pulling in every extension.
    from portal import db, i18n, kvstore
    from portal.auth import init_app as init_auth
    from portal.editor import init_app as init_editor
    from portal.libraries import init_app as init_libraries
    from portal.observability.setup import init_app as init_observability
    from portal.payments.setup import init_app as init_payments
    from portal.providers.setup import init_app as init_providers
    from portal.web import init_app as init_web

    init_observability(app)  # first: logging is set up before anything logs
    db.init_app(app)
    kvstore.init_app(app)
    i18n.init_app(app)
    init_libraries(app)
    init_providers(app)
    init_payments(app)
    init_auth(app)
    init_web(app)
    init_editor(app)
