"""What a borrower borrowed, as DBC's bibliographic FBI API names it (issue 9): for fee rows.

Keyed by the FAUST number FBS gives as a material's record id. Nothing here is personal: the
same record has the same title for every borrower, so it may be cached long.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Work:
    """One manifestation: its title, creators, material type and year (any may be missing)."""

    faust: str
    title: str
    creators: tuple[str, ...] = ()
    material_type: str | None = None
    year: int | None = None
