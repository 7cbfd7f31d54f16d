"""/healthz answers without touching anything; /readyz checks every dependency, and says which failed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from portal import create_app
from portal.observability.readiness import Check, Readiness
from tests.support.live import start_live_server
from tests.support.settings import test_settings
from tests.support.stack import Stack


def test_healthz_needs_no_dependency(tmp_path: Any) -> None:
    # FBS and the IdP point at a closed port: alive all the same.
    app = create_app(test_settings(PORTAL_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}"))
    answer = app.test_client().get("/healthz")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok"}


def test_readyz_lists_every_dependency_with_its_latency(stack: Stack) -> None:
    answer = httpx.get(f"{stack.url}/readyz")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["status"] == "ok"
    assert set(report["checks"]) == {"database", "cache", "fbs", "debtor"}
    for name, check in report["checks"].items():
        assert check["status"] == "ok", name
        assert isinstance(check["latency_ms"], int | float)
    assert report["checks"]["fbs"]["required"] is True
    assert report["checks"]["debtor"]["required"] is False


def test_readyz_fails_when_fbs_cannot_be_reached(tmp_path: Any) -> None:
    app = create_app(test_settings(PORTAL_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}"))
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    report = answer.get_json()
    assert report["status"] == "fail"
    assert report["checks"]["fbs"]["status"] == "fail"
    assert report["checks"]["fbs"]["error"] == "ConnectError"
    assert report["checks"]["database"]["status"] == "ok"


def _answering(status: int) -> Callable[..., Any]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response(f"{status} Whatever", [("Content-Type", "text/plain")])
        return [b"-"]

    return app


@pytest.mark.parametrize(("status", "expected"), [(404, "ok"), (401, "ok"), (503, "fail")])
def test_an_upstream_answering_below_500_is_reachable(tmp_path: Any, status: int, expected: str) -> None:
    server = start_live_server(_answering(status))
    try:
        app = create_app(
            test_settings(PORTAL_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", PORTAL_FBS_BASE_URL=server.url)
        )
        report = app.test_client().get("/readyz").get_json()
    finally:
        server.stop()
    assert report["checks"]["fbs"]["status"] == expected


def test_an_optional_upstream_down_is_degraded_not_unready(tmp_path: Any) -> None:
    fbs = start_live_server(_answering(404))
    try:
        settings = test_settings(
            PORTAL_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
            PORTAL_FBS_BASE_URL=fbs.url,
            PORTAL_DEBTOR_BASE_URL="http://127.0.0.1:9",
            PORTAL_DEBTOR_API_KEY="debtor-key",
        )
        answer = create_app(settings).test_client().get("/readyz")
    finally:
        fbs.stop()
    assert answer.status_code == 200
    report = answer.get_json()
    assert report["status"] == "degraded"
    assert report["checks"]["debtor"]["status"] == "fail"
    assert report["checks"]["fbs"]["status"] == "ok"


def _probe(calls: list[str], name: str, ok: bool = True) -> Check:
    def probe() -> None:
        calls.append(name)
        if not ok:
            raise OSError("down")

    return Check(name, name == "required", probe)


def test_the_rule_required_fails_optional_degrades() -> None:
    calls: list[str] = []
    assert Readiness([_probe(calls, "required"), _probe(calls, "optional")]).report()["status"] == "ok"
    assert Readiness([_probe(calls, "required"), _probe(calls, "optional", False)]).report()["status"] == "degraded"
    assert Readiness([_probe(calls, "required", False), _probe(calls, "optional")]).report()["status"] == "fail"


def test_the_answer_is_kept_for_a_while_so_polling_cannot_load_upstreams() -> None:
    calls: list[str] = []
    kept = Readiness([_probe(calls, "required")], cache_seconds=3600)
    first = kept.report()
    assert kept.report() is first
    assert calls == ["required"]
    fresh = Readiness([_probe(calls, "required")], cache_seconds=0)
    fresh.report()
    fresh.report()
    assert calls == ["required"] * 3
