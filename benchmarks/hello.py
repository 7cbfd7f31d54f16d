"""The reference of `make bench`: a bare Flask hello-world, served by the same gunicorn configuration as the portal.

`gunicorn -c gunicorn.conf.py 'benchmarks.hello:create_app()'`: what the server and Flask cost on their own,
so the portal's throughput can be given as a ratio that means the same on any machine.
"""

from __future__ import annotations

from flask import Flask


def create_app() -> Flask:
    app = Flask("hello")
    app.add_url_rule("/", "hello", lambda: "hello")
    return app
