"""A session's entry and the borrower's cache entries read in one round trip (one Redis MGET).

A warm page reads the session's entry (`portal.auth.sessions`) and then the borrower's cache
entries (`portal.providers.cache.ProviderCache.read_patron`): two round trips, the second waiting
for the first only because the patron ids are in the session. So each worker learns, per session
entry, which keys its last request read after it (`take` notes them), and the next request of that session
reads them in the same MGET as its entry (`read_with`). They are kept for that request alone and
handed out once (`take`), only when every key asked for was read ahead: never a mix, and never
for another request, whose serial differs (`current_request_serial`). They are read a few
milliseconds earlier than they would otherwise be, at the request's start, and never used later
than `READ_AHEAD_SECONDS` after that.

What is learned are cache keys only (`patron_key`s: agency and patron id, never a CPR number),
filed under a keyed digest of the session's key, so this process's memory does not hold session
ids beyond the request either. Forgetting costs a round trip, never a wrong answer. Flask-free.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

from portal.lru import BoundedLRU
from portal.observability.request_id import current_request_serial

__all__ = ["READ_AHEAD_SECONDS", "Learned", "ReadMany", "forget", "forget_session", "read_with", "take"]

# A page reads its entries within milliseconds; what was read ahead is never older than this.
READ_AHEAD_SECONDS = 0.5
# Sessions whose companions a worker remembers (a few keys each).
MAX_SESSIONS = 16_384
_DIGEST_KEY = secrets.token_bytes(32)  # per process: a digest says nothing outside it
_monotonic = time.monotonic


class ReadMany(Protocol):
    """A store that reads several keys in one round trip (cachelib's and flask-caching's `get_many`)."""

    def get(self, key: str) -> Any: ...

    def get_many(self, *keys: str) -> list[Any]: ...


def _digest(key: str) -> bytes:
    return hashlib.blake2b(key.encode(), key=_DIGEST_KEY, digest_size=16).digest()


class Learned:
    """Per process: session entry (digest) -> the keys read after it; a thread-safe, bounded LRU."""

    def __init__(self, max_sessions: int = MAX_SESSIONS) -> None:
        self._keys: BoundedLRU[bytes, tuple[str, ...]] = BoundedLRU(max_sessions)

    def __len__(self) -> int:
        return len(self._keys)

    def get(self, session: bytes) -> tuple[str, ...]:
        return self._keys.get(session) or ()

    def add(self, session: bytes, keys: Sequence[str]) -> None:
        def with_keys(known: tuple[str, ...] | None) -> tuple[str, ...]:
            known = known or ()
            return known + tuple(key for key in keys if key not in known)

        self._keys.update(session, with_keys)

    def drop(self, session: bytes) -> None:
        self._keys.pop(session)


_LEARNED = Learned()


@dataclass
class _Request:
    """What one request read ahead with its session's entry."""

    serial: int
    store: object  # read from this store: only its own reads are handed out
    session: bytes
    at: float
    values: dict[str, Any] = field(default_factory=dict)


_current: ContextVar[_Request | None] = ContextVar("portal_read_ahead", default=None)


def read_with(store: ReadMany, key: str) -> Any:
    """`store.get(key)`, with the keys this session's last request read after it, in one round trip.

    Outside a request (no serial) a plain read. A failing store raises as `get` would.
    """
    serial = current_request_serial()
    if serial is None:
        return store.get(key)
    session = _digest(key)
    companions = _LEARNED.get(session)
    request = _Request(serial, store, session, _monotonic())
    _current.set(request)
    if not companions:
        return store.get(key)
    found, *others = store.get_many(key, *companions)
    request.values = dict(zip(companions, others, strict=True))
    return found


def take(store: object, keys: Sequence[str]) -> list[Any] | None:
    """The values of `keys` read ahead with this request's session, handed out once; None: read them yourself.

    None unless every one of `keys` was read ahead from `store` (the very object), in this
    request, less than READ_AHEAD_SECONDS ago. When the session's entry is in `store`, the keys
    are noted for the session's next request either way.
    """
    request = _this_request()
    if request is None or request.store is not store:
        return None
    _LEARNED.add(request.session, keys)
    if _monotonic() - request.at >= READ_AHEAD_SECONDS or any(key not in request.values for key in keys):
        return None
    return [request.values.pop(key) for key in keys]


def forget(keys: Sequence[str]) -> None:
    """Written or deleted in this request: what was read ahead of `keys` is no longer what the store holds."""
    request = _this_request()
    if request is not None:
        for key in keys:
            request.values.pop(key, None)


def forget_session(key: str) -> None:
    """The session's entry is gone (sign-out, a new id at sign-in): what it had learned goes too."""
    _LEARNED.drop(_digest(key))


def _this_request() -> _Request | None:
    request = _current.get()
    if request is None or request.serial != current_request_serial():
        return None
    return request
