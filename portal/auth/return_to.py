"""Where a borrower goes after signing in or out: an allow-listed page of the library's own site.

The library's CMS embeds the page (issue 10) and starts sign-in at top level with
`return_to=<the CMS page>`. Only an absolute http(s) URL whose origin is one of the library's
`embed_origins` is accepted; anything else is ignored (never an open redirect), and the borrower
lands on the library's page in the portal.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from portal.libraries.library import Library
from portal.libraries.validation import RuleError, canonical_origin

MAX_RETURN_TO = 2000


def allowed_return_to(library: Library, value: object) -> str | None:
    """`value` when it is a page of one of `library`'s embedding sites, else None."""
    if not isinstance(value, str) or not value or len(value) > MAX_RETURN_TO or not library.embed_origins:
        return None
    # Browsers strip tabs and newlines from URLs and read "\" as "/": such a URL may mean another
    # host to the browser than to urlsplit. Refused outright, as is any other control character.
    if any(ch.isspace() or ch == "\\" or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        return None
    try:
        # The netloc whole: a user name or password in it makes canonical_origin refuse.
        found = canonical_origin(f"{parts.scheme}://{parts.netloc}")
    except RuleError:
        return None
    return value if found in library.embed_origins else None
