"""Who to ask and the default texts' links (issue 9): the file's rules, the editor's, and the round trip."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from portal.devtools.demo import DEMO_LIBRARIES_FILE
from portal.libraries.edit_input import ValidationFailed, form_values, parse_form
from portal.libraries.fields import CONTACT_FIELDS, EDITABLE_FIELDS, flatten, with_fields
from portal.libraries.library import Library
from portal.libraries.toml_loader import LibraryFileError, load_libraries_file
from portal.libraries.validation import RuleError, check_contact_text, check_email, check_phone
from tests.libraries.snippets import LYNGBY

CONTACTS = {
    "contact_phone": "45 97 35 00",
    "contact_email": "bibliotek@lyngby.example.dk",
    "contact_url": "https://www.lyngbybib.dk/kontakt",
    "municipality_contact": "Lyngby-Taarbæk Kommune, Opkrævningen, tlf. 45 97 30 00",
    "municipality_contact_url": "https://www.ltk.dk/kontakt",
    "read_more_url": "https://www.lyngbybib.dk/betaling",
    "fee_rates_url": "https://www.lyngbybib.dk/gebyrer",
}
BASE = Library("lyngby", "Lyngby", "DK-717300", date(2021, 6, 15))


def toml_lines(values: dict[str, str]) -> str:
    return "".join(f'{key} = "{value}"\n' for key, value in values.items())


def test_the_file_reads_every_contact_and_link(write_toml: Callable[..., Path]) -> None:
    [library] = load_libraries_file(write_toml(LYNGBY + toml_lines(CONTACTS)))
    assert {name: getattr(library, name) for name in CONTACT_FIELDS} == CONTACTS
    assert library.has_library_contact and library.has_municipality_contact
    assert library.text_links() == {
        "read_more_url": CONTACTS["read_more_url"],
        "fee_rates_url": CONTACTS["fee_rates_url"],
    }


def test_all_contacts_are_optional(write_toml: Callable[..., Path]) -> None:
    [library] = load_libraries_file(write_toml(LYNGBY))
    assert all(getattr(library, name) is None for name in CONTACT_FIELDS)
    assert not library.has_library_contact and not library.has_municipality_contact
    assert library.text_links() == {}


def test_the_demo_libraries_have_contacts() -> None:
    libraries = {library.slug: library for library in load_libraries_file(DEMO_LIBRARIES_FILE)}
    for library in libraries.values():
        assert library.has_library_contact and library.has_municipality_contact and library.fee_rates_url
    assert libraries["lyngby"].read_more_url and libraries["rodovre"].read_more_url is None


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("contact_phone", "45-97-35-00"),
        ("contact_phone", "ring 45973500"),
        ("contact_phone", "4597"),
        ("contact_phone", "45 97 35 00 +"),
        ("contact_email", "bibliotek"),
        ("contact_email", "bibliotek@localhost"),
        ("contact_email", "Bibliotek <bibliotek@example.dk>"),
        ("contact_url", "http://www.lyngbybib.dk/kontakt"),
        ("contact_url", "javascript:alert(1)"),
        ("municipality_contact_url", "www.ltk.dk"),
        ("read_more_url", "ftp://www.lyngbybib.dk/"),
        ("fee_rates_url", "https://user:pw@www.lyngbybib.dk/"),
        ("municipality_contact", "   "),
        ("municipality_contact", "x" * 301),
        ("contact_phone", "45 97\\u0000 35 00"),
        ("municipality_contact", "Kommunen\\u0007"),
        ("contact_email", "a@b.dk\\n"),
    ],
)
def test_the_file_refuses_a_bad_contact_naming_the_key(write_toml: Callable[..., Path], key: str, value: str) -> None:
    with pytest.raises(LibraryFileError) as caught:
        load_libraries_file(write_toml(LYNGBY + f'{key} = "{value}"\n'))
    assert (caught.value.library, caught.value.key) == ("'lyngby'", key)


def test_the_file_refuses_a_contact_that_is_not_a_string(write_toml: Callable[..., Path]) -> None:
    with pytest.raises(LibraryFileError) as caught:
        load_libraries_file(write_toml(LYNGBY + "contact_phone = 45973500\n"))
    assert caught.value.key == "contact_phone" and "expected a string" in caught.value.problem


@pytest.mark.parametrize(
    ("given", "stored"),
    [("45973500", "45973500"), (" 45  97 35 00 ", "45 97 35 00"), ("+45 45 97 35 00", "+45 45 97 35 00")],
)
def test_phone_numbers_are_tidied(given: str, stored: str) -> None:
    assert check_phone(given) == stored


def test_rule_codes_for_the_editor() -> None:
    for check, value, code in (
        (check_phone, "abc", "phone"),
        (check_phone, "4" * 41, "too_long"),
        (check_email, "nope", "email"),
        (check_email, "a@" + "b" * 200 + ".dk", "too_long"),
        (check_contact_text, "", "required"),
    ):
        with pytest.raises(RuleError) as caught:
            check(value)
        assert caught.value.code == code


def test_editors_may_edit_every_contact_and_the_form_round_trips() -> None:
    assert set(CONTACT_FIELDS) <= set(EDITABLE_FIELDS)
    library = with_fields(BASE, CONTACTS, CONTACT_FIELDS)
    values = form_values(library)
    assert {name: values[name] for name in CONTACT_FIELDS} == CONTACTS
    fields = parse_form(values)
    assert with_fields(BASE, fields, EDITABLE_FIELDS) == library
    assert {name: flatten(library)[name] for name in CONTACT_FIELDS} == CONTACTS


def test_an_emptied_contact_is_unset() -> None:
    values = form_values(with_fields(BASE, CONTACTS, CONTACT_FIELDS)) | {"contact_phone": "  ", "read_more_url": ""}
    fields = parse_form(values)
    assert fields["contact_phone"] is None and fields["read_more_url"] is None


def test_the_editor_form_names_every_bad_contact() -> None:
    values = form_values(BASE) | {
        "contact_phone": "call us",
        "contact_email": "@",
        "contact_url": "http://example.dk/",
        "municipality_contact": "Kommunen\x00",
    }
    with pytest.raises(ValidationFailed) as caught:
        parse_form(values)
    assert caught.value.codes == {
        "contact_phone": "phone",
        "contact_email": "email",
        "contact_url": "url",
        "municipality_contact": "characters",
    }
