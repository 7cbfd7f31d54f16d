"""gunicorn's configuration for a production deployment: `gunicorn -c gunicorn.conf.py 'portal:create_app()'`.

Stateless web processes: sessions, cache, rate limits and the payment queue live in Redis
(PORTAL_CACHE_URL, PORTAL_QUEUE_URL), settings and payments in PostgreSQL (PORTAL_DATABASE_URL), so
any number of these processes, on any number of machines, serve the same borrowers. Run the
payment worker on its own (PORTAL_QUEUE_WORKER=external and `flask payments worker`, docs/payments.md)
rather than one in every web process.

Threads, not more processes: a view spends most of its time waiting on FBS and the debtor system,
and threads share one process's FBS session keys and connection pool. Each value can be set by
the variable named beside it, so the same file serves a laptop and a 16-core machine.
"""

from __future__ import annotations

import os
from typing import Any

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
# Longer than the page budget (PORTAL_PAGE_BUDGET, 10 s by default): a worker is killed only
# when something is truly stuck, never for a slow FBS the page already gives up on.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Behind a load balancer that terminates TLS; PORTAL_TRUSTED_PROXIES decides what the portal believes.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# The portal logs itself (one line per request with its id); gunicorn's access log would repeat
# every URL, and a URL may hold a payment id.
accesslog = None
errorlog = "-"
# A worker that served this many requests is replaced, so a slow leak never reaches production size.
# Not sooner: a new worker starts with empty per-process caches (rendered pages, merged debts, the
# library, the session read-ahead) and takes a second or two to start, while its connections wait.
# At reminder day's 500 requests/s per worker, 10,000 meant a restart every 20 s (a p99 over 1.5 s in
# the run it fell in); this is one every few minutes.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "200000"))
max_requests_jitter = max_requests // 10


def on_starting(server: Any) -> None:
    """prometheus-client's multi-process mode: values of a previous run must not be counted again."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory and os.path.isdir(directory):
        for name in os.listdir(directory):
            if name.endswith(".db"):
                os.remove(os.path.join(directory, name))


def child_exit(server: Any, worker: Any) -> None:
    """prometheus-client's multi-process mode: a dead worker's live gauges must stop counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
