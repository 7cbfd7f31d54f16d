"""On Redis, a stored value is unpickled only when this deployment signed it (portal.kvstore_signing).

Against a real redis-server: the portal's own store (`kvstore.init_app`) and a raw client playing
whoever else can write to Redis.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flask import Flask

from portal import kvstore
from portal.domain.fees import Material
from portal.kvstore_signing import SignedRedisSerializer
from tests.support.redis_server import redis_server
from tests.support.settings import test_settings

KEY = "fbs:DK-717300:1001:fees"
RAN: list[str] = []


def ran(what: str) -> None:
    RAN.append(what)


class Payload:
    """Unpickling this runs code (`ran`): what an attacker with write access to Redis would store."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (ran, ("unpickled",))


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


def store(redis_url: str, secret: str = "s" * 40, fallbacks: str = "") -> Any:
    app = Flask(__name__)
    env = {"PORTAL_CACHE_URL": redis_url, "PORTAL_SECRET_KEY": secret}
    if fallbacks:
        env["PORTAL_SECRET_KEY_FALLBACKS"] = fallbacks
    app.config["PORTAL_SETTINGS"] = test_settings(**env)
    kvstore.init_app(app)
    return kvstore.backend(app)


def raw_set(redis_url: str, value: bytes) -> None:
    with redis.Redis.from_url(redis_url) as raw:
        raw.set("gebyrportal:" + KEY, value)


def test_values_round_trip_signed(redis_url: str) -> None:
    ours = store(redis_url)
    assert isinstance(ours.serializer, SignedRedisSerializer)
    ours.set(KEY, ("fee", 1))
    assert ours.get(KEY) == ("fee", 1) and ours.get_many(KEY) == [("fee", 1)]


@pytest.mark.parametrize(
    "forged",
    [
        b"!" + pickle.dumps(Payload()),  # cachelib's own unsigned format (also what an older release stored)
        b"#" + b"0" * 32 + pickle.dumps(Payload()),  # signed with a made-up MAC
    ],
)
def test_a_value_this_deployment_did_not_sign_is_a_miss_and_never_unpickled(redis_url: str, forged: bytes) -> None:
    RAN.clear()
    raw_set(redis_url, forged)
    assert store(redis_url).get(KEY) is None
    assert RAN == []
    # The same bytes through cachelib's own serializer would have run it: the check is the cause.
    assert pickle.loads(forged[1:] if forged.startswith(b"!") else forged[33:]) is None and RAN == ["unpickled"]


def test_a_tampered_value_is_a_miss(redis_url: str) -> None:
    store(redis_url).set(KEY, ("fee", 1))
    with redis.Redis.from_url(redis_url) as raw:
        stored = raw.get("gebyrportal:" + KEY)
        assert stored is not None
        raw.set("gebyrportal:" + KEY, stored[:-1] + bytes([stored[-1] ^ 1]))
    assert store(redis_url).get(KEY) is None


def test_another_deployments_key_does_not_verify_but_a_fallback_does(redis_url: str) -> None:
    store(redis_url, secret="old" * 14).set(KEY, ("fee", 1))
    assert store(redis_url, secret="new" * 14).get(KEY) is None
    assert store(redis_url, secret="new" * 14, fallbacks="old" * 14).get(KEY) == ("fee", 1)


def test_an_entry_read_again_is_decoded_once_and_a_changed_one_anew(redis_url: str) -> None:
    ours = store(redis_url)
    ours.set(KEY, Material("870970-basis:1", "1"))
    first = ours.get(KEY)
    assert ours.get(KEY) is first and ours.get_many(KEY) == [first]
    ours.set(KEY, Material("870970-basis:2", "2"))  # rewritten: another signature
    assert ours.get(KEY) == Material("870970-basis:2", "2")


def test_the_check_comes_before_the_decoded_value(redis_url: str) -> None:
    ours = store(redis_url)
    ours.set(KEY, Material("870970-basis:1", "1"))
    assert ours.get(KEY) == Material("870970-basis:1", "1")  # decoded, and kept by its signature
    with redis.Redis.from_url(redis_url) as raw:
        stored = raw.get("gebyrportal:" + KEY)
        assert stored is not None
        raw.set("gebyrportal:" + KEY, stored[:-1] + bytes([stored[-1] ^ 1]))  # same signature, other bytes
    assert ours.get(KEY) is None
