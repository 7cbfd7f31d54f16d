"""Fixtures: an FBS simulator on a real loopback port, real clients talking HTTP to it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from flask import Flask, request

import portal.kvstore
from portal.config import Settings
from portal.devtools import debtor_sim, fbi_sim, nexi_sim
from portal.devtools.demo import DEV_FBS_PASSWORD, DEV_FBS_USERNAME
from portal.devtools.demo_data import LYNGBY
from portal.devtools.fbs_sim import SimState, start_fbs_sim, stop_fbs_sim
from portal.devtools.simulators import serve_in_thread
from portal.providers import setup
from portal.providers.cache import CachedDebtor, CachedFbs
from portal.providers.credentials import FbsLogin
from portal.providers.fbs import FbsClient, SessionKeyStore
from portal.providers.http import make_timeout
from portal.providers.nexi import NexiClient
from tests.support.settings import test_settings


@pytest.fixture
def sim_state() -> SimState:
    return SimState()


@pytest.fixture
def sim_url(sim_state: SimState) -> Iterator[str]:
    server = start_fbs_sim("127.0.0.1", 0, sim_state)
    yield f"http://127.0.0.1:{server.port}"
    stop_fbs_sim(server)


# The debtor simulator, beside FBS's: its own state type, so its own fixtures.
@pytest.fixture
def debtor_state() -> debtor_sim.SimState:
    return debtor_sim.SimState()


@pytest.fixture
def debtor_url(debtor_state: debtor_sim.SimState) -> Iterator[str]:
    server = debtor_sim.start_debtor_sim("127.0.0.1", 0, debtor_state)
    yield f"http://127.0.0.1:{server.port}"
    debtor_sim.stop_debtor_sim(server)


# The FBI simulator (titles by FAUST number).
@pytest.fixture
def fbi_state() -> fbi_sim.SimState:
    return fbi_sim.SimState()


@pytest.fixture
def fbi_url(fbi_state: fbi_sim.SimState) -> Iterator[str]:
    server = fbi_sim.start_fbi_sim("127.0.0.1", 0, fbi_state)
    # A search profile in the path, as the real service has.
    yield f"http://127.0.0.1:{server.port}/775100/next"
    fbi_sim.stop_fbi_sim(server)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=make_timeout(3.0)) as client:
        yield client


@pytest.fixture
def sessions() -> SessionKeyStore:
    return SessionKeyStore()


MakeFbs = Callable[..., FbsClient]


@pytest.fixture
def make_fbs(http: httpx.Client, sim_url: str, sessions: SessionKeyStore) -> MakeFbs:
    def make(
        agency: str = LYNGBY,
        username: str = DEV_FBS_USERNAME,
        password: str = DEV_FBS_PASSWORD,
        *,
        client: httpx.Client | None = None,
        base_url: str | None = None,
        store: SessionKeyStore | None = None,
    ) -> FbsClient:
        return FbsClient(client or http, base_url or sim_url, agency, username, password, store or sessions)

    return make


@pytest.fixture
def fbs(make_fbs: MakeFbs) -> FbsClient:
    return make_fbs()


def free_port() -> int:
    """A loopback port nothing listens on (for connection-refused tests)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def provider_settings(sim_url: str, **env: str) -> Settings:
    return test_settings(PORTAL_FBS_BASE_URL=sim_url, **env)


def make_app(settings: Settings) -> Flask:
    """The smallest app the provider layer needs: settings, the key-value store, setup.init_app."""
    app = Flask("provider-tests")
    app.config.update(TESTING=True, PORTAL_SETTINGS=settings)
    portal.kvstore.init_app(app)
    setup.init_app(app)
    return app


@pytest.fixture
def app_env() -> dict[str, str]:
    """Extra PORTAL_* variables for the `app` fixture; override in a test module."""
    return {}


@pytest.fixture
def app(sim_url: str, app_env: dict[str, str]) -> Iterator[Flask]:
    app = make_app(provider_settings(sim_url, **app_env))
    with app.app_context():
        yield app
    app.extensions[setup.EXTENSION_KEY].close()


def fbs_for(agency_id: str, username: str | None = None, password: str | None = None) -> CachedFbs:
    """The app's cached FBS of a library, as the services get it (the deployment's login by default)."""
    upstreams = setup.upstreams()
    login = FbsLogin(username, password or "") if username is not None else upstreams.default_login
    return upstreams.fbs(agency_id, login)


def debtor_for(agency_id: str) -> CachedDebtor | None:
    return setup.upstreams().debtor(agency_id)


def forget_patron(agency_id: str, patron_id: int) -> None:
    setup.upstreams().cache.forget_patron(agency_id, patron_id)


# -- the Nexi simulator, its client, and a receiver for its webhooks ---------------------------


@pytest.fixture
def nexi_state() -> nexi_sim.SimState:
    return nexi_sim.SimState()


@pytest.fixture
def nexi_url(nexi_state: nexi_sim.SimState) -> Iterator[str]:
    server = nexi_sim.start_nexi_sim("127.0.0.1", 0, nexi_state)
    yield f"http://127.0.0.1:{server.port}"
    nexi_sim.stop_nexi_sim(server)


@pytest.fixture
def nexi(http: httpx.Client, nexi_url: str) -> NexiClient:
    return NexiClient(http, nexi_url, nexi_sim.DEV_NEXI_SECRET_KEY)


@dataclass
class WebhookReceiver:
    """A loopback endpoint recording the webhooks posted to it; `statuses` answer the next ones (then 200)."""

    url: str = ""
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (Authorization, body)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Flask:
        app = Flask("webhook-receiver")

        @app.post("/hook")
        def hook() -> tuple[str, int]:
            with self.lock:
                self.received.append((request.headers.get("Authorization", ""), request.get_json(force=True)))
                status = self.statuses.pop(0) if self.statuses else 200
            return "", status

        return app

    def events(self) -> list[str]:
        with self.lock:
            return [body["event"] for _, body in self.received]


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    server = serve_in_thread(receiver.app(), "127.0.0.1", 0, "webhook-receiver")
    receiver.url = f"http://127.0.0.1:{server.port}/hook"
    yield receiver
    server.shutdown()
    server.server_close()
