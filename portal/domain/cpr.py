"""CPR numbers: as IdPs send them ('0101901111' or '010190-1111'), and as providers take them."""

from __future__ import annotations

import re

from portal.domain.digits import ascii_digits

# [0-9], not \d: \d also matches other scripts' digits, which FBS would not know.
_CPR = re.compile(r"([0-9]{6})-?([0-9]{4})")


def normalise_cpr(value: object) -> str | None:
    """The 10 digits of a CPR claim, or None when it is missing or not a CPR number.

    Numbers are refused on purpose: a JSON number has already lost leading zeros.
    """
    if not isinstance(value, str):
        return None
    match = _CPR.fullmatch(value.strip())
    return match[1] + match[2] if match else None


def require_cpr(value: object) -> str:
    """`value` if it is a normalised CPR number (10 ASCII digits), else ValueError.

    Providers check before sending one anywhere; the message leaves the value out, since a
    malformed CPR number is still personal data.
    """
    if not (isinstance(value, str) and len(value) == 10 and ascii_digits(value)):
        raise ValueError("cpr must be a string of 10 digits")
    return value
