"""URL converters: `<slug:slug>` matches only what a library slug can be, `<rowid:…>` only a row number."""

from __future__ import annotations

from werkzeug.routing import BaseConverter, IntegerConverter, Map


class SlugConverter(BaseConverter):
    """A library slug (the TOML loader's rule), so /favicon.ico or /static/… never look like a library."""

    regex = r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?"


class RowIdConverter(IntegerConverter):
    """A database row's number, 1 to 2⁶³ − 1 (SQL's BIGINT): a longer one is a 404, never an overflow in the query."""

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=2**63 - 1)
