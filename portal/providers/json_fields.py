"""Typed reads of an upstream's decoded JSON, shared by the providers' parsers.

Every check that fails raises `UpstreamBadResponse` for the provider the reader was made for,
so one broken answer is one error naming that provider. Messages name fields, never values:
values can be personal data. Rules that differ per provider (texts, amounts) stay in the
provider's own parser.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any, NoReturn, TypeVar

from portal.providers.errors import UpstreamBadResponse

T = TypeVar("T")

# Plain ISO dates only; date.fromisoformat alone would also take "20210330".
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class JsonFields:
    """The field readers for one provider's answers."""

    def __init__(self, provider: str) -> None:
        self.provider = provider

    def bad(self, what: str) -> NoReturn:
        raise UpstreamBadResponse(self.provider, what)

    def loads(self, body: bytes | str) -> Any:
        """Decode a body; JSON numbers with a fraction become Decimal, never float."""
        try:
            return json.loads(body, parse_float=Decimal, parse_constant=self._reject_constant)
        except (ValueError, RecursionError):
            # json.JSONDecodeError and UnicodeDecodeError are both ValueErrors.
            self.bad("body is not valid JSON")

    def _reject_constant(self, name: str) -> NoReturn:
        # NaN and Infinity are not JSON, though Python's json module accepts them.
        self.bad(f"JSON contains {name}")

    def object(self, value: Any, what: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.bad(f"{what} is not an object")
        return value

    def list(self, value: Any, what: str) -> list[Any]:
        if not isinstance(value, list):
            self.bad(f"{what} is not a list")
        return value

    def required(self, obj: dict[str, Any], key: str, what: str, kind: type[T], label: str) -> T:
        """`obj[key]`, which must be present and a `kind` (`label` names it: "an integer")."""
        if key not in obj:
            self.bad(f"{what}: {key} is missing")
        return self._typed(obj[key], key, what, kind, label)

    def optional(self, obj: dict[str, Any], key: str, what: str, kind: type[T], label: str) -> T | None:
        """`obj[key]` if present and not null, which must then be a `kind`; else None."""
        value = obj.get(key)
        return None if value is None else self._typed(value, key, what, kind, label)

    def _typed(self, value: Any, key: str, what: str, kind: type[T], label: str) -> T:
        # bool is an int in Python; `true` is not an id.
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            self.bad(f"{what}: {key} is not {label}")
        return value

    # Annotations say dt.date: in the class body `date` is this method.
    def date(self, obj: dict[str, Any], key: str, what: str) -> dt.date:
        """A required YYYY-MM-DD date; null counts as missing."""
        if obj.get(key) is None:
            self.bad(f"{what}: {key} is missing")
        return self._parse_date(obj[key], key, what)

    def optional_date(self, obj: dict[str, Any], key: str, what: str) -> dt.date | None:
        value = obj.get(key)
        return None if value is None else self._parse_date(value, key, what)

    def _parse_date(self, value: Any, key: str, what: str) -> dt.date:
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            self.bad(f"{what}: {key} is not a date (YYYY-MM-DD)")
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.bad(f"{what}: {key} is not a valid calendar date")
