"""Library settings on a real PostgreSQL, edited in two portal processes at once.

Two apps on one database stand for two gunicorn workers (each with its own settings cache,
portal/libraries/cache.py): an editor's stale form is refused with the conflict message whichever
process serves it, a publish in one is seen by the other on its next request, and of editors
publishing at the very same moment exactly one wins (the version bump is a compare-and-set that
PostgreSQL's row lock serialises).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from portal import create_app, db
from portal.devtools.idp import DevIdp, start_dev_idp
from portal.libraries import editing
from portal.libraries.editing import EditConflict
from portal.libraries.library import Library
from portal.libraries.repository import get_library
from tests.editor.conftest import LONG_SESSION_LIFETIME, portal_settings
from tests.editor.helpers import (
    ADA,
    LONE,
    EditorBrowser,
    draft,
    history_length,
    idp_clients,
    loaded_form,
    save_draft,
    state,
)
from tests.scaleout.races import PARTIES, at_once

CONFLICT = "Another editor changed this library while you were working"


@pytest.fixture(scope="module")
def idp() -> Iterator[DevIdp]:
    idp = start_dev_idp("127.0.0.1", 0, None, idp_clients())
    yield idp
    idp.shutdown()


@pytest.fixture
def make_process(idp: DevIdp, database_url: str, apps: list[Flask], tmp_path: Path) -> Callable[[], Flask]:
    """A portal process with the editor area, on the test's PostgreSQL database."""

    def make() -> Flask:
        settings = portal_settings(
            idp.issuer,
            tmp_path / "unused.sqlite3",
            PORTAL_DATABASE_URL=database_url,
            PORTAL_SESSION_LIFETIME=LONG_SESSION_LIFETIME,
        )
        app = create_app(settings)
        app.config["TESTING"] = True
        apps.append(app)
        return app

    return make


def signed_in(app: Flask, editor: str) -> EditorBrowser:
    browser = EditorBrowser(app)
    response = browser.editor_login(editor)
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


def seen_by(app: Flask, slug: str = "lyngby") -> Library:
    """What a request of `app` sees of the library (through its settings cache)."""
    with app.app_context():
        library = get_library(slug)
    assert library is not None
    return library


def test_the_database_is_postgresql(make_process: Callable[[], Flask]) -> None:
    assert make_process().extensions["portal.db.engine"].dialect.name == "postgresql"


def test_editors_in_two_processes_one_wins_the_other_gets_the_conflict(make_process: Callable[[], Flask]) -> None:
    first, second = make_process(), make_process()
    lone, ada = signed_in(first, LONE), signed_in(second, ADA)
    lones, adas = loaded_form(lone), loaded_form(ada)  # both open the form, each in their own process
    assert lones["version"] == adas["version"]

    assert lone.send("/editor/lyngby/", {**lones, "text.da.intro": "Lones tekst"}).status_code == 303
    response = ada.send("/editor/lyngby/", {**adas, "text.da.intro": "Adas tekst"})

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert CONFLICT in page and "Adas tekst" in page
    assert draft(second).texts["da"]["intro"] == "Lones tekst"  # Lone's draft is intact
    assert f'name="version" value="{state(second).version}"' in page  # Ada's form is now up to date


def test_a_publish_in_one_process_is_seen_by_the_other_at_once(make_process: Callable[[], Flask]) -> None:
    first, second = make_process(), make_process()
    before = seen_by(second)  # now in the second process's settings cache
    assert seen_by(second) is before  # and served from it

    lone = signed_in(first, LONE)
    form = {**loaded_form(lone), "name": "Lyngby Bibliotek (ny)"}
    assert lone.send("/editor/lyngby/", form).status_code == 303
    assert seen_by(second).name == before.name  # a draft is not what citizens see
    assert lone.send("/editor/lyngby/publish", version=state(first).version).status_code == 303

    assert seen_by(second).name == "Lyngby Bibliotek (ny)"
    assert seen_by(first).name == "Lyngby Bibliotek (ny)"


def test_of_editors_publishing_at_the_same_moment_exactly_one_wins(make_process: Callable[[], Flask]) -> None:
    processes = [make_process(), make_process()]
    save_draft(processes[0], name="Lyngby Bibliotek (ny)")
    version = state(processes[0]).version
    history = history_length(processes[0])

    def publish(i: int) -> str:
        with processes[i % 2].app_context():
            return editing.publish(db.session(), "lyngby", f"editor-{i}", version).by

    results = at_once(publish)
    won = [result for result in results if isinstance(result, str)]
    lost = [result for result in results if isinstance(result, EditConflict)]
    assert len(won) == 1 and len(lost) == PARTIES - 1, results
    assert history_length(processes[1]) == history + 1  # one publish recorded
    assert {conflict.current_version for conflict in lost} == {state(processes[1]).version}
    assert state(processes[1]).draft is None
    assert seen_by(processes[1]).name == "Lyngby Bibliotek (ny)"
