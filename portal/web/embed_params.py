"""The query parameters an embedding CMS passes to the embed pages, checked strictly.

Nothing here reaches a page unchecked: a theme value is a colour (`#rgb`/`#rrggbb`) or a short
font list of safe characters, else it is dropped; the CMS page's address (`parent`) counts only
when its origin is one of the library's `embed_origins`, else it is as if none was given. So no
value a third party puts in the iframe's URL is ever reflected, in CSS, a link or a redirect.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from portal.libraries.validation import RuleError, canonical_origin

MAX_PARENT_URL = 2000
_COLOUR = re.compile(r"#(?:[0-9a-f]{3}|[0-9a-f]{6})")
# A font-family list of plain names: letters, digits, spaces, commas and hyphens ("Open Sans,
# Arial, sans-serif"). No quotes, semicolons, braces, slashes or parentheses: nothing that could
# end the declaration, open a comment or call url().
_FONT = re.compile(r"[A-Za-z][A-Za-z0-9 ,-]{0,79}")


@dataclass(frozen=True)
class ThemeParam:
    name: str  # the query parameter (data-<name> on the snippet)
    prop: str  # the CSS custom property inside the iframe
    pattern: re.Pattern[str]


THEME_PARAMS = (
    ThemeParam("color-primary", "--gp-color-primary", _COLOUR),
    ThemeParam("color-text", "--gp-color-text", _COLOUR),
    ThemeParam("color-background", "--gp-color-background", _COLOUR),
    ThemeParam("font-family", "--gp-font-family", _FONT),
)


def theme_values(args: Mapping[str, str]) -> dict[str, str]:
    """{parameter: value} of the valid theme parameters in `args`; anything else is left out."""
    chosen = {}
    for param in THEME_PARAMS:
        raw = args.get(param.name)
        if raw is None:
            continue
        value = raw.strip().lower() if param.pattern is _COLOUR else " ".join(raw.split())
        if param.pattern.fullmatch(value):
            chosen[param.name] = value
    return chosen


def theme_css(values: Mapping[str, str]) -> str:
    """The custom properties of `values` (already checked by `theme_values`) as a stylesheet."""
    props = {param.name: param.prop for param in THEME_PARAMS}
    lines = [f"  {props[name]}: {value};" for name, value in values.items() if name in props]
    return ":root {\n" + "\n".join(lines) + "\n}\n"


def parent_url(raw: str | None, embed_origins: tuple[str, ...]) -> str | None:
    """The embedding CMS page's address, fragment dropped, when its origin is allowed; else None."""
    if not raw or len(raw) > MAX_PARENT_URL or not embed_origins:
        return None
    # No whitespace, control characters or backslashes (browsers read "\\" as "/").
    if any(char <= " " or char in "\\\x7f" for char in raw):
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or parts.username is not None or parts.password is not None:
        return None
    try:
        site = canonical_origin(f"{parts.scheme}://{parts.netloc}")
    except (RuleError, ValueError):
        return None
    if site not in embed_origins:
        return None
    scheme, netloc = site.split("://", 1)
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def origin_of(url: str) -> str:
    """`https://www.example.dk/side?x` -> `https://www.example.dk` (of a URL `parent_url` returned)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
