"""Run one call in another thread while the request's thread does other work.

The call sees the caller's context variables — Flask keeps its app context in one
(Flask >= 2.3), so the provider cache and the shared httpx client work in the
thread without this module knowing Flask. The page's upstream budget
(`portal.providers.http.upstream_budget`) is a context variable too: the call's
upstream requests end with the page's budget, even after the caller stopped waiting.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def in_background(call: Callable[[], T]) -> Future[T]:
    """Start `call()` in a new thread now; `.result()` of the answer waits for it.

    A thread per call rather than a shared pool: a pool that is full under load would
    queue the call, and the page would silently fetch one provider after the other.
    """
    context = contextvars.copy_context()
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="portal-background")
    try:
        return executor.submit(context.run, call)
    finally:
        # The submitted call still runs; the thread ends with it.
        executor.shutdown(wait=False)
