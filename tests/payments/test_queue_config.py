"""The payment queue's settings: where it lives by default, what is refused, and who runs the worker."""

from __future__ import annotations

import pytest

from portal.config import ConfigError
from tests.support.settings import test_settings

PG = "postgresql+psycopg://portal@db.example/portal"


def test_the_queue_lives_beside_a_sqlite_database_by_default() -> None:
    settings = test_settings(PORTAL_DATABASE_URL="sqlite:////srv/portal/portal.sqlite3")
    assert settings.queue_url == "sqlite:////srv/portal/portal.sqlite3.queue"
    assert settings.queue_worker == "embedded"
    assert settings.payment_retention_days == 90


def test_a_shared_database_without_card_payment_needs_no_queue() -> None:
    assert test_settings(PORTAL_DATABASE_URL=PG).queue_url == "memory://"


def test_card_payment_on_a_shared_database_needs_a_shared_queue() -> None:
    with pytest.raises(ConfigError, match="PORTAL_QUEUE_URL"):
        test_settings(PORTAL_DATABASE_URL=PG, PORTAL_NEXI_BASE_URL="https://test.api.dibspayment.eu")
    settings = test_settings(
        PORTAL_DATABASE_URL=PG,
        PORTAL_NEXI_BASE_URL="https://test.api.dibspayment.eu",
        PORTAL_QUEUE_URL="redis://queue.example:6379/2",
        PORTAL_QUEUE_WORKER="external",
    )
    assert (settings.queue_url, settings.queue_worker) == ("redis://queue.example:6379/2", "external")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORTAL_QUEUE_URL", "amqp://rabbit"),
        ("PORTAL_QUEUE_WORKER", "threads"),
        ("PORTAL_PAYMENT_RETENTION_DAYS", "0"),
        ("PORTAL_PAYMENT_RETENTION_DAYS", "a month"),  # "expected a whole number of days"
    ],
)
def test_bad_queue_settings_stop_start_up_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        test_settings(**{name: value})


def test_the_retention_is_configurable() -> None:
    assert test_settings(PORTAL_PAYMENT_RETENTION_DAYS="365").payment_retention_days == 365
