"""in_background: the call runs in another thread, with the caller's Flask app context."""

from __future__ import annotations

import threading

import pytest
from flask import Flask, current_app

from portal.services.background import in_background


def test_runs_in_another_thread_with_the_app_context() -> None:
    app = Flask("background-test")
    with app.app_context():
        future = in_background(lambda: (current_app.name, threading.current_thread().name))
        name, thread = future.result(timeout=5)
    assert name == "background-test"
    assert thread != threading.current_thread().name and thread.startswith("portal-background")


def test_exceptions_reach_the_caller() -> None:
    def fail() -> None:
        raise LookupError("boom")

    with pytest.raises(LookupError, match="boom"):
        in_background(fail).result(timeout=5)
