"""503 answers for a dependency the portal cannot reach now: the session store, the database.

One shape, so every such page says the same things the same way: nothing shown as known, a
sentence saying what is wrong, and `Retry-After` telling the browser (or the library's CMS)
when to ask again. The error pages render them (portal.web.errors).
"""

from __future__ import annotations

from typing import ClassVar

from flask_babel import LazyString
from werkzeug.exceptions import ServiceUnavailable

# Seconds a browser (or the library's CMS) is told to wait before asking again.
RETRY_AFTER = 30


class TryAgainSoon(ServiceUnavailable):
    """A dependency cannot be reached; `title` and `message` (lazy translations) say which, to the reader."""

    title: ClassVar[LazyString]
    message: ClassVar[LazyString]

    def __init__(self) -> None:
        super().__init__(description=self.message, retry_after=RETRY_AFTER)
