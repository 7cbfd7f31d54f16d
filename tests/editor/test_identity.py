"""Which libraries an editor may edit: exactly the slugs of the claim, never a slug that merely starts alike."""

from __future__ import annotations

import pytest

from portal.editor.identity import Editor


def editor(libraries: tuple[str, ...], administrator: bool = False) -> Editor:
    return Editor(
        sub="s", name="N", issuer="i", administrator=administrator, libraries=libraries, csrf_token="t", id_token=None
    )


@pytest.mark.parametrize(
    ("libraries", "slug", "allowed"),
    [
        (("lyngby",), "lyngby", True),
        (("lyngby",), "lyngby-boern", False),  # a longer slug starting with an allowed one
        (("lyngby-boern",), "lyngby", False),  # a shorter slug that an allowed one starts with
        (("lyngby-boern",), "lyngby-boern", True),
        (("lyngby", "rodovre"), "rodovre", True),
        (("lyngby",), "lyngb", False),
        ((), "lyngby", False),
    ],
)
def test_may_edit_exactly_the_listed_slugs(libraries: tuple[str, ...], slug: str, allowed: bool) -> None:
    assert editor(libraries).may_edit(slug) is allowed


def test_an_administrator_may_edit_every_library() -> None:
    assert editor((), administrator=True).may_edit("lyngby-boern")
