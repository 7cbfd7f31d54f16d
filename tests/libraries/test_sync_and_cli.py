"""Loading a file into the DB: the CLI, start-up, and nothing half-loaded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import update

from portal import db
from portal.libraries.editing import form_values, history, load_state, publish, save_draft
from portal.libraries.library import Library
from portal.libraries.models import LibraryRow
from portal.libraries.repository import get_library, list_libraries
from portal.libraries.sync import sync_libraries_file
from portal.libraries.toml_loader import LibraryFileError
from tests.libraries.snippets import LYNGBY, RODOVRE

BAD_RODOVRE = RODOVRE.replace('"DK-717500"', '"DK-7175"')


def _library(slug: str) -> Library:
    """The library `slug` as citizens see it; it must exist."""
    library = get_library(slug)
    assert library is not None, slug
    return library


def _slugs_and_names(app: Flask) -> list[tuple[str, str]]:
    with app.app_context():
        return [(library.slug, library.name) for library in list_libraries()]


def test_nothing_half_loaded_when_the_second_library_is_bad(app: Flask, write_toml: Callable[..., Path]) -> None:
    with app.app_context():
        sync_libraries_file(db.session(), write_toml(LYNGBY, "good.toml"), {})
    before = _slugs_and_names(app)
    bad = write_toml(LYNGBY.replace("Lyngby-Taarbæk Bibliotekerne", "Renamed") + BAD_RODOVRE, "bad.toml")
    with app.app_context():
        with pytest.raises(LibraryFileError, match="agency_id"):
            sync_libraries_file(db.session(), bad, {})
    assert _slugs_and_names(app) == before == [("lyngby", "Lyngby-Taarbæk Bibliotekerne")]


def test_cli_load_prints_created_then_updated_and_unchanged(app: Flask, write_toml: Callable[..., Path]) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["libraries", "load", str(write_toml(LYNGBY + RODOVRE))])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["created: lyngby", "created: rodovre"]
    changed = write_toml(LYNGBY.replace("Lyngby-Taarbæk Bibliotekerne", "Lyngby") + RODOVRE)
    result = runner.invoke(args=["libraries", "load", str(changed)])
    assert result.output.splitlines() == ["updated: lyngby", "unchanged: rodovre"]
    with app.app_context():
        assert _library("lyngby").name == "Lyngby"


def test_cli_load_bad_file_exits_non_zero_with_one_line(app: Flask, write_toml: Callable[..., Path]) -> None:
    path = write_toml(LYNGBY + BAD_RODOVRE)
    result = app.test_cli_runner().invoke(args=["libraries", "load", str(path)])
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert str(path) in lines[0] and "library 'rodovre'" in lines[0] and "'agency_id'" in lines[0]
    assert _slugs_and_names(app) == []


def test_cli_load_missing_file(app: Flask, tmp_path: Path) -> None:
    result = app.test_cli_runner().invoke(args=["libraries", "load", str(tmp_path / "none.toml")])
    assert result.exit_code != 0
    assert "cannot read" in result.output


def test_cli_list(app: Flask, write_toml: Callable[..., Path]) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["libraries", "list"]).output == "no libraries\n"
    runner.invoke(args=["libraries", "load", str(write_toml(RODOVRE + LYNGBY))])
    result = runner.invoke(args=["libraries", "list"])
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "lyngby\tDK-717300\t2021-06-15\tLyngby-Taarbæk Bibliotekerne",
        "rodovre\tDK-717500\t2019-07-01\tRødovre Bibliotek",
    ]


def test_startup_loads_the_libraries_file(make_app: Callable[..., Flask], write_toml: Callable[..., Path]) -> None:
    path = write_toml(LYNGBY + '[library.texts.da]\nintro = "Egen"\n')
    app = make_app(path)
    with app.app_context():
        assert _library("lyngby").text("intro", "da") == "Egen"
    make_app(path)  # a restart on the same DB is fine (upsert, not insert)
    assert _slugs_and_names(app) == [("lyngby", "Lyngby-Taarbæk Bibliotekerne")]


def test_startup_with_a_bad_file_stops_with_one_clear_line(
    make_app: Callable[..., Flask], write_toml: Callable[..., Path]
) -> None:
    path = write_toml(LYNGBY + _secret_line())
    with pytest.raises(SystemExit) as caught:
        make_app(path)
    message = str(caught.value.code)
    assert "\n" not in message
    assert message.startswith("gebyrportal: libraries file error: ")
    assert str(path) in message and "library 'lyngby'" in message and "'fbs_password'" in message
    assert "hunter2" not in message


def test_startup_with_a_bad_file_leaves_the_db_as_it_was(
    make_app: Callable[..., Flask], write_toml: Callable[..., Path]
) -> None:
    app = make_app(write_toml(LYNGBY, "good.toml"))
    with pytest.raises(SystemExit):
        make_app(write_toml(LYNGBY.replace("Lyngby-Taarbæk Bibliotekerne", "X") + BAD_RODOVRE, "bad.toml"))
    assert _slugs_and_names(app) == [("lyngby", "Lyngby-Taarbæk Bibliotekerne")]


def test_startup_without_a_libraries_file_loads_nothing(app: Flask) -> None:
    assert _slugs_and_names(app) == []


def _secret_line() -> str:
    return 'fbs_password = "hunter2"\n'


# --- Start-up does not undo the editors' work ------------------------------------------------


def _edit_name(app: Flask, name: str, slug: str = "lyngby") -> None:
    """An editor publishes a new name through the editor storage."""
    with app.app_context():
        session = db.session()
        state = load_state(session, slug)
        assert state is not None
        state = save_draft(session, slug, {**form_values(state.published), "name": name}, "anna", state.version)
        publish(session, slug, "anna", state.version)


def _actions(app: Flask, slug: str = "lyngby") -> list[tuple[str, str]]:
    with app.app_context():
        return [(revision.action, revision.by) for revision in history(db.session(), slug)]


def test_a_restart_keeps_what_editors_published(
    make_app: Callable[..., Flask], write_toml: Callable[..., Path]
) -> None:
    path = write_toml(LYNGBY + RODOVRE)
    app = make_app(path)
    _edit_name(app, "Lyngby Bibliotek")
    make_app(path)  # restart with the same file
    assert _slugs_and_names(app)[0] == ("lyngby", "Lyngby Bibliotek")
    assert _actions(app) == [("publish", "anna"), ("load", "file:libraries.toml")]


def test_a_restart_keeps_edits_when_the_file_changed_only_in_form(
    make_app: Callable[..., Flask], write_toml: Callable[..., Path]
) -> None:
    app = make_app(write_toml(LYNGBY + RODOVRE))
    _edit_name(app, "Lyngby Bibliotek")
    make_app(write_toml("# reformatted\n" + (LYNGBY + RODOVRE).replace(" = ", "=")))
    assert _slugs_and_names(app)[0] == ("lyngby", "Lyngby Bibliotek")


def test_a_restart_applies_only_the_entries_changed_in_the_file(
    make_app: Callable[..., Flask], write_toml: Callable[..., Path]
) -> None:
    app = make_app(write_toml(LYNGBY + RODOVRE))
    _edit_name(app, "Lyngby Bibliotek")
    _edit_name(app, "Rødovre Edited", slug="rodovre")
    make_app(write_toml(LYNGBY.replace("2021-06-15", "2022-02-01") + RODOVRE))
    with app.app_context():
        lyngby = get_library("lyngby")
        assert lyngby is not None
        # The operator changed lyngby's entry: the file wins there, and the history says so.
        assert (lyngby.name, lyngby.cutoff_date.isoformat()) == ("Lyngby-Taarbæk Bibliotekerne", "2022-02-01")
        assert _library("rodovre").name == "Rødovre Edited"
    assert _actions(app)[0] == ("load", "file:libraries.toml")
    assert _actions(app, "rodovre")[0] == ("publish", "anna")


def test_the_cli_always_applies_the_file(make_app: Callable[..., Flask], write_toml: Callable[..., Path]) -> None:
    path = write_toml(LYNGBY)
    app = make_app(path)
    _edit_name(app, "Lyngby Bibliotek")
    result = app.test_cli_runner().invoke(args=["libraries", "load", str(path)])
    assert result.output.splitlines() == ["updated: lyngby"]
    assert _slugs_and_names(app) == [("lyngby", "Lyngby-Taarbæk Bibliotekerne")]
    assert _actions(app)[0] == ("load", "file:libraries.toml")


def test_a_database_loaded_before_hashes_were_stored_is_checked_once(
    make_app: Callable[..., Flask], write_toml: Callable[..., Path]
) -> None:
    path = write_toml(LYNGBY)
    app = make_app(path)
    with app.app_context():
        db.session().execute(update(LibraryRow).values(source_hash=None))
        db.session().commit()
    make_app(path)  # same content: nothing recorded, the hash is stored
    assert _actions(app) == [("load", "file:libraries.toml")]
    _edit_name(app, "Lyngby Bibliotek")
    make_app(path)
    assert _slugs_and_names(app) == [("lyngby", "Lyngby Bibliotek")]


# -- a library's own FBS login: its variables must be set when it loads ------------------------

OWN_LOGIN = RODOVRE.replace(
    'agency_id = "DK-717500"',
    'agency_id = "DK-717500"\nfbs_username_env = "RODOVRE_FBS_USER"\nfbs_password_env = "RODOVRE_FBS_PASSWORD"',
)
BOTH_SET = {"RODOVRE_FBS_USER": "rodovre", "RODOVRE_FBS_PASSWORD": "own-secret"}


def test_cli_load_refuses_a_library_whose_login_variable_is_not_set(
    app: Flask, write_toml: Callable[..., Path]
) -> None:
    assert "fbs_username_env" in OWN_LOGIN
    path = write_toml(LYNGBY + OWN_LOGIN)
    result = app.test_cli_runner().invoke(args=["libraries", "load", str(path)])
    assert result.exit_code != 0
    [line] = result.output.strip().splitlines()
    assert "library 'rodovre'" in line and "RODOVRE_FBS_USER" in line and "'fbs_username_env'" in line
    assert _slugs_and_names(app) == []  # nothing loaded, Lyngby neither


@pytest.mark.parametrize(
    ("missing", "key"), [("RODOVRE_FBS_USER", "fbs_username_env"), ("RODOVRE_FBS_PASSWORD", "fbs_password_env")]
)
def test_startup_stops_naming_the_library_and_the_unset_variable(
    make_app: Callable[..., Flask], write_toml: Callable[..., Path], missing: str, key: str
) -> None:
    variables = {name: value for name, value in BOTH_SET.items() if name != missing}
    with pytest.raises(SystemExit) as caught:
        make_app(write_toml(LYNGBY + OWN_LOGIN), **variables)
    message = str(caught.value)
    assert "\n" not in message
    assert "library 'rodovre'" in message and missing in message and repr(key) in message


def test_startup_checks_libraries_loaded_earlier_too(
    make_app: Callable[..., Flask], write_toml: Callable[..., Path]
) -> None:
    app = make_app(write_toml(LYNGBY + OWN_LOGIN), **BOTH_SET)
    with app.app_context():
        assert _library("rodovre").fbs_username_env == "RODOVRE_FBS_USER"
    # Restarted without the file (the library is in the database) and without the password.
    with pytest.raises(SystemExit) as caught:
        make_app(None, RODOVRE_FBS_USER="rodovre")
    assert str(caught.value) == (
        "gebyrportal: configuration error: library rodovre: environment variable "
        "RODOVRE_FBS_PASSWORD (its FBS credentials) is not set"
    )
    make_app(None, **BOTH_SET)  # with both set it starts


OWN_NEXI = RODOVRE.replace(
    'agency_id = "DK-717500"',
    'agency_id = "DK-717500"\nnexi_secret_key_env = "RODOVRE_NEXI_SECRET_KEY"\n'
    'payment_terms_url = "https://rodovre.bibliotek.dk/betingelser"',
)
NEXI_SET = {"RODOVRE_NEXI_SECRET_KEY": "live-secret-key"}


def test_cli_load_refuses_a_library_whose_nexi_variable_is_not_set(
    make_app: Callable[..., Flask], write_toml: Callable[..., Path]
) -> None:
    path = write_toml(LYNGBY + OWN_NEXI)
    for variables in ({}, {"RODOVRE_NEXI_SECRET_KEY": "  "}):  # unset or empty
        app = make_app(**variables)
        result = app.test_cli_runner().invoke(args=["libraries", "load", str(path)])
        assert result.exit_code != 0
        [line] = result.output.strip().splitlines()
        assert "library 'rodovre'" in line and "RODOVRE_NEXI_SECRET_KEY" in line and "'nexi_secret_key_env'" in line
        assert _slugs_and_names(app) == []  # nothing loaded, Lyngby neither


def test_startup_stops_naming_the_library_and_the_unset_nexi_variable(
    make_app: Callable[..., Flask], write_toml: Callable[..., Path]
) -> None:
    with pytest.raises(SystemExit) as caught:
        make_app(write_toml(LYNGBY + OWN_NEXI))
    message = str(caught.value)
    assert "\n" not in message
    assert "library 'rodovre'" in message and "RODOVRE_NEXI_SECRET_KEY" in message
    assert "'nexi_secret_key_env'" in message


def test_startup_checks_the_nexi_variable_of_libraries_loaded_earlier_too(
    make_app: Callable[..., Flask], write_toml: Callable[..., Path]
) -> None:
    app = make_app(write_toml(LYNGBY + OWN_NEXI), **NEXI_SET)
    with app.app_context():
        rodovre = _library("rodovre")
        assert rodovre.nexi_secret_key_env == "RODOVRE_NEXI_SECRET_KEY"
        assert rodovre.payment_terms_url == "https://rodovre.bibliotek.dk/betingelser"
        # Resolved from the environment snapshot taken at start-up, for the payment flow later.
        assert rodovre.nexi_secret_key(app.config["PORTAL_SETTINGS"].environment) == "live-secret-key"
        assert _library("lyngby").nexi_secret_key(app.config["PORTAL_SETTINGS"].environment) is None
    # Restarted without the file (the library is in the database) and without the variable.
    with pytest.raises(SystemExit) as caught:
        make_app(None)
    assert str(caught.value) == (
        "gebyrportal: configuration error: library rodovre: environment variable "
        "RODOVRE_NEXI_SECRET_KEY (its Nexi secret key) is not set"
    )
    make_app(None, **NEXI_SET)  # with the variable set it starts
