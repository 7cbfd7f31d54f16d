"""Redis entries signed before they are unpickled: whoever can write to Redis cannot run code here.

cachelib's Redis backend stores values pickled, and unpickling runs whatever the bytes say. The
provider cache, the stale snapshots and the session entries (themselves encrypted JSON inside)
all pass through it, so a Redis reachable by someone else (a shared instance, a leaked password)
would be a way into every web process. Each stored value therefore carries an HMAC-SHA256 of its
pickle under a key derived from PORTAL_SECRET_KEY (HKDF, this module's own `info`, so never the
key anything else uses), checked before `pickle.loads`. An entry no configured key signed — made
by someone else, tampered with, or stored by a release before this one — reads as a miss: the
cache asks the upstream again, a session entry counts as signed out. PORTAL_SECRET_KEY_FALLBACKS
still verify, so rotating the key keeps sessions and cache.

Once checked, an entry unchanged since this process last decoded it is not unpickled again
(`portal.decoded_entries`, looked up by its signature).

In-process (SimpleCache, `make run`) values never leave the process and are not signed.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import pickle
from collections.abc import Sequence
from typing import Any

from cachelib.serializers import RedisSerializer
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from portal.decoded_entries import DecodedEntries

log = logging.getLogger(__name__)

__all__ = ["SignedRedisSerializer", "derive_key"]

_INFO = b"gebyrportal/redis-entries/hmac-sha256/v1"
_MARK = b"#"  # cachelib marks a pickle "!" and stores ints as digits; this is neither
_MAC_BYTES = hashlib.sha256().digest_size


def derive_key(secret: str) -> bytes:
    """The HMAC key for Redis entries under `secret`."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode("utf-8"))


class SignedRedisSerializer(RedisSerializer):
    """cachelib's serializer for Redis, with every value signed on the way in and checked on the way out."""

    def __init__(self, secret_key: str, fallbacks: Sequence[str] = ()) -> None:
        self._key = derive_key(secret_key)
        self._keys = [self._key, *(derive_key(key) for key in fallbacks if key != secret_key)]
        self.decoded = DecodedEntries()

    def dumps(self, value: Any, protocol: int = pickle.HIGHEST_PROTOCOL) -> bytes:
        payload = pickle.dumps(value, protocol)
        return _MARK + hmac.digest(self._key, payload, "sha256") + payload

    def loads(self, value: bytes | None) -> Any:
        if value is None:
            return None
        mac, payload = value[1 : 1 + _MAC_BYTES], value[1 + _MAC_BYTES :]
        if not value.startswith(_MARK) or not any(
            hmac.compare_digest(mac, hmac.digest(key, payload, "sha256")) for key in self._keys
        ):
            # Never the entry itself in the log; its key is not known here either.
            log.warning("redis entry not signed by this deployment's key: read as a miss, not unpickled")
            return None
        return self.decoded.loads(mac, payload)
