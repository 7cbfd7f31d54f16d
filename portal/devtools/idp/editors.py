"""Demo library editors the dev IdP can sign in to the editor area (`/editor/`).

The libraries claim lists the slugs an editor may edit, or is "*" for an administrator of
all libraries — the shape the portal expects from the organisation's IdP. The payments claim
has the same shape and says whose card payments the person reviews as payment staff; the two
are granted apart (Rasmus edits without payments, Bente handles payments without editing).
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
    payments: tuple[str, ...] | Literal["*"] = ()

    def libraries_claim(self) -> list[str] | str:
        """The claim value: "*" for an administrator, else a JSON list of slugs."""
        return _claim(self.libraries)

    def payments_claim(self) -> list[str] | str:
        """The payments claim's value, shaped like the libraries claim."""
        return _claim(self.payments)


def _claim(slugs: tuple[str, ...] | Literal["*"]) -> list[str] | str:
    return ALL_LIBRARIES if slugs == ALL_LIBRARIES else list(slugs)


EDITORS: tuple[DemoEditor, ...] = (
    DemoEditor("editor-lone", "Lone Lyngby", "redaktør og betalinger for Lyngby", ("lyngby",), ("lyngby",)),
    DemoEditor("editor-rasmus", "Rasmus Rødovre", "redaktør for Rødovre", ("rodovre",)),
    DemoEditor("editor-ada", "Ada Admin", "administrator for alle biblioteker", ALL_LIBRARIES, ALL_LIBRARIES),
    DemoEditor("editor-bente", "Bente Betaling", "betalinger for Lyngby (redigerer ikke)", (), ("lyngby",)),
    DemoEditor("editor-niels", "Niels Nobody", "uden biblioteker (ser ingen)", ()),
)
