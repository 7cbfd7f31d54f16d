"""Scale-out back-ends against real servers (issue 11): PostgreSQL for settings and payments, Redis for
the cache, sessions and the payment queue, several portal apps on them standing for several processes.

One PostgreSQL cluster and one redis-server per test session (starting a cluster takes seconds); each
test gets a fresh database (CREATE DATABASE) and an emptied Redis, so tests never see each other's data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from flask import Flask
from werkzeug.serving import BaseWSGIServer

from portal import create_app
from portal.devtools import nexi_sim
from portal.devtools.fbs_sim import SimState, create_fbs_sim_app
from portal.payments.queue import PaymentQueue
from portal.payments.runtime import PaymentRuntime
from portal.payments.setup import QUEUE_KEY, RUNTIME_KEY
from tests.payments.conftest import NEXI_KEY_ENV, World, libraries_with_card_payment
from tests.support.live import LiveServer, start_live_server
from tests.support.postgres_server import fresh_database, postgres_server
from tests.support.redis_server import redis_server
from tests.support.settings import REQUIRED, test_settings


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """The session's PostgreSQL server (tests/support/postgres_server.py)."""
    with postgres_server() as url:
        yield url


@pytest.fixture
def database_url(postgres: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test."""
    with fresh_database(postgres) as url:
        yield url


@pytest.fixture(scope="session")
def redis_once() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture
def redis_url(redis_once: str) -> str:
    """The session's redis-server, emptied: no queued task or session of an earlier test is left."""
    with redis.Redis.from_url(redis_once) as client:
        client.flushall()
    return redis_once


@pytest.fixture
def apps(database_url: str) -> Iterator[list[Flask]]:
    """Apps a test made; their workers are stopped and engines closed before the database is dropped.

    Whatever serves them over HTTP must be stopped first: a late request (a webhook Nexi sends after
    a charge) would open a connection on a disposed engine, one that nothing closes any more.
    """
    made: list[Flask] = []
    yield made
    for app in made:
        stop_worker(app)
        app.extensions["portal.db.engine"].dispose()


def stop_worker(app: Flask) -> None:
    """Stop the app's embedded worker and wait for its threads.

    Graceful: a task still running would go on against a database the test is about to drop (or
    a simulator it is about to stop).
    """
    queue: PaymentQueue = app.extensions[QUEUE_KEY]
    queue.stop(graceful=True)


@dataclass
class PaymentBackends:
    """The FBS and Nexi simulators and the portal's live server, shared by every app of one test."""

    fbs: SimState
    nexi: nexi_sim.SimState
    portal: LiveServer
    env: dict[str, str]  # every variable the apps are configured with (also for a worker subprocess)

    def world(self, app: Flask) -> World:
        """The payment test helpers (tests/payments/conftest.py) on `app`."""
        return World(app, app.extensions[RUNTIME_KEY], self.fbs, self.nexi, self.portal)


@pytest.fixture
def payment_backends(tmp_path: Path, database_url: str, apps: list[Flask]) -> Iterator[PaymentBackends]:
    """Card payment at Lyngby on PostgreSQL: the simulators on loopback, the environment of a portal.

    No worker runs (PORTAL_QUEUE_WORKER=external) and the queue is in this process's memory unless a
    test says otherwise; webhooks reach whichever app the test serves on `portal`.
    """
    fbs_state, nexi_state = SimState(), nexi_sim.SimState()
    fbs = start_live_server(create_fbs_sim_app(fbs_state))
    nexi_server: BaseWSGIServer = nexi_sim.start_nexi_sim("127.0.0.1", 0, nexi_state)
    portal = start_live_server()
    env = {
        **REQUIRED,
        "PORTAL_BASE_URL": portal.url,
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_LIBRARIES_FILE": str(libraries_with_card_payment(tmp_path)),
        "PORTAL_FBS_BASE_URL": fbs.url,
        "PORTAL_NEXI_BASE_URL": f"http://127.0.0.1:{nexi_server.port}",
        "PORTAL_QUEUE_URL": "memory://",
        "PORTAL_QUEUE_WORKER": "external",
        NEXI_KEY_ENV: nexi_sim.DEV_NEXI_SECRET_KEY,
    }
    yield PaymentBackends(fbs_state, nexi_state, portal, env)
    for app in apps:  # the workers first, so they take no step against a simulator that is going away
        stop_worker(app)
    nexi_state.wake.set()
    portal.stop()
    nexi_sim.stop_nexi_sim(nexi_server)
    fbs.stop()


@pytest.fixture
def make_payment_app(payment_backends: PaymentBackends, apps: list[Flask]) -> Callable[..., Flask]:
    """A portal process on the shared back-ends; `env` overrides variables (e.g. PORTAL_QUEUE_URL)."""

    def make(**env: str) -> Flask:
        app = create_app(test_settings(**{**payment_backends.env, **env}))
        apps.append(app)
        return app

    return make


@pytest.fixture
def world(make_payment_app: Callable[..., Flask], payment_backends: PaymentBackends) -> World:
    """tests/payments' World on PostgreSQL: one app serving webhooks; enqueued ids only recorded."""
    app = make_payment_app()
    payment_backends.portal.set_app(app)
    world = payment_backends.world(app)
    runtime: PaymentRuntime = world.rt
    runtime.enqueue = world.enqueued.append
    return world
