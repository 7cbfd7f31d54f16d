"""The editor area's blueprint; every route is under /editor/ and passes `guard.guard` first."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("editor", __name__, url_prefix="/editor")
