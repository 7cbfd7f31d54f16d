"""The library form sent after the editor's sign-in ended: kept until they are signed in again.

An editor who writes a long text may find, on "Gem kladde", that their sign-in expired (or that
they signed out in another tab). The guard answers 401 and saves nothing — but the typing must
not be lost. So the main form's fields go into the browser's server-side session (not a cookie,
not a URL), and the next time that library's form opens with an editor signed in, it is filled
in with them: unsaved, marked as such, with the version it was loaded at, so saving still meets
any change another editor made meanwhile.

Only a form the browser says came from the portal's own pages is kept (Fetch Metadata, as for a
stale token in portal.editor.csrf): a post from another site must not plant text in an editor's
next form. Kept for one form at a time, for at most `KEPT_FOR`, and dropped at sign-out, so a
shared computer does not hand one editor's unsent words to the next.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import session

from portal import clock
from portal.editor.forms import submitted

__all__ = ["KEPT_FOR", "KeptForm", "forget", "keep", "take"]

SESSION_KEY = "editor_unsent"
# Long enough to find the password and sign in again; short enough that a shared computer's next
# editor is unlikely to meet someone else's text.
KEPT_FOR = timedelta(hours=2)


@dataclass(frozen=True)
class KeptForm:
    fields: dict[str, str]
    version: str


def keep(slug: str, form: Mapping[str, str]) -> None:
    """Keep the library form of `slug` as sent (its own fields and version; never the CSRF token)."""
    session[SESSION_KEY] = {
        "slug": slug,
        "fields": submitted(form),
        "version": form.get("version", ""),
        "kept_at": clock.now().isoformat(),
    }


def take(slug: str) -> KeptForm | None:
    """The form kept for `slug`, once; None when there is none, it is another library's, or too old."""
    kept = session.get(SESSION_KEY)
    if not isinstance(kept, dict) or kept.get("slug") != slug:
        return None
    forget()
    try:
        kept_at = datetime.fromisoformat(kept["kept_at"])
        fields, version = dict(kept["fields"]), str(kept["version"])
    except (KeyError, TypeError, ValueError):  # kept by a version with other fields
        return None
    if clock.now() - kept_at > KEPT_FOR:
        return None
    return KeptForm(submitted(fields), version)


def forget() -> None:
    session.pop(SESSION_KEY, None)
