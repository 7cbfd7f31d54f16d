"""Wires card payments into the Flask app: the runtime, the queue, the worker and its command."""

from __future__ import annotations

import atexit

import click
from flask import Flask, current_app

from portal.payments.queue import PaymentQueue, make_huey
from portal.payments.runtime import PaymentRuntime
from portal.providers.setup import EXTENSION_KEY as UPSTREAMS_KEY

RUNTIME_KEY = "portal.payments"
QUEUE_KEY = "portal.payments.queue"


def init_app(app: Flask) -> None:
    """Needs the database and the upstreams set up first."""
    settings = app.config["PORTAL_SETTINGS"]
    runtime = PaymentRuntime(app.extensions["portal.db"], app.extensions[UPSTREAMS_KEY], settings)
    queue = PaymentQueue(make_huey(settings.queue_url), runtime, settings.payment_retention_days)
    app.extensions[RUNTIME_KEY] = runtime
    app.extensions[QUEUE_KEY] = queue
    app.cli.add_command(payments_cli)
    # The worker only runs where card payment can happen at all.
    if settings.nexi_base_url and settings.queue_worker == "embedded" and not app.testing:
        queue.start_in_process()
        atexit.register(queue.stop)


def runtime() -> PaymentRuntime:
    """The current app's payment runtime (needs an app context)."""
    return current_app.extensions[RUNTIME_KEY]  # type: ignore[no-any-return]


def queue() -> PaymentQueue:
    return current_app.extensions[QUEUE_KEY]  # type: ignore[no-any-return]


@click.group("payments")
def payments_cli() -> None:
    """Card payments: the background worker."""


@payments_cli.command("worker")
@click.option("--workers", default=2, show_default=True, help="Threads advancing orders.")
def worker_command(workers: int) -> None:
    """Run the payment worker (set PORTAL_QUEUE_WORKER=external on the web processes)."""
    queue().consumer(workers).run()
