"""The shipped gunicorn configuration is valid for gunicorn and follows its variables."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from portal.config import PROJECT_ROOT
from tests.support.settings import REQUIRED

CONF = PROJECT_ROOT / "gunicorn.conf.py"


def test_gunicorn_accepts_the_file_and_loads_the_portal(tmp_path: Path) -> None:
    # --check-config reads the configuration and loads the app: a bad setting fails here.
    env = {**REQUIRED, "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite3'}", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--check-config", "-c", str(CONF), "portal:create_app()"],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_the_variables_set_the_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "8")
    monkeypatch.setenv("GUNICORN_THREADS", "16")
    values = runpy.run_path(str(CONF))
    assert (values["workers"], values["threads"], values["worker_class"]) == (8, 16, "gthread")
    assert values["accesslog"] is None  # the portal logs requests itself, with their id


def test_a_dead_worker_is_marked_for_the_multi_process_metrics(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    marked: list[Any] = []
    from prometheus_client import multiprocess

    monkeypatch.setattr(multiprocess, "mark_process_dead", marked.append)
    values = runpy.run_path(str(CONF))
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    values["child_exit"](None, SimpleNamespace(pid=41))
    assert marked == []  # single-process metrics: nothing to mark
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    values["child_exit"](None, SimpleNamespace(pid=42))
    assert marked == [42]


def test_a_new_run_starts_the_multi_process_metrics_afresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "counter_123.db").write_bytes(b"old")
    (tmp_path / "keep.txt").write_text("not ours")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    runpy.run_path(str(CONF))["on_starting"](None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]
