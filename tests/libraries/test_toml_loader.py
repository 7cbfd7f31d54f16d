"""load_libraries_file: the happy path, and every refusal naming file, library and key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from portal.devtools.demo import DEMO_LIBRARIES_FILE
from portal.libraries.toml_loader import LibraryFileError, load_libraries_file
from tests.libraries.snippets import LYNGBY, RODOVRE


def test_happy_path_reads_every_key(write_toml: Callable[..., Path]) -> None:
    path = write_toml(
        LYNGBY
        + """
kodelinje = "+73<+86836084<"
payment_overview_url = "https://www.ltk.dk/"
fbs_username_env = "LYNGBY_FBS_USERNAME"
fbs_password_env = "LYNGBY_FBS_PASSWORD"
nexi_secret_key_env = "LYNGBY_NEXI_SECRET_KEY"
payment_terms_url = "https://www.ltk.dk/betingelser"

[library.texts.da]
intro = "Før {cutoff_date}"

[library.texts.en]
payable_here_title = "Pay on this page"
"""
        + RODOVRE.replace("2019-07-01", '"2019-07-01"')
        + """
payment_overview_url = "http://127.0.0.1:5000/betaling"
"""
    )
    lyngby, rodovre = load_libraries_file(path)
    assert lyngby.slug == "lyngby"
    assert lyngby.name == "Lyngby-Taarbæk Bibliotekerne"
    assert lyngby.agency_id == "DK-717300"
    assert lyngby.cutoff_date == date(2021, 6, 15)
    assert lyngby.kodelinje == "+73< +86836084<"  # stored in canonical form
    assert lyngby.payment_overview_url == "https://www.ltk.dk/"
    assert (lyngby.fbs_username_env, lyngby.fbs_password_env) == ("LYNGBY_FBS_USERNAME", "LYNGBY_FBS_PASSWORD")
    assert lyngby.nexi_secret_key_env == "LYNGBY_NEXI_SECRET_KEY"
    assert lyngby.payment_terms_url == "https://www.ltk.dk/betingelser"
    assert lyngby.texts == {
        "da": {"intro": "Før {cutoff_date}"},
        "en": {"payable_here_title": "Pay on this page"},
    }
    assert rodovre.cutoff_date == date(2019, 7, 1)  # an ISO string works too
    assert rodovre.kodelinje is None and rodovre.texts == {}
    assert rodovre.payment_overview_url == "http://127.0.0.1:5000/betaling"
    assert rodovre.nexi_secret_key_env is None and rodovre.payment_terms_url is None


def test_payment_terms_without_card_payment_are_allowed(write_toml: Callable[..., Path]) -> None:
    [library] = load_libraries_file(write_toml(_add(LYNGBY, 'payment_terms_url = "https://www.ltk.dk/betingelser"')))
    assert library.payment_terms_url == "https://www.ltk.dk/betingelser" and library.nexi_secret_key_env is None


def test_demo_file_loads() -> None:
    libraries = {library.slug: library for library in load_libraries_file(DEMO_LIBRARIES_FILE)}
    assert set(libraries) == {"lyngby", "rodovre"}
    assert libraries["lyngby"].kodelinje == "+73< +86836084<"
    assert libraries["lyngby"].agency_id == "DK-717300"
    assert (libraries["rodovre"].kodelinje or "").startswith("+71< ")
    assert libraries["rodovre"].cutoff_date == date(2019, 7, 1)


def _add(block: str, line: str) -> str:
    return block + line + "\n"


# (id, TOML text, library named in the message or None for the file level, key named)
REFUSALS = [
    ("syntax", LYNGBY + RODOVRE.replace('name = "Rødovre Bibliotek"', 'name = "Rødovre'), "#2", "name"),
    ("top-level unknown", 'title = "x"\n' + LYNGBY, None, "title"),
    ("no libraries", "", None, "library"),
    ("library not a table", 'library = "lyngby"\n', None, "library"),
    ("unknown key", _add(LYNGBY, 'colour = "red"'), "'lyngby'", "colour"),
    ("unknown key, second library", LYNGBY + _add(RODOVRE, "cutoff = 2019-07-01"), "'rodovre'", "cutoff"),
    ("unknown language", LYNGBY + '[library.texts.de]\nintro = "Hallo"\n', "'lyngby'", "texts.de"),
    ("unknown text key", LYNGBY + '[library.texts.da]\noutro = "Farvel"\n', "'lyngby'", "texts.da.outro"),
    ("texts not a table", _add(LYNGBY, 'texts = "x"'), "'lyngby'", "texts"),
    ("language not a table", _add(LYNGBY, 'texts = { da = "x" }'), "'lyngby'", "texts.da"),
    ("text not a string", LYNGBY + "[library.texts.en]\nintro = 5\n", "'lyngby'", "texts.en.intro"),
    ("text empty", LYNGBY + '[library.texts.da]\nintro = "  "\n', "'lyngby'", "texts.da.intro"),
    ("unknown placeholder", LYNGBY + '[library.texts.da]\nintro = "Før {cutoff}"\n', "'lyngby'", "texts.da.intro"),
    ("missing slug", LYNGBY + RODOVRE.replace('slug = "rodovre"\n', ""), "#2", "slug"),
    ("missing name", LYNGBY.replace('name = "Lyngby-Taarbæk Bibliotekerne"\n', ""), "'lyngby'", "name"),
    ("missing agency_id", LYNGBY.replace('agency_id = "DK-717300"\n', ""), "'lyngby'", "agency_id"),
    ("missing cutoff_date", LYNGBY.replace("cutoff_date = 2021-06-15\n", ""), "'lyngby'", "cutoff_date"),
    ("empty name", LYNGBY.replace('"Lyngby-Taarbæk Bibliotekerne"', '" "'), "'lyngby'", "name"),
    ("name not a string", LYNGBY.replace('"Lyngby-Taarbæk Bibliotekerne"', "7"), "'lyngby'", "name"),
]
for bad_date in [
    '"2021-02-30"',
    '"15/6/2021"',
    '"20210615"',
    "2021-06-15T10:00:00",
    "2021-06-15 10:00:00+02:00",
    "10:00:00",
    "20210615",
    '""',
]:
    REFUSALS.append((f"date {bad_date}", LYNGBY.replace("2021-06-15", bad_date, 1), "'lyngby'", "cutoff_date"))
for bad_slug in ['"Lyngby"', '"-lyngby"', '"lyngby-"', '"lyng_by"', '"lyng by"', '""', '"' + "a" * 65 + '"', "5"]:
    REFUSALS.append((f"slug {bad_slug[:12]}", LYNGBY.replace('"lyngby"', bad_slug), "#1", "slug"))
for bad_agency in ['"717300"', '"DK-71730"', '"dk-717300"', '"DK-7173000"', '"DK-٧١٧٣٠٠"', "717300"]:
    REFUSALS.append((f"agency {bad_agency}", LYNGBY.replace('"DK-717300"', bad_agency), "'lyngby'", "agency_id"))
for bad_line in ['"+73< +96836084<"', '"+71< 000000002000015+86021447<"', '"hello"', '"+99< +86836084<"', "73"]:
    REFUSALS.append((f"kodelinje {bad_line}", _add(LYNGBY, f"kodelinje = {bad_line}"), "'lyngby'", "kodelinje"))
for bad_url in [
    '"http://www.ltk.dk/"',
    '"ftp://www.ltk.dk/"',
    '"www.ltk.dk"',
    '"https://"',
    '"https://user:pw@www.ltk.dk/"',
    '"http://127.0.0.2/"',
    '"javascript:alert(1)"',
]:
    REFUSALS.append(
        (f"url {bad_url}", _add(LYNGBY, f"payment_overview_url = {bad_url}"), "'lyngby'", "payment_overview_url")
    )
for key in ("fbs_username_env", "fbs_password_env"):
    other = "fbs_password_env" if key == "fbs_username_env" else "fbs_username_env"
    for bad_env in ['"lyngby_user"', '"1ABC"', '"A-B"', '"hunter2"', '""']:
        REFUSALS.append((f"{key} {bad_env}", LYNGBY + f'{key} = {bad_env}\n{other} = "OK_NAME"\n', "'lyngby'", key))
    REFUSALS.append((f"only {key}", _add(LYNGBY, f'{key} = "LYNGBY_FBS"'), "'lyngby'", other))
    REFUSALS.append(
        (
            f"payment_terms_url {bad_url}",
            _add(LYNGBY, f"payment_terms_url = {bad_url}"),
            "'lyngby'",
            "payment_terms_url",
        )
    )
for bad_env in ['"lyngby_nexi"', '"1ABC"', '"A-B"', '"hunter2"', '""', "5"]:
    REFUSALS.append(
        (
            f"nexi_secret_key_env {bad_env}",
            LYNGBY + f'nexi_secret_key_env = {bad_env}\npayment_terms_url = "https://www.ltk.dk/betingelser"\n',
            "'lyngby'",
            "nexi_secret_key_env",
        )
    )
REFUSALS.append(
    ("nexi without terms", _add(LYNGBY, 'nexi_secret_key_env = "LYNGBY_NEXI"'), "'lyngby'", "payment_terms_url")
)
REFUSALS.append(
    ("nexi_secret_key at library", _add(LYNGBY, 'nexi_secret_key = "hunter2"'), "'lyngby'", "nexi_secret_key")
)
for secret_key, where in [
    ("password", "library"),
    ("fbs_password", "library"),
    ("api_token", "library"),
    ("client_secret", "library"),
    ("fbs_password", "top"),
]:
    text = (f'{secret_key} = "hunter2"\n' + LYNGBY) if where == "top" else _add(LYNGBY, f'{secret_key} = "hunter2"')
    REFUSALS.append((f"secret {secret_key} at {where}", text, None if where == "top" else "'lyngby'", secret_key))
REFUSALS.append(
    ("secret in texts", LYNGBY + '[library.texts.da]\npassword = "hunter2"\n', "'lyngby'", "texts.da.password")
)
REFUSALS.append(
    ("duplicate slug", LYNGBY + RODOVRE + LYNGBY.replace("DK-717300", "DK-717301"), "#3 ('lyngby')", "slug")
)


@pytest.mark.parametrize(
    ("toml", "library", "key"), [case[1:] for case in REFUSALS], ids=[case[0] for case in REFUSALS]
)
def test_refusal_names_file_library_and_key(
    write_toml: Callable[..., Path], toml: str, library: str | None, key: str
) -> None:
    path = write_toml(toml)
    with pytest.raises(LibraryFileError) as caught:
        load_libraries_file(path)
    error = caught.value
    assert (error.file, error.library, error.key) == (str(path), library, key)
    message = str(error)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert f"key {key!r}" in message
    if library is not None:
        assert f"library {library}" in message


# (id, TOML text with "@" where a TOML escape puts the character, library named, key named)
CHARACTER_REFUSALS = [
    ("name NUL", LYNGBY.replace("Bibliotekerne", "Bibliotekerne@"), "\\u0000", "'lyngby'", "name"),
    ("name tab", LYNGBY.replace("Taarbæk Bibliotekerne", "Taarbæk@Bibliotekerne"), "\\t", "'lyngby'", "name"),
    ("slug NUL", LYNGBY.replace('"lyngby"', '"lyngby@"'), "\\u0000", "#1", "slug"),
    ("agency NUL", LYNGBY.replace('"DK-717300"', '"DK-717300@"'), "\\u0000", "'lyngby'", "agency_id"),
    ("kodelinje ESC", _add(LYNGBY, 'kodelinje = "+73< +86836084<@"'), "\\u001b", "'lyngby'", "kodelinje"),
    (
        "url DEL",
        _add(LYNGBY, 'payment_overview_url = "https://www.ltk.dk/@"'),
        "\\u007f",
        "'lyngby'",
        "payment_overview_url",
    ),
    (
        "env NUL",
        _add(LYNGBY, 'fbs_username_env = "LYNGBY_USER@"\nfbs_password_env = "LYNGBY_PASSWORD"'),
        "\\u0000",
        "'lyngby'",
        "fbs_username_env",
    ),
    (
        "text NUL",
        LYNGBY + '[library.texts.da]\nintro = "Før@ {cutoff_date}"\n',
        "\\u0000",
        "'lyngby'",
        "texts.da.intro",
    ),
    ("text C1", LYNGBY + '[library.texts.en]\nintro = "Before@"\n', "\\u0085", "'lyngby'", "texts.en.intro"),
    ("text U+FFFD", LYNGBY + '[library.texts.en]\nintro = "Bro@ken"\n', "\\ufffd", "'lyngby'", "texts.en.intro"),
]


@pytest.mark.parametrize(
    ("toml", "escape", "library", "key"),
    [case[1:] for case in CHARACTER_REFUSALS],
    ids=[case[0] for case in CHARACTER_REFUSALS],
)
def test_control_characters_from_escapes_are_refused_naming_file_library_and_key(
    write_toml: Callable[..., Path], toml: str, escape: str, library: str, key: str
) -> None:
    path = write_toml(toml.replace("@", escape))
    with pytest.raises(LibraryFileError) as caught:
        load_libraries_file(path)
    error = caught.value
    assert (error.file, error.library, error.key) == (str(path), library, key)
    assert error.problem.startswith("contains ") and error.problem.endswith("; remove it")
    assert "\n" not in str(error) and "\x00" not in str(error)
    # The same file without the character loads.
    assert load_libraries_file(write_toml(toml.replace("@", " " if key == "name" else "")))


def test_texts_keep_tabs_and_line_breaks(write_toml: Callable[..., Path]) -> None:
    path = write_toml(LYNGBY + '[library.texts.da]\nintro = "Før\\t{cutoff_date}\\r\\n\\r\\nEfter"\n')
    [lyngby] = load_libraries_file(path)
    assert lyngby.texts["da"]["intro"] == "Før\t{cutoff_date}\r\n\r\nEfter"


def test_secret_refusal_says_why_and_never_echoes_the_value(write_toml: Callable[..., Path]) -> None:
    path = write_toml(_add(LYNGBY, 'fbs_password = "hunter2"'))
    with pytest.raises(LibraryFileError, match="looks like a secret") as caught:
        load_libraries_file(path)
    assert "hunter2" not in str(caught.value)


def test_unknown_placeholder_message_names_the_placeholder(write_toml: Callable[..., Path]) -> None:
    path = write_toml(LYNGBY + '[library.texts.en]\nhanded_over_text = "From {cut_off_date}"\n')
    with pytest.raises(LibraryFileError, match=r"\{cut_off_date\}"):
        load_libraries_file(path)


def test_missing_file_is_a_library_file_error(tmp_path: Path) -> None:
    with pytest.raises(LibraryFileError, match="cannot read") as caught:
        load_libraries_file(tmp_path / "nope.toml")
    assert caught.value.file == str(tmp_path / "nope.toml")


def test_non_utf8_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(LYNGBY.encode("latin-1"))
    with pytest.raises(LibraryFileError, match="UTF-8"):
        load_libraries_file(path)


@pytest.mark.parametrize("url", ["http://localhost:8000/", "http://127.0.0.1/", "https://mit.betalingsoverblik.dk/"])
def test_urls_that_are_allowed(write_toml: Callable[..., Path], url: str) -> None:
    [library] = load_libraries_file(write_toml(_add(LYNGBY, f'payment_overview_url = "{url}"')))
    assert library.payment_overview_url == url


def test_a_text_written_as_html_is_refused_with_the_markdown_to_use(write_toml: Callable[..., Path]) -> None:
    # A libraries file from before texts were Markdown: loading it would show the tags to citizens.
    path = write_toml(LYNGBY + '[library.texts.da]\nintro = "<p>Før <strong>{cutoff_date}</strong></p>"\n')
    with pytest.raises(LibraryFileError) as caught:
        load_libraries_file(path)
    error = caught.value
    assert (error.library, error.key) == ("'lyngby'", "texts.da.intro")
    assert "'<p>'" in error.problem and "**bold**" in error.problem and "[link text](https://…)" in error.problem
    # Written in Markdown, the same text loads.
    [lyngby] = load_libraries_file(write_toml(LYNGBY + '[library.texts.da]\nintro = "Før **{cutoff_date}**"\n'))
    assert lyngby.texts["da"]["intro"] == "Før **{cutoff_date}**"


def test_embedding_and_sign_in_settings_are_read(write_toml: Callable[..., Path]) -> None:
    block = _add(
        LYNGBY,
        'embed_origins = ["https://www.LyngbyBib.dk/", "http://127.0.0.1:8001"]\n'
        'sign_in = ["adgangsplatformen", "mitid"]\nfbs_access = "dbc_adapter"',
    )
    [library] = load_libraries_file(write_toml(block))
    assert library.embed_origins == ("https://www.lyngbybib.dk", "http://127.0.0.1:8001")
    assert library.sign_in == ("adgangsplatformen", "mitid") and library.offers("adgangsplatformen")
    assert library.fbs_access == "dbc_adapter"


def test_without_them_a_library_is_not_embeddable_and_signs_in_with_mitid(write_toml: Callable[..., Path]) -> None:
    [library] = load_libraries_file(write_toml(LYNGBY))
    assert (library.embed_origins, library.sign_in, library.fbs_access) == ((), ("mitid",), "direct")
    assert not library.offers("adgangsplatformen")


@pytest.mark.parametrize(
    ("line", "key", "problem"),
    [
        ('embed_origins = "https://www.lyngbybib.dk"', "embed_origins", "expected an array of strings"),
        ('embed_origins = ["https://www.lyngbybib.dk/side"]', "embed_origins", "no path"),
        ("embed_origins = [1]", "embed_origins", "expected an array of strings"),
        ('sign_in = ["nemid"]', "sign_in", "unknown profile 'nemid'"),
        ("sign_in = []", "sign_in", "empty"),
        ('sign_in = ["mitid", "mitid"]', "sign_in", "twice"),
        ('fbs_access = "adapter"', "fbs_access", "not one of: direct, dbc_adapter"),
        ('fbs_access = "dbc_adapter"', "fbs_access", 'needs "adgangsplatformen" in sign_in'),
    ],
)
def test_bad_embedding_and_sign_in_settings_are_refused(
    write_toml: Callable[..., Path], line: str, key: str, problem: str
) -> None:
    with pytest.raises(LibraryFileError) as caught:
        load_libraries_file(write_toml(_add(LYNGBY, line)))
    assert (caught.value.library, caught.value.key) == ("'lyngby'", key)
    assert problem in caught.value.problem
