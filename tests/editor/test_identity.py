"""Which libraries an editor may edit: exactly the slugs of the claim, never a slug that merely starts alike."""

from __future__ import annotations

from dataclasses import replace

import pytest

from portal.editor.identity import Editor, libraries_claim, payments_claim


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


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("*", (True, ())),
        (["lyngby", "rodovre", "lyngby", ""], (False, ("lyngby", "rodovre"))),
        (["lyngby", "*"], (True, ())),
        ("lyngby,rodovre", (False, ())),  # not a list: grants nothing
        (None, (False, ())),
        (7, (False, ())),
    ],
)
def test_the_payments_claim_reads_like_the_libraries_claim(
    value: object, expected: tuple[bool, tuple[str, ...]]
) -> None:
    assert payments_claim(value) == libraries_claim(value) == expected


def test_editing_and_reviewing_payments_are_granted_apart() -> None:
    editing_only = editor(("lyngby",), administrator=False)
    assert editing_only.may_edit("lyngby") and not editing_only.may_review_payments("lyngby")
    administrator = editor((), administrator=True)
    assert not administrator.may_review_payments("lyngby")  # administering pages is not handling money
    staff = replace(editing_only, libraries=(), payment_libraries=("lyngby",))
    assert staff.may_review_payments("lyngby") and not staff.may_edit("lyngby")
    assert not staff.may_review_payments("lyngby-boern")
    assert replace(staff, all_payments=True).may_review_payments("lyngby-boern")
