"""Rendered overview pages, kept in process memory and keyed by everything that shapes the HTML.

Rendering the warm overview was most of its cost (issue 11: some 90 translations and hundreds
of macro calls a page), while the page is a pure function of a few values: the library as
published (the frozen `Library`, cut-off date in force included), the reader's language, the
page's path, the borrower's data and the card-payment state (the CSRF token included), and the
minute the statement is printed at. `render_overview` looks the page up by those values and
renders only on a miss.

Invalidation is by key, not by message: a publish or a scheduled cut-off date taking effect
is a new `Library`, a new fee or claim new data, a language switch another language, another
sign-in another borrower — each a key never seen before, so no stale page can be served and no
worker needs telling. Entries that are no longer asked for fall out of the bounded LRU. At
sign-out the borrower's pages are dropped at once (`citizen_logged_out`), so their HTML does
not outlive the session in this worker's memory.

The signed-out page (the sign-in invitation, `overview_page.render_signed_out`) is kept here too,
keyed by library, language and URL: it shows no one's data and has no owner.

The key holds no CPR number or token: the data is hashed with BLAKE2b under a key drawn at
random per process, so the digest says nothing outside it; the cache never leaves the process
(never Redis), and nothing of it is logged.
"""

from __future__ import annotations

import hashlib
import io
import logging
import pickle
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask

from portal.app_state import per_app
from portal.lru import BoundedLRU
from portal.signals import citizen_logged_out

log = logging.getLogger(__name__)

EXTENSION_KEY = "portal.web.page_cache"
# Some 20 KB a page: room for a few hundred borrowers' pages per worker.
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
# A bound the characters reach first; BoundedLRU counts entries too.
_MAX_PAGES = 1 << 20
# Drawn once per process: a digest is only meaningful here, never a way back to the data.
_DIGEST_KEY = secrets.token_bytes(32)

# (agency id, patron id): whose page it is, so sign-out can drop it.
Owner = tuple[str, int]
PageKey = tuple[object, bytes]


class _ValuesPickler(pickle.Pickler):
    """Pickles a database row (the card form's payment orders) as its columns' values.

    An ORM instance pickles its loaded attributes only: one whose attributes were expired would
    pickle alike whatever it holds. Reading every column instead either gives the values the
    template shows or fails (a detached, expired row): then the page is not cached.
    """

    def reducer_override(self, obj: Any) -> Any:
        table = getattr(type(obj), "__table__", None)
        if table is None:
            return NotImplemented
        columns = tuple((column.key, getattr(obj, column.key)) for column in table.columns)
        return (tuple, ((type(obj).__qualname__, columns),))


def digest(values: object) -> bytes | None:
    """A keyed digest of `values` (pickled), or None when they cannot be pickled (then: no caching).

    Equal values pickle alike in practice; when they do not, the cost is a miss, never a wrong page.
    """
    buffer = io.BytesIO()
    try:
        _ValuesPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(values)
    except Exception as exc:  # a context value of a kind pickle does not know: render every time
        log.debug("overview not cacheable (%s)", type(exc).__name__)
        return None
    return hashlib.blake2b(buffer.getbuffer(), key=_DIGEST_KEY, digest_size=32).digest()


@dataclass(frozen=True)
class _Entry:
    html: str
    owner: Owner | None


class RenderedPages:
    """A thread-safe LRU of rendered pages, bounded by the characters it holds."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._entries: BoundedLRU[PageKey, _Entry] = BoundedLRU(
            _MAX_PAGES, weigh=lambda entry: len(entry.html), max_weight=max_bytes
        )

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: PageKey) -> str | None:
        entry = self._entries.get(key)
        return None if entry is None else entry.html

    def put(self, key: PageKey, html: str, owner: Owner | None) -> None:
        """Keep the page (one larger than the whole bound is not kept)."""
        self._entries.put(key, _Entry(html, owner))

    def render(self, key: PageKey | None, owner: Owner | None, render: Callable[[], str]) -> str:
        """The page under `key`, rendered by `render()` and kept on a miss; `key` None: just rendered."""
        if key is None:
            return render()
        html = self.get(key)
        if html is None:
            html = render()
            self.put(key, html, owner)
        return html

    def forget_owners(self, owners: Iterable[Owner]) -> None:
        """Drop every page of these (agency id, patron id) pairs."""
        gone = set(owners)
        if gone:
            self._entries.drop_where(lambda entry: entry.owner in gone)

    def clear(self) -> None:
        self._entries.clear()


def rendered_pages(app: Flask | None = None) -> RenderedPages:
    """The pages of `app` (the current app when None): one cache per app, so per worker."""
    return per_app(EXTENSION_KEY, RenderedPages, RenderedPages, app)


@citizen_logged_out.connect
def _forget_signed_out(app: Flask, patrons: Mapping[str, int] | None = None, **_extra: Any) -> None:
    """Signed out: their pages go with the session (in this worker; the others' age out unseen)."""
    pages = app.extensions.get(EXTENSION_KEY)
    if isinstance(pages, RenderedPages):
        pages.forget_owners((agency_id, patron_id) for agency_id, patron_id in (patrons or {}).items())
