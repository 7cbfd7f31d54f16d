"""The floor of `make bench`: what any page behind a server-side session costs, under the same gunicorn.

`gunicorn -c gunicorn.conf.py 'benchmarks.floor:create_app()'` answers each request with one Redis MGET
(a session-sized value and three cache-entry-sized ones, as a warm overview reads) and a page of the
overview's size kept in memory: no session check, no rendering, no headers of the portal's own. No
design that keeps its sessions in Redis does less per page, so "floor / hello-world" is the most the
throughput ratio can be on the machine, and "warm overview / floor" is what the portal's own code costs.

Configured by the environment of the gunicorn it runs under: BENCH_FLOOR_REDIS_URL (the bench's
redis-server) and BENCH_FLOOR_PAGE_BYTES (the warm overview's size).
"""

from __future__ import annotations

import os
import secrets

import redis
from flask import Flask, Response

REDIS_VARIABLE = "BENCH_FLOOR_REDIS_URL"
PAGE_BYTES_VARIABLE = "BENCH_FLOOR_PAGE_BYTES"
# About the sizes of a warm overview's entries: the sealed session, then patron, fees and claims.
VALUE_BYTES = (1_500, 700, 2_500, 1_200)
KEYS = tuple(f"bench-floor:{i}" for i in range(len(VALUE_BYTES)))


def create_app() -> Flask:
    client = redis.Redis.from_url(os.environ[REDIS_VARIABLE], socket_timeout=0.5, socket_connect_timeout=0.5)
    client.mset({key: secrets.token_bytes(size) for key, size in zip(KEYS, VALUE_BYTES, strict=True)})
    page = b"x" * int(os.environ[PAGE_BYTES_VARIABLE])
    app = Flask("floor")

    def floor() -> Response:
        values = client.mget(KEYS)
        if any(value is None for value in values):
            return Response("bench-floor keys missing", 500)
        return Response(page, content_type="text/html; charset=utf-8")

    app.add_url_rule("/", "floor", floor)
    return app
