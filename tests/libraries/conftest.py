"""Fixtures for the libraries tests: a portal on a temp SQLite DB, TOML files in tmp_path."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
from flask import Flask

from portal import create_app
from portal.config import load_settings


@pytest.fixture
def write_toml(tmp_path: Path) -> Callable[..., Path]:
    """Write TOML text to a file in tmp_path and return its path."""
    def write(text: str, name: str = "libraries.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path
    return write


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., Flask]:
    """A non-demo portal on tmp_path/t.db; optionally with PORTAL_LIBRARIES_FILE."""
    def make(libraries_file: Path | None = None) -> Flask:
        env = {"PORTAL_DATABASE_URL": f"sqlite:///{tmp_path}/t.db",
               "PORTAL_OIDC_ISSUER": "http://127.0.0.1:9",
               "PORTAL_FBS_BASE_URL": "http://127.0.0.1:9",
               "PORTAL_SECRET_KEY": "x" * 32}
        if libraries_file is not None:
            env["PORTAL_LIBRARIES_FILE"] = str(libraries_file)
        return create_app(load_settings(env))
    return make


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()
