"""Demo library editors the dev IdP can sign in to the editor area (`/editor/`).

The libraries claim lists the slugs an editor may edit, or is "*" for an administrator of
all libraries — the shape the portal expects from the organisation's IdP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

ALL_LIBRARIES: Final = "*"


@dataclass(frozen=True)
class DemoEditor:
    """One person the dev IdP signs in for an editor client."""

    sub: str
    name: str
    description: str  # shown on the dev IdP's sign-in page
    libraries: tuple[str, ...] | Literal["*"] = ()

    def libraries_claim(self) -> list[str] | str:
        """The claim value: "*" for an administrator, else a JSON list of slugs."""
        return ALL_LIBRARIES if self.libraries == ALL_LIBRARIES else list(self.libraries)


EDITORS: tuple[DemoEditor, ...] = (
    DemoEditor("editor-lone", "Lone Lyngby", "redaktør for Lyngby", ("lyngby",)),
    DemoEditor("editor-rasmus", "Rasmus Rødovre", "redaktør for Rødovre", ("rodovre",)),
    DemoEditor("editor-ada", "Ada Admin", "administrator for alle biblioteker", ALL_LIBRARIES),
    DemoEditor("editor-niels", "Niels Nobody", "uden biblioteker (ser ingen)", ()),
)
