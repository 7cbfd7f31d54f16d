"""/metrics: only with the token; request latency by url rule, upstream calls by provider, payment states."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY

from portal.config import ConfigError, load_settings
from portal.devtools.demo_data import CITIZENS
from portal.observability import metrics
from tests.observability.conftest import METRICS_TOKEN
from tests.support.login import http_login
from tests.support.settings import REQUIRED
from tests.support.stack import Stack

AUTH = {"Authorization": f"Bearer {METRICS_TOKEN}"}


def _scrape(stack: Stack) -> str:
    answer = httpx.get(f"{stack.url}/metrics", headers=AUTH)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return answer.text


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": f"Basic {METRICS_TOKEN}"}],
)
def test_metrics_are_hidden_without_the_token(stack: Stack, headers: dict[str, str]) -> None:
    assert httpx.get(f"{stack.url}/metrics", headers=headers).status_code == 404


def test_metrics_do_not_exist_when_no_token_is_configured(tmp_path: Path) -> None:
    from portal import create_app
    from tests.support.settings import test_settings

    app = create_app(test_settings(PORTAL_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}"))
    assert app.test_client().get("/metrics", headers=AUTH).status_code == 404


def test_request_latency_is_labelled_by_url_rule_never_by_path(stack: Stack) -> None:
    assert httpx.get(f"{stack.url}/lyngby/").status_code == 200
    assert httpx.get(f"{stack.url}/no-such-page/at/all").status_code == 404
    text = _scrape(stack)
    assert 'route="/<slug:slug>/"' in text
    assert 'route="unmatched"' in text
    assert "/lyngby/" not in text
    assert "no-such-page" not in text
    assert 'status_class="2xx"' in text


def test_upstream_calls_and_errors_are_counted_by_provider(stack: Stack) -> None:
    with httpx.Client(timeout=10) as client:
        http_login(client, stack.url, CITIZENS[0].sub)
        cache = stack.app.extensions["portal.upstreams"].cache
        calls = _sample("portal_upstream_request_duration_seconds_count", provider="fbs", outcome="2xx")
        errors = _sample("portal_upstream_errors_total", provider="fbs", kind="5xx")
        stack.fbs_state.fail_next(1, status=500, endpoint="fees")
        cache.forget_patrons({"DK-717300": 1001})
        client.get(f"{stack.url}/lyngby/")
    assert _sample("portal_upstream_errors_total", provider="fbs", kind="5xx") == errors + 1
    assert _sample("portal_upstream_request_duration_seconds_count", provider="fbs", outcome="2xx") >= calls
    text = _scrape(stack)
    assert 'portal_upstream_request_duration_seconds_count{outcome="5xx",provider="fbs"}' in text
    assert 'provider="debtor"' in text


def test_payment_orders_are_counted_by_state(stack: Stack) -> None:
    text = _scrape(stack)
    assert 'portal_payment_orders{state="completed"} 0.0' in text
    assert 'portal_payment_orders{state="needs_review"} 0.0' in text


def test_cache_hits_and_misses() -> None:
    hits = _sample("portal_cache_lookups_total", provider="fbs", result="hit")
    metrics.record_cache("fbs", True)
    metrics.record_cache("fbs", False)
    assert _sample("portal_cache_lookups_total", provider="fbs", result="hit") == hits + 1


def test_single_flight_roles_and_breaker_states() -> None:
    led = _sample("portal_single_flight_total", provider="fbs", role="led")
    metrics.record_single_flight("fbs", "led")
    assert _sample("portal_single_flight_total", provider="fbs", role="led") == led + 1
    metrics.set_breaker_state("fbs", "open")
    assert _sample("portal_breaker_state", provider="fbs") == 2
    metrics.set_breaker_state("fbs", "closed")
    assert _sample("portal_breaker_state", provider="fbs") == 0


def test_an_unknown_base_url_is_labelled_other() -> None:
    metrics.register_upstream("http://fbs.example/api", "fbs")
    assert metrics.provider_for("http://fbs.example/api/") == "fbs"
    assert metrics.provider_for("http://fbs.example/api/external") == "fbs"
    assert metrics.provider_for("http://fbs.example/apix") == "other"


_WORKER = """
import sys
from portal.observability import metrics
metrics.record_request("/<slug:slug>/", "GET", 200, 0.01)
metrics.record_cache("debtor", hit=True)
"""
_SCRAPE = """
import sys
from portal.observability import metrics
sys.stdout.write(metrics.exposition(sys.argv[1]).decode())
"""


def test_multiprocess_mode_adds_up_every_worker(tmp_path: Path) -> None:
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    for _worker in range(2):
        subprocess.run([sys.executable, "-c", _WORKER], env=env, check=True, cwd=Path(__file__).parents[2])
    scraped = subprocess.run(
        [sys.executable, "-c", _SCRAPE, str(tmp_path)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
    ).stdout
    assert 'portal_cache_lookups_total{provider="debtor",result="hit"} 2.0' in scraped
    assert 'portal_http_request_duration_seconds_count{method="GET",route="/<slug:slug>/",status_class="2xx"} 2.0' in (
        scraped
    )


def test_a_short_metrics_token_stops_start_up() -> None:
    with pytest.raises(ConfigError, match="PORTAL_METRICS_TOKEN"):
        load_settings({**REQUIRED, "PORTAL_METRICS_TOKEN": "short"})


def test_a_missing_multiprocess_directory_stops_start_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PROMETHEUS_MULTIPROC_DIR"):
        load_settings({**REQUIRED, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "missing")})
