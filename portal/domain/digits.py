"""Whole numbers typed or sent as text: ASCII digits only.

`str.isdigit()` alone also accepts "²", "①" or Arabic-Indic digits, some of which `int()` then
refuses (a 500 instead of a clear refusal) and some it reads as another number ("５０４" as 504).
"""

from __future__ import annotations


def ascii_digits(text: str, *, most: int | None = None) -> bool:
    """True if `text` is one or more of 0-9 (and at most `most` of them, when given)."""
    return text.isascii() and text.isdigit() and (most is None or len(text) <= most)
