"""The shared rules: one copy for the libraries file and the editor form, with machine codes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from portal.libraries.edit_input import ValidationFailed, parse_form
from portal.libraries.toml_loader import LibraryFileError, load_libraries_file
from portal.libraries.validation import (
    MAX_TEXT,
    RuleError,
    canonical_kodelinje,
    check_name,
    check_payment_overview_url,
    check_text,
    clean_text,
    parse_iso_date,
)
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


def test_clean_text_sanitises_and_keeps_the_placeholder() -> None:
    assert clean_text("<p onclick='x()'>Før {cutoff_date}</p>\r\n<script>x</script>") == "<p>Før {cutoff_date}</p>"
    assert clean_text("<style>p{}</style> ") is None


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
