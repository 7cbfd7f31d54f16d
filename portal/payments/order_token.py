"""The borrower's Adgangsplatformen token an order keeps, encrypted, until FBS has registered it.

Where a library reads FBS through DBC's adapter, only the borrower's user token can register a
payment in FBS (the portal has no client login of its own there), and registration happens in
the worker, after the citizen has left. So the order keeps the token — encrypted at rest under a
key derived from PORTAL_SECRET_KEY with HKDF and this module's own `info` (never the session
key or Flask's signing key) — and the machine clears it as soon as FBS has answered, and at the
latest when the order finishes. Older keys (PORTAL_SECRET_KEY_FALLBACKS) still decrypt.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Domain separation: a key derived for another purpose from the same secret is a different key.
_INFO = b"gebyrportal/payment-order-fbs-token/fernet/v1"


def _key(secret: str) -> bytes:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode("utf-8"))
    return base64.urlsafe_b64encode(raw)


class OrderTokenCipher:
    """Seals a token under the current key; opens what the current or an older key sealed."""

    def __init__(self, secret_key: str, fallbacks: Sequence[str] = ()) -> None:
        keys = [secret_key, *(key for key in fallbacks if key != secret_key)]
        self._fernet = MultiFernet([Fernet(_key(key)) for key in keys])

    def seal(self, token: str) -> str:
        if not token:
            raise ValueError("no token to seal")
        return self._fernet.encrypt(token.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str | None:
        """The token, or None when no configured key opens it (the secret key was replaced meanwhile)."""
        try:
            return self._fernet.decrypt(sealed.encode("ascii", errors="replace")).decode("utf-8")
        except (InvalidToken, UnicodeDecodeError):
            return None
