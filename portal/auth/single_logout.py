"""Adgangsplatformen's single logout: ending the portal session of a user token DBC logged out.

When a borrower logs out of Adgangsplatformen anywhere (the library's CMS, another client),
DBC calls each client's single-logout path. The portal then ends the session that belongs to
that borrower's user token, in two ways that back each other up:

- an index `adgangsplatformen:session:<sha256(token)>` -> session id, written when the
  sign-in's session is stored, lets the endpoint delete that session's entry at once;
- a mark `adgangsplatformen:revoked:<sha256(token)>`, kept for a session lifetime, makes any
  session still carrying the token count as signed out at its next request (its id may have
  changed since the index was written, e.g. by the editor area's sign-in).

Keys hold the token's SHA-256, never the token itself.
"""

from __future__ import annotations

import hashlib
from typing import Any, cast

from flask import Flask, current_app, g, request_finished, session
from werkzeug.local import LocalProxy

from portal import signals
from portal.auth.sessions import KEY_PREFIX
from portal.kvstore import store

_INDEX = "adgangsplatformen:session:"
_REVOKED = "adgangsplatformen:revoked:"
_PENDING_INDEX = "portal_adgangsplatformen_index"  # flask.g: the token hash of this request's sign-in


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _lifetime() -> int:
    lifetime: int = current_app.config["PORTAL_SETTINGS"].session_lifetime
    return lifetime


def index_at_sign_in(token: str) -> None:
    """Remember this request's new session under `token` once it is stored (its id is made then)."""
    setattr(g, _PENDING_INDEX, token_hash(token))


def _write_index(app: Flask, **_: Any) -> None:
    # request_finished comes after the session interface stored the session and gave it its id.
    hashed = g.pop(_PENDING_INDEX, None)
    session_id = getattr(session._get_current_object(), "session_id", None)  # type: ignore[attr-defined]
    if hashed is None or not isinstance(session_id, str):
        return
    # The session slides; the revoked mark covers a session that outlives its index entry.
    store.set(_INDEX + hashed, session_id, timeout=_lifetime() + 1)


def is_revoked(token: str) -> bool:
    """Whether DBC logged this token out (single logout) within the last session lifetime."""
    return store.get(_REVOKED + token_hash(token)) is not None


def end_sessions_of(token: str) -> bool:
    """Mark `token` logged out and delete the session signed in with it; whether one was found."""
    hashed = token_hash(token)
    store.set(_REVOKED + hashed, "1", timeout=_lifetime() + 1)
    session_id = store.get(_INDEX + hashed)
    if not isinstance(session_id, str):
        return False
    store.delete(_INDEX + hashed)
    interface = current_app.session_interface
    stored = interface.read(session_id) if hasattr(interface, "read") else None
    patrons = getattr(stored, "data", {}).get("patrons") or {}
    if isinstance(patrons, dict):
        # Like a logout in the portal: listeners drop what they cached for the borrower's patrons.
        app = cast("LocalProxy[Flask]", current_app)._get_current_object()
        signals.citizen_logged_out.send(app, patrons={a: p for a, p in patrons.items() if p is not None})
    store.delete(KEY_PREFIX + session_id)
    return True


def init_single_logout(app: Flask) -> None:
    request_finished.connect(_write_index, app)
