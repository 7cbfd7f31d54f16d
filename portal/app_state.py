"""One object per Flask app, made on first use: per-worker state that needs no start-up step."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from flask import Flask, current_app
from werkzeug.local import LocalProxy

T = TypeVar("T")


def per_app(key: str, kind: type[T], make: Callable[[], T], app: Flask | None = None) -> T:
    """`app.extensions[key]` (the current app when None), made with `make` the first time.

    `setdefault` keeps the first of two threads' objects, so both use the same one.
    """
    if app is None:
        app = cast("LocalProxy[Flask]", current_app)._get_current_object()
    found = app.extensions.get(key)
    if found is None:
        found = app.extensions.setdefault(key, make())
    assert isinstance(found, kind)
    return found
