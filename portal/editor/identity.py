"""The signed-in editor: who, which libraries, kept server-side under its own session key.

Two claims of the organisation's IdP say what an editor may do, each for its own libraries:
the libraries claim (edit the library's page) and the payments claim (review the library's
card payments). Neither implies the other: staff who settle payments need not edit texts.

The editor's part of the session is independent of the citizen's: signing an editor in or
out never touches a citizen signed in in the same browser, and the other way round
(see portal.auth.views: the citizen's sign-in keeps SESSION_KEY).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from flask import session

from portal.auth.sessions import regenerate_session

log = logging.getLogger(__name__)

SESSION_KEY = "editor"
# The libraries claim's value for an administrator of every library.
ALL_LIBRARIES = "*"


@dataclass(frozen=True)
class Editor:
    """A library editor signed in with the organisation's IdP."""

    sub: str
    name: str
    issuer: str
    administrator: bool  # may edit every library
    libraries: tuple[str, ...]  # slugs; only read when not an administrator
    csrf_token: str  # per sign-in; every POST form of the area carries it back
    id_token: str | None  # id_token_hint at logout (an editor's token carries no CPR number)
    # The payments claim, read like the libraries claim. Defaults grant nothing, so a session
    # stored before the claim existed stays signed in without payment rights.
    all_payments: bool = False  # payment staff of every library
    payment_libraries: tuple[str, ...] = ()  # slugs; only read when not `all_payments`

    def may_edit(self, slug: str) -> bool:
        return self.administrator or slug in self.libraries

    def may_review_payments(self, slug: str) -> bool:
        return self.all_payments or slug in self.payment_libraries

    @property
    def label(self) -> str:
        """Who did it, for the history: the name people know, and the IdP's stable subject."""
        return f"{self.name} ({self.sub})" if self.name else self.sub


def libraries_claim(value: Any, claim: str = "libraries") -> tuple[bool, tuple[str, ...]]:
    """(all libraries, slugs) from a libraries-shaped claim: "*", or a list of slugs (which may hold "*").

    Anything else (missing, a number, a comma-separated string) grants nothing: a claim the
    portal cannot read must never widen what an editor may do. `claim` names it in the log.
    """
    if value == ALL_LIBRARIES:
        return True, ()
    if not isinstance(value, list):
        if value is not None:
            log.warning(
                "editor %s claim ignored: expected a list or %r, got %s", claim, ALL_LIBRARIES, type(value).__name__
            )
        return False, ()
    slugs = tuple(sorted({item for item in value if isinstance(item, str) and item}))
    if ALL_LIBRARIES in slugs:
        return True, ()
    return False, slugs


def payments_claim(value: Any) -> tuple[bool, tuple[str, ...]]:
    """(all libraries, slugs) whose card payments the editor may review; the libraries claim's rules."""
    return libraries_claim(value, "payments")


def current_editor() -> Editor | None:
    data = session.get(SESSION_KEY)
    if not data:
        return None
    try:
        payments = tuple(data.get("payment_libraries", ()))
        return Editor(**{**data, "libraries": tuple(data["libraries"]), "payment_libraries": payments})
    except (TypeError, KeyError):  # stored by a version with other fields: treat as signed out
        return None


def start_editor_session(editor: Editor) -> None:
    """Sign `editor` in; a new session id (against fixation), a citizen's sign-in is kept."""
    regenerate_session()
    # A plain dict: a changed dataclass never breaks reading old entries.
    session[SESSION_KEY] = asdict(editor)


def end_editor_session() -> None:
    """Sign the editor out and renew the session id; whatever else the session holds stays."""
    session.pop(SESSION_KEY, None)
    regenerate_session()
