"""FBI API (DBC's bibliographic GraphQL service) JSON -> `Work`s, at the boundary.

The envelope is checked strictly: an answer that is not JSON, has no `data`, or whose list does
not line up with the FAUST numbers asked for is one `UpstreamBadResponse` (the page then shows
item numbers). Each manifestation is read leniently: it is only a title beside a fee, so one odd
entry is left out (its fee shows the item number) rather than costing the other titles, and an
odd optional field is just missing. Messages name fields and counts, never FAUST numbers or
titles: together with a session they would say what someone borrowed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from portal.domain.works import Work
from portal.providers.json_fields import JsonFields

PROVIDER = "fbi"
# FAUST numbers are 8 or 9 digits (older ones 8); always text, never an int (leading zeros).
FAUST = re.compile(r"[0-9]{8,9}")
# Longer texts are cut: a fee row has no room for them, and the cache stays small.
MAX_TEXT = 300
MAX_CREATORS = 5
_YEAR = re.compile(r"(?<![0-9])([0-9]{4})(?![0-9])")
_fields = JsonFields(PROVIDER)
_bad = _fields.bad


@dataclass(frozen=True)
class WorksAnswer:
    """What one look-up said: the works it could read, and the FAUST numbers FBI does not know."""

    works: dict[str, Work]
    unknown: frozenset[str]
    unreadable: int = 0  # entries present but not understood (neither a work nor "unknown")


def is_faust(value: object) -> bool:
    return isinstance(value, str) and FAUST.fullmatch(value) is not None


def valid_fausts(values: Iterable[str | None]) -> list[str]:
    """The FAUST numbers among `values`, each once, in order; anything else (None, local ids) dropped."""
    found = [v for v in values if isinstance(v, str) and FAUST.fullmatch(v)]
    return list(dict.fromkeys(found))


def parse_works(body: bytes | str, fausts: Sequence[str]) -> WorksAnswer:
    """The answer to a `manifestations(faust: $faust)` query asked with `fausts`, in that order."""
    envelope = _fields.object(_fields.loads(body), "answer")
    data = envelope.get("data")
    if not isinstance(data, dict):
        errors = envelope.get("errors")
        count = len(errors) if isinstance(errors, list) else 0
        _bad(f"answer has no data ({count} GraphQL errors)")
    items = _fields.list(data.get("manifestations"), "data.manifestations")
    if len(items) != len(fausts):
        # The list follows the input order; with another length nothing can be matched safely.
        _bad(f"data.manifestations has {len(items)} entries for {len(fausts)} FAUST numbers")
    works: dict[str, Work] = {}
    unknown: set[str] = set()
    unreadable = 0
    for faust, item in zip(fausts, items, strict=True):
        if item is None:
            unknown.add(faust)
            continue
        work = parse_manifestation(item, faust)
        if work is None:
            unreadable += 1
        else:
            works[faust] = work
    return WorksAnswer(works, frozenset(unknown), unreadable)


def parse_manifestation(item: Any, faust: str) -> Work | None:
    """One manifestation as a `Work`, or None when it has no readable title."""
    if not isinstance(item, dict):
        return None
    title = _title(item.get("titles"))
    if title is None:
        return None
    return Work(
        faust=faust,
        title=title,
        creators=_creators(item.get("creators")),
        material_type=_material_type(item.get("materialTypes")),
        year=_year(item.get("edition")),
    )


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text[:MAX_TEXT] or None


def _title(titles: Any) -> str | None:
    if not isinstance(titles, dict):
        return None
    for key in ("full", "main"):
        values = titles.get(key)
        if isinstance(values, list):
            found = next((t for t in map(_text, values) if t), None)
            if found:
                return found
    return None


def _displays(items: Any) -> list[str]:
    """The non-empty `display` texts of a list of objects (wrong shapes are skipped)."""
    if not isinstance(items, list):
        return []
    texts = (_text(item.get("display")) for item in items if isinstance(item, dict))
    return [t for t in texts if t]


def _creators(creators: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_displays(creators)))[:MAX_CREATORS]


def _material_type(types: Any) -> str | None:
    if not isinstance(types, list):
        return None
    specific = [t.get("materialTypeSpecific") for t in types if isinstance(t, dict)]
    found = _displays(specific)
    return found[0] if found else None


def _year(edition: Any) -> int | None:
    if not isinstance(edition, dict):
        return None
    display = _displays([edition.get("publicationYear")])
    # The display may be "2019", "[2019]" or "2019-2020": the first four-digit year counts.
    match = _YEAR.search(display[0]) if display else None
    year = int(match.group(1)) if match else None
    return year if year is not None and 1400 <= year <= 2200 else None
