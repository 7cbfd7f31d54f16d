"""Server-side sessions: the cookie holds only a random id, the data lives in `portal.kvstore`.

Flask's default session is a signed but readable cookie; tokens, claims and the
CPR number must never travel in it. Entries are kept under `session:<id>` with a
sliding lifetime of Settings.session_lifetime, measured on `portal.clock`.

Each entry is encrypted at rest (portal.auth.session_crypto): one Fernet token of the JSON
`{"id": <session id>, "at": <stored at, epoch seconds>, "data": {...}}`. The expiry timestamp
is inside, so whoever can write to the store cannot prolong a session, and so is the id, so an
entry copied under another session's key is refused. An entry no key decrypts (tampered, or
made under a key no longer configured) counts as no session: signed out, never an error.

A store that cannot be reached (Redis down or stalled) is not "signed out": a page that reads
the session answers 503 (`SessionsUnreachable`, the page says to try again), and nothing is
written. Routes marked `sessionless` (the probes, static files) never read the session at all,
so a Redis outage does not make the liveness probe fail and restart every web process.

The cookie is SameSite=Lax, so no other site's form or frame carries it. A library CMS on another
site that embeds the page (PORTAL_EMBED_CROSS_SITE=1, docs/embedding.md) needs it sent inside its
iframe: it is then SameSite=None and always Secure (browsers drop SameSite=None without Secure),
and the POST origin check (portal.web.security.check_post_origin) with the CSRF token guard forms.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any

from flask import Flask, Request, Response, session
from flask.sessions import NullSession, SessionInterface, SessionMixin
from flask_babel import lazy_gettext
from werkzeug.datastructures import CallbackDict

from portal import clock
from portal.auth.session_crypto import SessionCipher, UnreadableEntry
from portal.auth.sessionless import sessionless_paths
from portal.config import Settings
from portal.kvstore import STORE_ERRORS, store
from portal.observability import metrics
from portal.read_ahead import forget_session, read_with
from portal.web.unavailable import TryAgainSoon

log = logging.getLogger(__name__)

KEY_PREFIX = "session:"
# secrets.token_urlsafe(32) gives 43 URL-safe characters; anything else is not ours.
_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
# An unchanged session is re-stored (to slide its expiry) at most this often, so
# parallel requests (page + assets) rarely race to overwrite each other's writes.
_MAX_REFRESH_INTERVAL = 60.0


class SessionsUnreachable(TryAgainSoon):
    """The session store cannot be reached: whether the visitor is signed in is not known."""

    title = lazy_gettext("We cannot check your sign-in right now")
    message = lazy_gettext("We cannot check your sign-in right now. Please try again in a moment.")


class UnreachableSession(NullSession):
    """The session of a request whose entry could not be read: any use of it answers 503.

    Never an empty session that would look signed out: the borrower would be sent to sign in
    again, which cannot work either, and a view might act on "no session". Flask stores no null
    session, so nothing is written over the entry that is still there.
    """

    def _unreachable(self, *args: Any, **kwargs: Any) -> Any:
        raise SessionsUnreachable()

    __getitem__ = get = __contains__ = __iter__ = __len__ = keys = values = items = copy = _unreachable
    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _unreachable


def _new_id() -> str:
    return secrets.token_urlsafe(32)


def _key(session_id: str) -> str:
    return KEY_PREFIX + session_id


def _now() -> float:
    return clock.now().timestamp()


@dataclass(frozen=True)
class StoredSession:
    """One decrypted entry: the data, when it was stored, and whether an older key sealed it."""

    data: dict[str, Any]
    at: float
    older_key: bool = False


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
        self.reseal = False  # sealed under an older key: store again under the current one
        self.unsaved = False  # the store failed when this session was to be written

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
    def __init__(self, lifetime: int, cipher: SessionCipher) -> None:
        self.lifetime = lifetime
        self.refresh_interval = min(_MAX_REFRESH_INTERVAL, lifetime / 4)
        self.cipher = cipher
        self._sessionless: tuple[frozenset[str], tuple[str, ...]] | None = None

    def read(self, session_id: str) -> StoredSession | None:
        """The decrypted entry of `session_id`, expired or not; None when there is none or it is unreadable."""
        # With the keys this session's last page read after it, in the same round trip (portal.read_ahead).
        stored = read_with(store.cache, _key(session_id))
        if stored is None:
            return None
        try:
            payload, older_key = self.cipher.open(stored)
            data, at = payload.get("data"), payload.get("at")
            if payload.get("id") != session_id:
                raise UnreadableEntry("made for another session id")
            if not isinstance(data, dict) or isinstance(at, bool) or not isinstance(at, int | float):
                raise UnreadableEntry("not a session payload")
        except UnreadableEntry as unreadable:
            # Never the entry itself, nor the id (the cookie's bearer secret), in the log.
            log.warning("server-side session entry unreadable, treated as signed out: %s", unreadable)
            return None
        return StoredSession(data, float(at), older_key)

    def write(self, session_id: str, data: dict[str, Any], at: float) -> None:
        """Encrypt and store the entry of `session_id` under the current key."""
        sealed = self.cipher.seal({"id": session_id, "at": at, "data": data})
        # The entry's "at" decides expiry (open_session); the cache TTL only cleans
        # up, with a second to spare because backends round TTLs to whole seconds.
        store.set(_key(session_id), sealed, timeout=self.lifetime + 1)

    def open_session(self, app: Flask, request: Request) -> SessionMixin:
        if self._needs_no_session(app, request.path):
            return self.make_null_session(app)
        cookie_id = request.cookies.get(self.get_cookie_name(app))
        if cookie_id and _ID_PATTERN.fullmatch(cookie_id):
            try:
                stored = self.read(cookie_id)
            except STORE_ERRORS as exc:
                metrics.record_session_store_error("read")
                log.warning("session store unreachable, the page answers 503: %s", type(exc).__name__)
                return UnreachableSession()
            if stored is not None and _now() - stored.at < self.lifetime:
                opened = ServerSession(stored.data, cookie_id, cookie_id, stored.at)
                opened.reseal = stored.older_key
                return opened
        # Unknown, expired, unreadable or forged id: start afresh under a new id (never
        # adopt an id the browser chose — that would allow session fixation).
        return ServerSession(cookie_id=cookie_id)

    def _needs_no_session(self, app: Flask, path: str) -> bool:
        # Worked out once, on the first request: by then every route is registered (Flask refuses later ones).
        if self._sessionless is None:
            self._sessionless = sessionless_paths(app)
        exact, prefixes = self._sessionless
        return path in exact or path.startswith(prefixes)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        if session.unsaved:
            return  # the store failed on this request's first try: its error answer stores nothing
        if session.accessed:
            response.vary.add("Cookie")
        if not session:
            try:
                self._forget(app, session, response)
            except SessionsUnreachable:
                session.unsaved = True
                raise
            return
        now = _now()
        if session.session_id is None:
            session.session_id = _new_id()
        changed = session.modified or session.stored_at == 0.0
        if changed or session.reseal or now - session.stored_at >= self.refresh_interval:
            try:
                self.write(session.session_id, dict(session), now)
            except STORE_ERRORS as exc:
                metrics.record_session_store_error("write" if changed else "refresh")
                if changed:
                    # What the request did (a sign-in, say) is not stored: never answer as if it were.
                    session.unsaved = True
                    raise SessionsUnreachable() from exc
                # Only the sliding expiry was to move: the entry stands, the next request tries again.
                log.warning("session store unreachable, expiry not refreshed: %s", type(exc).__name__)
                return
            session.stored_at, session.reseal = now, False
        if session.cookie_id != session.session_id:
            self._set_cookie(app, response, session.session_id)

    def _forget(self, app: Flask, session: ServerSession, response: Response) -> None:
        # Empty sessions are never stored: bots and anonymous visitors cost no cache entry.
        if session.session_id is not None:
            _delete(session.session_id)
        if session.cookie_id is not None:
            response.delete_cookie(
                self.get_cookie_name(app),
                domain=self.get_cookie_domain(app),
                path=self.get_cookie_path(app),
                secure=self._secure(app),
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
            secure=self._secure(app),
            httponly=True,
            samesite=self._samesite(app),
        )

    def _samesite(self, app: Flask) -> str:
        if _cross_site(app):
            # Sent inside the library's cross-site iframe too (only with Secure, see _secure).
            return "None"
        # Lax, not Strict: the browser must send the cookie on the IdP's redirect back.
        return self.get_cookie_samesite(app) or "Lax"

    def _secure(self, app: Flask) -> bool:
        # Browsers refuse SameSite=None without Secure; on http://127.0.0.1 (tests) they still
        # keep a Secure cookie, loopback counting as a secure context.
        return _cross_site(app) or self.get_cookie_secure(app)


def _cross_site(app: Flask) -> bool:
    settings: Settings = app.config["PORTAL_SETTINGS"]
    return settings.embed_cross_site


def regenerate_session() -> None:
    """Move the current session's data to a new id and delete the old entry (call at login)."""
    current = _current()
    if current.session_id is not None:
        _delete(current.session_id)
    current.session_id = None
    current.modified = True


def destroy_session() -> None:
    """Delete the session's data and entry; the response removes the cookie."""
    current = _current()
    if current.session_id is not None:
        _delete(current.session_id)
    current.session_id = None
    current.clear()


def _delete(session_id: str) -> None:
    key = _key(session_id)
    try:
        store.delete(key)
    except STORE_ERRORS as exc:
        metrics.record_session_store_error("delete")
        # A sign-out that left the entry behind must not say it signed out: the id would still work.
        raise SessionsUnreachable() from exc
    forget_session(key)  # what this worker learned of its reads goes with it


def _current() -> ServerSession:
    current = session._get_current_object()  # type: ignore[attr-defined]
    if not isinstance(current, ServerSession):
        raise RuntimeError("the app does not use server-side sessions (portal.auth.init_app)")
    return current


def init_sessions(app: Flask, lifetime: int) -> None:
    """Server-side sessions for `app`, encrypted with keys derived from its secret key and fallbacks."""
    settings: Settings = app.config["PORTAL_SETTINGS"]
    cipher = SessionCipher(settings.secret_key, settings.secret_key_fallbacks)
    app.session_interface = ServerSessionInterface(lifetime, cipher)
