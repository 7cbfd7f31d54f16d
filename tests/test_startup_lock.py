"""Start-up work is serialised across processes (gunicorn starts its workers at once)."""

from __future__ import annotations

import threading
from pathlib import Path

from portal.db import make_engine, startup_lock


def test_second_process_waits_for_the_first(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'p.sqlite3'}")
    order: list[str] = []
    inside = threading.Event()
    release = threading.Event()

    def first() -> None:
        with startup_lock(engine):
            order.append("first in")
            inside.set()
            release.wait(5)
            order.append("first out")

    def second() -> None:
        inside.wait(5)
        with startup_lock(engine):  # flock is per open file: a second open blocks like another process
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    inside.wait(5)
    # The second thread is blocked in the lock until the first lets go.
    threads[1].join(0.2)
    assert threads[1].is_alive()
    release.set()
    for thread in threads:
        thread.join(5)
    assert order == ["first in", "first out", "second in"]
