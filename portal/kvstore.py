"""The app's one key-value store (flask-caching): in-process by default, Redis by PORTAL_CACHE_URL.

It holds the server-side sessions (portal.auth.sessions) and the provider caching layer's
entries (portal.providers.cache). Keys never contain a CPR number. On Redis every value is signed
before it is unpickled (portal.kvstore_signing).
"""

from __future__ import annotations

from cachelib import BaseCache, RedisCache
from flask import Flask
from flask_caching import Cache
from redis import RedisError

from portal.config import REDIS_SOCKET_TIMEOUT
from portal.kvstore_signing import SignedRedisSerializer

__all__ = ["STORE_ERRORS", "backend", "init_app", "store"]

store = Cache()
# What a store that cannot be reached raises (connection refused, timed out, reset).
STORE_ERRORS: tuple[type[Exception], ...] = (RedisError,)


def init_app(app: Flask) -> None:
    settings = app.config["PORTAL_SETTINGS"]
    if settings.cache_url:
        config = {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": settings.cache_url,
            "CACHE_KEY_PREFIX": "gebyrportal:",
            "CACHE_OPTIONS": {"socket_timeout": REDIS_SOCKET_TIMEOUT, "socket_connect_timeout": REDIS_SOCKET_TIMEOUT},
        }
    else:
        # Large threshold: server-side sessions live here too and must not be evicted early.
        config = {"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 100_000}
    config["CACHE_DEFAULT_TIMEOUT"] = settings.cache_ttl
    store.init_app(app, config=config)
    redis_backend = backend(app)
    if isinstance(redis_backend, RedisCache):
        redis_backend.serializer = SignedRedisSerializer(settings.secret_key, settings.secret_key_fallbacks)


def backend(app: Flask) -> BaseCache:
    """The app's store itself (cachelib), usable without an app context (the provider layer)."""
    return app.extensions["cache"][store]  # type: ignore[no-any-return]
