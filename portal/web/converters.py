"""URL converters: `<slug:slug>` matches only what a library slug can be."""

from __future__ import annotations

from werkzeug.routing import BaseConverter


class SlugConverter(BaseConverter):
    """A library slug (the TOML loader's rule), so /favicon.ico or /static/… never look like a library."""

    regex = r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?"
