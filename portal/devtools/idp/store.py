"""In-memory storage of the dev IdP, safe for werkzeug's threaded server."""

from __future__ import annotations

import threading
import time

from portal.devtools.idp.models import AccessToken, AuthorizationCode

# Nonces are remembered a while after their code is gone, so a replayed
# authorization request with an old nonce is still refused.
NONCE_MEMORY_SECONDS = 600


class Store:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._codes: dict[str, AuthorizationCode] = {}
        self._tokens: dict[str, AccessToken] = {}
        self._nonces: dict[tuple[str, str], float] = {}

    def add_code(self, code: AuthorizationCode) -> None:
        with self._lock:
            self._prune()
            self._codes[code.code] = code
            if code.nonce:
                self._nonces[(code.client_id, code.nonce)] = time.time() + NONCE_MEMORY_SECONDS

    def take_code(self, code: str, client_id: str) -> AuthorizationCode | None:
        """The code if it belongs to `client_id` and is fresh; it is removed either way.

        Taking (not reading) makes a code single-use even under concurrent requests.
        """
        with self._lock:
            found = self._codes.get(code)
            if found is None or found.client_id != client_id:
                return None
            del self._codes[code]
        return None if found.is_expired() else found

    def nonce_seen(self, client_id: str, nonce: str) -> bool:
        with self._lock:
            return self._nonces.get((client_id, nonce), 0) > time.time()

    def add_token(self, token: AccessToken) -> None:
        with self._lock:
            self._tokens[token.access_token] = token

    def find_token(self, access_token: str) -> AccessToken | None:
        with self._lock:
            return self._tokens.get(access_token)

    def revoke_tokens(self, client_id: str, sub: str) -> None:
        with self._lock:
            for token in self._tokens.values():
                if token.client.client_id == client_id and token.citizen.sub == sub:
                    token.revoked = True

    def _prune(self) -> None:
        now = time.time()
        self._codes = {k: v for k, v in self._codes.items() if v.expires_at > now}
        self._nonces = {k: v for k, v in self._nonces.items() if v > now}
        self._tokens = {k: v for k, v in self._tokens.items() if not v.is_expired()}
