"""The one cache of the app (flask-caching): in-process by default, Redis by PORTAL_CACHE_URL.

Used by the provider caching layer and the server-side session store. Keys never
contain a CPR number.
"""
from __future__ import annotations

from flask import Flask
from flask_caching import Cache

cache = Cache()


def init_app(app: Flask) -> None:
    settings = app.config["PORTAL_SETTINGS"]
    if settings.cache_url:
        config = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": settings.cache_url,
                  "CACHE_KEY_PREFIX": "gebyrportal:"}
    else:
        # Large threshold: server-side sessions live here too and must not be evicted early.
        config = {"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 100_000}
    config["CACHE_DEFAULT_TIMEOUT"] = settings.cache_ttl
    cache.init_app(app, config=config)
