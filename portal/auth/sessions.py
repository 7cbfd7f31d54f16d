"""Server-side sessions: the cookie holds only a random id, the data lives in `portal.kvstore`.

Flask's default session is a signed but readable cookie; tokens, claims and the
CPR number must never travel in it. Entries are kept under `session:<id>` with a
sliding lifetime of Settings.session_lifetime.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

from flask import Flask, Request, Response, session
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from portal.kvstore import store

KEY_PREFIX = "session:"
# secrets.token_urlsafe(32) gives 43 URL-safe characters; anything else is not ours.
_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
# An unchanged session is re-stored (to slide its expiry) at most this often, so
# parallel requests (page + assets) rarely race to overwrite each other's writes.
_MAX_REFRESH_INTERVAL = 60.0


def _new_id() -> str:
    return secrets.token_urlsafe(32)


def _key(session_id: str) -> str:
    return KEY_PREFIX + session_id


class ServerSession(CallbackDict[str, Any], SessionMixin):
    """The data of one session; `session_id` is None until it is first stored."""

    def __init__(
        self,
        data: dict[str, Any] | None = None,
        session_id: str | None = None,
        cookie_id: str | None = None,
        stored_at: float = 0.0,
    ) -> None:
        def on_update(_: CallbackDict[str, Any]) -> None:
            self.modified = True
            self.accessed = True

        super().__init__(data or {}, on_update)
        self.session_id = session_id
        self.cookie_id = cookie_id  # the id the browser sent, valid or not
        self.stored_at = stored_at
        self.modified = False
        self.accessed = False

    @property
    def new(self) -> bool:  # type: ignore[override]
        return self.session_id is None

    def __getitem__(self, key: str) -> Any:
        self.accessed = True
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.accessed = True
        return super().get(key, default)


class ServerSessionInterface(SessionInterface):
    def __init__(self, lifetime: int) -> None:
        self.lifetime = lifetime
        self.refresh_interval = min(_MAX_REFRESH_INTERVAL, lifetime / 4)

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        cookie_id = request.cookies.get(self.get_cookie_name(app))
        if cookie_id and _ID_PATTERN.fullmatch(cookie_id):
            stored = store.get(_key(cookie_id))
            if isinstance(stored, dict) and time.time() - stored["at"] < self.lifetime:
                return ServerSession(stored["data"], cookie_id, cookie_id, stored["at"])
        # Unknown, expired or forged id: start afresh under a new id (never adopt
        # an id the browser chose — that would allow session fixation).
        return ServerSession(cookie_id=cookie_id)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        if session.accessed:
            response.vary.add("Cookie")
        if not session:
            self._forget(app, session, response)
            return
        now = time.time()
        if session.session_id is None:
            session.session_id = _new_id()
        if session.modified or session.stored_at == 0.0 or now - session.stored_at >= self.refresh_interval:
            # The entry's "at" decides expiry (open_session); the cache TTL only cleans
            # up, with a second to spare because backends round TTLs to whole seconds.
            store.set(_key(session.session_id), {"data": dict(session), "at": now}, timeout=self.lifetime + 1)
        if session.cookie_id != session.session_id:
            self._set_cookie(app, response, session.session_id)

    def _forget(self, app: Flask, session: ServerSession, response: Response) -> None:
        # Empty sessions are never stored: bots and anonymous visitors cost no cache entry.
        if session.session_id is not None:
            store.delete(_key(session.session_id))
        if session.cookie_id is not None:
            response.delete_cookie(
                self.get_cookie_name(app),
                domain=self.get_cookie_domain(app),
                path=self.get_cookie_path(app),
                secure=self.get_cookie_secure(app),
                httponly=True,
                samesite=self._samesite(app),
            )

    def _set_cookie(self, app: Flask, response: Response, session_id: str) -> None:
        # No expiry: the cookie ends with the browser; the server entry decides the lifetime.
        response.set_cookie(
            self.get_cookie_name(app),
            session_id,
            domain=self.get_cookie_domain(app),
            path=self.get_cookie_path(app),
            secure=self.get_cookie_secure(app),
            httponly=True,
            samesite=self._samesite(app),
        )

    def _samesite(self, app: Flask) -> str:
        # Lax, not Strict: the browser must send the cookie on the IdP's redirect back.
        return self.get_cookie_samesite(app) or "Lax"


def regenerate_session() -> None:
    """Move the current session's data to a new id and delete the old entry (call at login)."""
    current = _current()
    if current.session_id is not None:
        store.delete(_key(current.session_id))
    current.session_id = None
    current.modified = True


def destroy_session() -> None:
    """Delete the session's data and entry; the response removes the cookie."""
    current = _current()
    if current.session_id is not None:
        store.delete(_key(current.session_id))
    current.session_id = None
    current.clear()


def _current() -> ServerSession:
    current = session._get_current_object()  # type: ignore[attr-defined]
    if not isinstance(current, ServerSession):
        raise RuntimeError("the app does not use server-side sessions (portal.auth.init_app)")
    return current


def init_sessions(app: Flask, lifetime: int) -> None:
    app.session_interface = ServerSessionInterface(lifetime)
