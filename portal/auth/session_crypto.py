"""Encryption at rest of the server-side session entries (portal.auth.sessions).

A session holds the citizen's CPR number, name and ID token; whoever can read the store (Redis,
its dumps and replicas) must not be able to read them. Each entry is stored as one Fernet token
(AES-128-CBC and HMAC-SHA256: tampering is detected, not just hidden) of a JSON text, never a
pickle: decrypted data is only ever parsed as JSON, so even a leaked key cannot run code here.

The Fernet key is derived from PORTAL_SECRET_KEY with HKDF-SHA256 under this module's own `info`,
so it is never the key Flask signs with. Older keys (PORTAL_SECRET_KEY_FALLBACKS) still decrypt,
and `open` says when one of them was needed, so the caller re-encrypts under the current key.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["SessionCipher", "UnreadableEntry", "derive_key"]

# Domain separation: a key derived for another purpose from the same secret is a different key.
_INFO = b"gebyrportal/server-session-entries/fernet/v1"


class UnreadableEntry(Exception):
    """A stored entry no configured key decrypts, or whose content is not a session payload.

    The message is a short reason, never any part of the entry.
    """


def derive_key(secret: str) -> bytes:
    """The Fernet key (url-safe base64 of 32 bytes) for session entries under `secret`."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode("utf-8"))
    return base64.urlsafe_b64encode(raw)


class SessionCipher:
    """Seals JSON-able dicts under the current key; opens what the current or an older key sealed."""

    def __init__(self, secret_key: str, fallbacks: Sequence[str] = ()) -> None:
        self._current = Fernet(derive_key(secret_key))
        older = [Fernet(derive_key(key)) for key in fallbacks if key != secret_key]
        self._older = MultiFernet(older) if older else None

    def seal(self, payload: dict[str, Any]) -> str:
        """`payload` as JSON, encrypted under the current key (a TypeError for anything not JSON-able)."""
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return self._current.encrypt(text.encode("utf-8")).decode("ascii")

    def open(self, token: object) -> tuple[dict[str, Any], bool]:
        """(payload, whether an older key was needed); UnreadableEntry when it cannot be read."""
        if isinstance(token, str):
            token = token.encode("ascii", errors="replace")
        if not isinstance(token, bytes):
            raise UnreadableEntry(f"not an encrypted entry ({type(token).__name__})")
        older_key = False
        try:
            plain = self._current.decrypt(token)
        except InvalidToken:
            if self._older is None:
                raise UnreadableEntry("no configured key decrypts it (tampered, or made under another key)") from None
            try:
                plain = self._older.decrypt(token)
            except InvalidToken:
                raise UnreadableEntry("no configured key decrypts it (tampered, or made under another key)") from None
            older_key = True
        try:
            payload = json.loads(plain.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise UnreadableEntry("decrypted, but not JSON") from None
        if not isinstance(payload, dict):
            raise UnreadableEntry("decrypted, but not a JSON object")
        return payload, older_key
