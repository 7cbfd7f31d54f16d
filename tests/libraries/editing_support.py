"""Libraries and helpers for the editing tests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy.orm import Session

from portal.libraries.editing import EditorState, form_values, load_state
from portal.libraries.library import Library
from portal.libraries.repository import upsert_libraries

LYNGBY = Library(
    "lyngby",
    "Lyngby-Taarbæk Bibliotekerne",
    "DK-717300",
    date(2021, 6, 15),
    kodelinje="+73< +86836084<",
    payment_overview_url="https://www.ltk.dk/",
    texts={"da": {"intro": "Før {cutoff_date}"}},
)
RODOVRE = Library("rodovre", "Rødovre Bibliotek", "DK-717500", date(2019, 7, 1))


def seed(session: Session, *libraries: Library) -> None:
    """Store `libraries` the way the libraries file does (revision 1, action "load")."""
    upsert_libraries(session, list(libraries) or [LYNGBY, RODOVRE], by="file:seed.toml")


def state_of(session: Session, slug: str = "lyngby") -> EditorState:
    state = load_state(session, slug)
    assert state is not None
    return state


def edited(library: Library, changes: Mapping[str, str]) -> dict[str, str]:
    """The library's form with some fields changed, as a browser would submit it."""
    return {**form_values(library), **changes}
