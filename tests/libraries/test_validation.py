"""The shared rules: one copy for the libraries file and the editor form, with machine codes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal import clock
from portal.libraries.edit_input import ValidationFailed, check_stored_characters, form_values, parse_form
from portal.libraries.editing import history, publish, save_draft
from portal.libraries.models import DraftRow
from portal.libraries.toml_loader import LibraryFileError, load_libraries_file
from portal.libraries.validation import (
    MAX_TEXT,
    RuleError,
    canonical_kodelinje,
    check_characters,
    check_name,
    check_payment_overview_url,
    check_text,
    clean_text,
    parse_iso_date,
)
from tests.libraries import editing_support
from tests.libraries.snippets import LYNGBY


@pytest.mark.parametrize(
    ("rule", "value", "code"),
    [
        (check_name, "", "required"),
        (check_name, "x" * 201, "too_long"),
        (parse_iso_date, "2021-02-30", "date"),
        (parse_iso_date, "2021-06-15T00:00", "date"),
        (parse_iso_date, "١٢٣٤-٠٦-١٥", "date"),  # non-ASCII digits are not a date here
        (canonical_kodelinje, "+73 86836084", "kodelinje.form"),
        (canonical_kodelinje, "+71< 000000002000015+86021447<", "kodelinje.check_digit"),
        (check_payment_overview_url, "ftp://www.ltk.dk/", "url"),
        (check_payment_overview_url, "https://", "url"),
        (check_payment_overview_url, "http://127.0.0.2/", "url"),
        (check_payment_overview_url, "https://a.dk/" + "x" * 500, "too_long"),
        (check_text, "{cutoff_date} {cut_off}", "placeholder"),
        (check_text, "x" * (MAX_TEXT + 1), "too_long"),
    ],
)
def test_each_rule_refuses_with_its_code(rule: Callable[[str], object], value: str, code: str) -> None:
    with pytest.raises(RuleError) as caught:
        rule(value)
    assert caught.value.code == code
    assert caught.value.message == str(caught.value) and "\n" not in caught.value.message


def test_accepted_values_come_back_as_stored() -> None:
    assert check_name("  Lyngby  ") == "Lyngby"
    assert parse_iso_date("2021-06-15") == date(2021, 6, 15)
    assert canonical_kodelinje("+73<+86836084<") == "+73< +86836084<"
    assert check_payment_overview_url("http://localhost:5000/x") == "http://localhost:5000/x"
    check_text("x" * (MAX_TEXT - len("{cutoff_date}")) + "{cutoff_date}")  # exactly the limit


def test_clean_text_keeps_the_markdown_as_written() -> None:
    # Markdown is stored as typed (sanitised when rendered): `&` and `>` must not become entities.
    assert clean_text("  **Før** {cutoff_date} & mere\r\n\r\n- a > b\r\n") == "**Før** {cutoff_date} & mere\n\n- a > b"
    assert clean_text(" \r\n ") is None


@pytest.mark.parametrize(
    ("field", "toml_key", "value"),
    [
        ("kodelinje", "kodelinje", "+75< 0000000000000001+86021447<"),
        ("kodelinje", "kodelinje", "+73< +96836084<"),
        ("payment_overview_url", "payment_overview_url", "http://www.ltk.dk/"),
        ("text.da.intro", "texts", "Før {cutoff}"),
    ],
)
def test_the_file_and_the_form_refuse_with_the_same_rule(
    write_toml: Callable[..., Path], field: str, toml_key: str, value: str
) -> None:
    if toml_key == "texts":
        toml = LYNGBY + f'[library.texts.da]\nintro = "{value}"\n'
    else:
        toml = LYNGBY + f'{toml_key} = "{value}"\n'
    with pytest.raises(LibraryFileError) as from_file:
        load_libraries_file(write_toml(toml))
    with pytest.raises(ValidationFailed) as from_form:
        parse_form({"name": "Lyngby", "cutoff_date": "2021-06-15", field: value})
    assert from_file.value.problem == from_form.value.errors[field]


# -- characters that cannot be stored --------------------------------------------------------------

REFUSED_CHARACTERS = [
    pytest.param("\x00", id="NUL"),
    pytest.param("\x01", id="SOH"),
    pytest.param("\x1b", id="ESC"),
    pytest.param("\x7f", id="DEL"),
    pytest.param("\x85", id="C1-NEL"),
    pytest.param("\x9f", id="C1-APC"),
    pytest.param("\ufffd", id="replacement-character"),
    pytest.param("\udc80", id="lone-surrogate"),  # what surrogateescape makes of an invalid byte
]


@pytest.mark.parametrize("multiline", [False, True], ids=["one-line", "text"])
@pytest.mark.parametrize("char", REFUSED_CHARACTERS)
def test_characters_that_cannot_be_stored_are_refused(char: str, multiline: bool) -> None:
    with pytest.raises(RuleError) as caught:
        check_characters(f"Før{char} {{cutoff_date}}", multiline)
    assert caught.value.code == "characters"
    message = caught.value.message
    assert f"(U+{ord(char):04X}) at position 4" in message and message.endswith("; remove it")
    assert char not in message and "\n" not in message  # printable on the loader's one line
    # The same value without the character is accepted, unchanged.
    assert check_characters("Før {cutoff_date}", multiline) == "Før {cutoff_date}"


@pytest.mark.parametrize("char", ["\t", "\n", "\r"])
def test_tabs_and_line_breaks_only_in_texts(char: str) -> None:
    text = f"Linje 1{char}Linje 2"
    assert check_characters(text, multiline=True) == text
    with pytest.raises(RuleError) as caught:
        check_characters(text, multiline=False)
    assert caught.value.code == "characters"
    assert "a tab or line break" in caught.value.message


def test_ordinary_text_of_any_script_passes() -> None:
    text = "Lyngby-Taarbæk Bibliotekerne · ÆØÅ æøå € « » – 15\xa0kr. 😀 Ελληνικά \u200b"
    assert check_characters(text, multiline=False) == text


# Each field with the place of its bad character marked by "@".
MARKED_FORM = {
    "name": "Lyngby@",
    "cutoff_date": "2021-06-15@",  # without the character rule: "date"
    "kodelinje": "+73< +86836084<@",
    "payment_overview_url": "https://www.ltk.dk/@",
    "text.da.intro": "Før@ {cutoff_date}",
    "text.en.extra_info": "Broken@ text",
}
BAD_CHARACTERS = dict(zip(MARKED_FORM, ["\x00", "\x00", "\x1b", "\x7f", "\ufffd", "\udc80"], strict=True))


def test_the_form_checks_every_field_for_characters_before_its_own_rule() -> None:
    bad = {name: value.replace("@", BAD_CHARACTERS[name]) for name, value in MARKED_FORM.items()}
    with pytest.raises(ValidationFailed) as caught:
        parse_form(bad)
    assert caught.value.codes == dict.fromkeys(MARKED_FORM, "characters")  # all reported at once
    # The same form without the characters is accepted.
    fields = parse_form({name: value.replace("@", "") for name, value in MARKED_FORM.items()})
    assert (fields["name"], fields["cutoff_date"], fields["text.en.extra_info"]) == (
        "Lyngby",
        "2021-06-15",
        "Broken text",
    )


def test_the_form_strips_surrounding_spacing_of_one_line_fields_and_keeps_it_in_texts() -> None:
    fields = parse_form({"name": "\tLyngby\r\n", "cutoff_date": " 2021-06-15\n", "text.da.intro": "a\tb\r\n\r\nc"})
    assert (fields["name"], fields["cutoff_date"]) == ("Lyngby", "2021-06-15")
    assert fields["text.da.intro"] == "a\tb\n\nc"
    with pytest.raises(ValidationFailed) as caught:
        parse_form({"name": "Lyngby\tBibliotek", "cutoff_date": "2021-06-15"})
    assert caught.value.codes == {"name": "characters"}


def test_stored_values_are_rechecked_naming_every_field() -> None:
    stored = {"name": "Lyngby\x00", "kodelinje": None, "text.da.intro": "a\x1b", "agency_id": "DK-717300"}
    with pytest.raises(ValidationFailed) as caught:
        check_stored_characters(stored)
    assert caught.value.codes == {"name": "characters", "text.da.intro": "characters"}
    check_stored_characters({"name": "Lyngby", "kodelinje": None, "text.da.intro": "a\tb\nc"})


# -- a stored draft with such characters, on SQLite and PostgreSQL -----------------------------------


def _store_draft_with(session: Session, field: str, value: str) -> str:
    """A draft whose `field` is `value`, written straight into the table (as a draft saved before
    the character rule could hold it); returns the version to publish it with."""
    state = save_draft(
        session,
        "lyngby",
        editing_support.edited(editing_support.LYNGBY, {field: "placeholder"}),
        "anna",
        editing_support.state_of(session).version,
    )
    draft = session.scalars(select(DraftRow)).one()
    data = {"fields": {**draft.data["fields"], field: value}, "base": draft.data["base"]}
    session.execute(update(DraftRow).where(DraftRow.id == draft.id).values(data=data))
    session.commit()
    return state.version


@pytest.mark.parametrize(
    ("field", "bad", "good"),
    [
        ("name", "Lyngby\x00Bibliotek", "Lyngby Bibliotek"),
        ("text.da.intro", "Før\x00 {cutoff_date}", "Før {cutoff_date}"),
        ("text.en.extra_info", "Broken\ufffd", "Broken"),
    ],
)
def test_a_stored_draft_with_such_characters_is_refused_at_publish_and_kept(
    session: Session,
    new_session: Callable[[], Session],
    frozen_clock: clock.FrozenClock,
    field: str,
    bad: str,
    good: str,
) -> None:
    editing_support.seed(session)
    version = _store_draft_with(session, field, bad)
    revisions = len(history(session, "lyngby"))
    with pytest.raises(ValidationFailed) as caught:
        publish(session, "lyngby", "anna", version)
    assert caught.value.codes == {field: "characters"}
    assert field in caught.value.errors
    after = editing_support.state_of(new_session())
    assert after.draft is not None and after.draft_by == "anna"  # kept, to be fixed
    assert form_values(after.draft)[field] == bad
    assert after.published == editing_support.LYNGBY and after.version == version
    assert len(history(new_session(), "lyngby")) == revisions
    # The same draft without the character publishes.
    publish(session, "lyngby", "anna", _store_draft_with(session, field, good))
    published = editing_support.state_of(new_session())
    assert published.draft is None
    assert form_values(published.published)[field] == good


@pytest.mark.parametrize(
    "text",
    [
        "Se [prislisten](https://www.lyngbybib.dk/gebyrer).",
        "Skriv til [os](mailto:bibliotek@ltk.dk)",
        "Læs mere: [her](<https://www.lyngbybib.dk/side%20med%20mellemrum>)",  # as the defaults write links
        "[udvikling](http://127.0.0.1:5007/cms)",  # loopback, as the URL fields allow for development
        "Pris (kr.) og [link] uden adresse",
    ],
)
def test_text_links_the_page_shows_as_links_are_taken(text: str) -> None:
    check_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "[x](javascript:alert(1))",
        "[x](JavaScript:alert(1))",
        "[her](/lyngby/)",
        "[os](tel:45973500)",
        "[os](http://www.ltk.dk/)",
        "[os](https://user:pw@www.ltk.dk/)",
        "[os]( <ftp://x.dk/>)",
        "Først [godt](https://ltk.dk/) og så [skidt](data:text/html,x)",
    ],
)
def test_text_links_the_page_would_drop_or_that_leave_https_are_refused(text: str) -> None:
    with pytest.raises(RuleError) as refused:
        check_text(text)
    assert refused.value.code == "link"
