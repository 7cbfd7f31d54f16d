"""What one Adgangsplatformen simulator knows: its clients, users, codes, tokens, and test faults."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from portal.devtools import demo_data
from portal.devtools.demo_data import DemoLibraryUser
from portal.devtools.simulators import Fault, FaultQueue

ENDPOINTS = ("token", "userinfo")
NOT_JSON = "not-json"  # a fault's kind: a 200 answer that is not JSON


@dataclass(frozen=True)
class ApClient:
    """A client of Adgangsplatformen: redirect URIs match exactly; DBC calls `single_logout_url` at logout."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    single_logout_url: str | None = None


@dataclass(frozen=True)
class _Code:
    client_id: str
    redirect_uri: str
    user: DemoLibraryUser
    agency: str | None
    expires: float


@dataclass(frozen=True)
class Token:
    client_id: str
    user: DemoLibraryUser
    agency: str | None
    expires: float


@dataclass
class ApState:
    clients: dict[str, ApClient] = field(default_factory=dict)
    users: dict[str, DemoLibraryUser] = field(
        default_factory=lambda: {u.unique_id: u for u in demo_data.LIBRARY_LOGIN_USERS}
    )
    code_lifetime: float = 300.0  # Adgangsplatformen: a code lives 5 minutes, once
    token_lifetime: int = 3600
    # What the single logouts answered: (client id, HTTP status or None when unreachable, body).
    single_logouts: list[tuple[str, int | None, str]] = field(default_factory=list)
    _codes: dict[str, _Code] = field(default_factory=dict)
    _tokens: dict[str, Token] = field(default_factory=dict)
    # No delays here: nothing sets the queue's wake event.
    faults: FaultQueue = field(default_factory=lambda: FaultQueue(threading.Event(), ENDPOINTS))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_clients(self, clients: Iterable[ApClient]) -> None:
        for client in clients:
            self.clients[client.client_id] = client

    def issue_code(self, client_id: str, redirect_uri: str, user: DemoLibraryUser, agency: str | None) -> str:
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Code(client_id, redirect_uri, user, agency, time.monotonic() + self.code_lifetime)
        return code

    def take_code(self, code: str) -> _Code | None:
        """The code's grant, once: a second use finds nothing; an expired code is gone too."""
        with self._lock:
            found = self._codes.pop(code, None)
        return found if found is not None and time.monotonic() < found.expires else None

    def issue_token(self, grant: _Code) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = Token(grant.client_id, grant.user, grant.agency, time.time() + self.token_lifetime)
        return token

    def token(self, token: str) -> Token | None:
        with self._lock:
            found = self._tokens.get(token)
        return found if found is not None and time.time() < found.expires else None

    def tokens_of(self, unique_id: str) -> dict[str, Token]:
        """The live tokens of one user (test helper: the token a portal session holds)."""
        with self._lock:
            return {t: v for t, v in self._tokens.items() if v.user.unique_id == unique_id and time.time() < v.expires}

    def end_single_sign_on(self, unique_id: str) -> dict[str, Token]:
        """Revoke every token of the user (all clients): DBC's logout ends the single sign-on."""
        with self._lock:
            ended = {t: v for t, v in self._tokens.items() if v.user.unique_id == unique_id}
            for token in ended:
                del self._tokens[token]
        return ended

    def fail_next(self, endpoint: str, status: int | None = 500, times: int = 1) -> None:
        """The next `times` calls of `endpoint` ("token", "userinfo") answer `status` (None: not JSON)."""
        if endpoint not in ENDPOINTS:
            raise ValueError(endpoint)
        if status is None:
            self.faults.add(NOT_JSON, times, endpoint=endpoint)
        else:
            self.faults.add("status", times, status, endpoint)

    def take_fault(self, endpoint: str) -> Fault | None:
        return self.faults.take(endpoint)
