"""A PostgreSQL host that accepts the connection and then says nothing costs seconds, not every thread.

libpq alone waits as long as the network lets it; the portal's engines give up after
POSTGRES_CONNECT_TIMEOUT (portal/db.py), and the page answers 503 (test_database_down.py).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy.exc import OperationalError

from portal import db

# Far above the timeout, far below libpq's own wait: only an engine without a timeout is still waiting.
GIVE_UP_AFTER = 20


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port whose listener takes connections (the kernel's backlog) and never answers one."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield listener.getsockname()[1]
    listener.close()


def connect_in_thread(url: str) -> list[BaseException]:
    raised: list[BaseException] = []

    def connect() -> None:
        try:
            with db.make_engine(url).connect():
                pass
        except BaseException as exc:  # what it raised is the test's answer
            raised.append(exc)

    worker = threading.Thread(target=connect, daemon=True)
    worker.start()
    worker.join(GIVE_UP_AFTER)
    assert not worker.is_alive(), "still waiting for a server that never answers"
    return raised


def test_a_silent_database_host_is_given_up_on(silent_server: int) -> None:
    [raised] = connect_in_thread(f"postgresql+psycopg://portal@127.0.0.1:{silent_server}/portal")
    assert isinstance(raised, OperationalError) and "timeout" in str(raised).lower()


def test_the_url_may_set_its_own_timeout() -> None:
    assert db._connect_args("postgresql+psycopg://portal@db/portal") == {"connect_timeout": db.POSTGRES_CONNECT_TIMEOUT}
    assert db._connect_args("postgresql+psycopg://portal@db/portal?connect_timeout=9") == {}
    assert db._connect_args("sqlite:////tmp/portal.sqlite3") == {}
