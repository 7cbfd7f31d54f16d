"""Static files served by WhiteNoise in front of Flask, and `asset_url()` for templates (docs/static-files.md).

WhiteNoise serves everything in static/ itself (Flask's static view stays only for `url_for`, and for
a path WhiteNoise does not know, which Flask answers 404). The built, content-hashed files
(portal.web.assets) are cached for a year, `immutable`; every other file, `js/embed.js` above all
(CMS pages paste that URL), for `UNHASHED_MAX_AGE` seconds. WhiteNoise sends the `.br` or `.gz`
copy the request's Accept-Encoding allows.

The layer sits inside the security-headers layer (portal.web.security), so static answers get
nosniff, the CSP and Referrer-Policy too, while keeping their own Cache-Control.
"""

from __future__ import annotations

import re
import sys
from typing import Any
from wsgiref.headers import Headers

from flask import Flask, current_app, url_for
from markupsafe import Markup, escape

# No stubs, and pyproject.toml's list of untyped modules is not this module's to change.
from whitenoise import WhiteNoise  # type: ignore[import-untyped]

from portal.web.assets import BUILD_NAME, HASH_LENGTH, STATIC_DIR, BuildError, Built, load_build

BUILT_KEY = "portal.static_build"  # app.extensions key: the portal.web.assets.Built of the last build
# Short: a CMS page's copy of embed.js or an old page's unhashed link sees a change within minutes.
UNHASHED_MAX_AGE = 300
IMMUTABLE = "public, max-age=31536000, immutable"
HASHED = re.compile(rf"\.[0-9a-f]{{{HASH_LENGTH}}}\.[^./]+$")


def _built() -> Built:
    built: Built = current_app.extensions[BUILT_KEY]
    return built


def asset_url(name: str) -> str:
    """The URL of a built asset by its logical name (`site.css`); KeyError if unknown."""
    return url_for("static", filename=_built().manifest[name])


def asset_data_url(name: str) -> str:
    """A small file written into the page (`favicon.svg`) as a data: URL."""
    return _built().data_urls[name]


def icon(name: str, extra_class: str = "") -> Markup:
    """DKFDS's icon `name` as inline SVG, decorative (no request for the sprite; KeyError if unknown)."""
    view_box, body = _built().icons[name]
    classes = f"icon-svg {extra_class}".strip()
    # The body is the vendored sprite's own markup (built by portal.web.assets), not user input.
    return Markup(
        f'<svg class="{escape(classes)}" viewBox="{escape(view_box)}" aria-hidden="true" focusable="false">{body}</svg>'
    )


def init_app(app: Flask) -> None:
    """Load the last build (stop start-up when there is none) and put WhiteNoise in front of Flask.

    Call it before portal.web.security wraps the app, so the headers layer is outside this one.
    """
    try:
        built = load_build()
    except BuildError as exc:
        # A missing build is a set-up mistake: pages without their stylesheet must not go out.
        print(f"gebyrportal: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    app.extensions[BUILT_KEY] = built
    for helper in (asset_url, asset_data_url, icon):
        app.add_template_global(helper)
    prefix = app.static_url_path or "/static"
    build_prefix = f"{prefix}/{BUILD_NAME}/"

    def cache_for_ever(headers: Headers, path: str, url: str) -> None:
        # A content-hashed name of the build: a changed file is a new URL. (manifest.json and
        # inline.json are not hashed.)
        if url.startswith(build_prefix) and HASHED.search(url):
            headers["Cache-Control"] = IMMUTABLE

    # Unhashed files (embed.js, the sources) keep a short cache. No Access-Control-Allow-Origin:
    # no other site's page loads the portal's files by CORS (a CMS's <script src> needs none).
    static: Any = WhiteNoise(
        app.wsgi_app,
        root=str(STATIC_DIR),
        prefix=prefix,
        max_age=UNHASHED_MAX_AGE,
        allow_all_origins=False,
        add_headers_function=cache_for_ever,
    )
    app.wsgi_app = static  # type: ignore[method-assign]
