"""History and restore: every published change is kept, any earlier version comes back in one step."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from portal import clock
from portal.libraries.editing import Change, EditConflict, NotFound, Revision, history, publish, restore, save_draft
from portal.libraries.sync import sync_libraries_file
from tests.libraries.conftest import T0
from tests.libraries.editing_support import LYNGBY, RODOVRE, edited, seed, state_of
from tests.libraries.snippets import LYNGBY as LYNGBY_TOML


@pytest.fixture
def seeded(session: Session, frozen_clock: clock.FrozenClock) -> Session:
    seed(session)
    return session


def _publish(session: Session, changes: Mapping[str, str], editor: str = "anna", slug: str = "lyngby") -> Revision:
    state = state_of(session, slug)
    state = save_draft(session, slug, edited(state.published, changes), editor, state.version)
    return publish(session, slug, editor, state.version)


def test_the_first_revision_is_the_load_that_created_the_library(seeded: Session) -> None:
    assert history(seeded, "lyngby") == [
        Revision(
            number=1,
            at=T0,
            by="file:seed.toml",
            action="load",
            restored_from=None,
            changes=(
                Change("name", None, "Lyngby-Taarbæk Bibliotekerne"),
                Change("cutoff_date", None, "2021-06-15"),
                Change("kodelinje", None, "+73< +86836084<"),
                Change("payment_overview_url", None, "https://www.ltk.dk/"),
                Change("text.da.intro", None, "Før {cutoff_date}"),
                Change("agency_id", None, "DK-717300"),
            ),
        )
    ]


def test_history_is_newest_first_and_numbered_per_library(seeded: Session, frozen_clock: clock.FrozenClock) -> None:
    _publish(seeded, {"name": "A"})
    frozen_clock.advance(timedelta(hours=1))
    _publish(seeded, {"name": "B"}, editor="bo")
    _publish(seeded, {"name": "R"}, slug="rodovre")
    revisions = history(seeded, "lyngby")
    assert [(r.number, r.action, r.by) for r in revisions] == [
        (3, "publish", "bo"),
        (2, "publish", "anna"),
        (1, "load", "file:seed.toml"),
    ]
    assert revisions[0].at == T0.replace(hour=13) and revisions[0].at.tzinfo is clock.TIMEZONE
    assert revisions[0].changes == (Change("name", "A", "B"),)
    assert [r.number for r in history(seeded, "rodovre")] == [2, 1]


def test_restore_brings_back_an_earlier_version_in_one_step_and_is_recorded(seeded: Session) -> None:
    _publish(seeded, {"name": "A", "kodelinje": "", "text.en.intro": "Hi"})
    _publish(seeded, {"cutoff_date": "2022-01-01"})
    revision = restore(seeded, "lyngby", 1, "bo", state_of(seeded).version)
    assert (revision.number, revision.action, revision.by, revision.restored_from) == (4, "restore", "bo", 1)
    assert revision.changes == (
        Change("name", "A", "Lyngby-Taarbæk Bibliotekerne"),
        Change("cutoff_date", "2022-01-01", "2021-06-15"),
        Change("kodelinje", None, "+73< +86836084<"),
        Change("text.en.intro", "Hi", None),
    )
    assert state_of(seeded).published == LYNGBY
    assert history(seeded, "lyngby")[0] == revision


def test_a_restore_can_be_undone_by_restoring_again(seeded: Session) -> None:
    _publish(seeded, {"name": "A"})
    restore(seeded, "lyngby", 1, "bo", state_of(seeded).version)
    undo = restore(seeded, "lyngby", 2, "anna", state_of(seeded).version)
    assert (undo.number, undo.restored_from, undo.changes) == (
        4,
        2,
        (Change("name", "Lyngby-Taarbæk Bibliotekerne", "A"),),
    )
    assert state_of(seeded).published.name == "A"


def test_restore_keeps_an_unpublished_draft(seeded: Session) -> None:
    _publish(seeded, {"name": "A"})
    state = save_draft(seeded, "lyngby", edited(LYNGBY, {"text.da.intro": "Kladde"}), "bo", state_of(seeded).version)
    restore(seeded, "lyngby", 1, "anna", state.version)
    draft = state_of(seeded).draft
    assert draft is not None and draft.text("intro", "da") == "Kladde"


def test_restore_of_an_unknown_revision_or_another_librarys_is_not_found(seeded: Session) -> None:
    _publish(seeded, {"name": "A"})  # lyngby has a revision 2, rodovre has not
    for slug, number in (("lyngby", 3), ("rodovre", 2), ("lyngby", 0)):
        with pytest.raises(NotFound):
            restore(seeded, slug, number, "anna", state_of(seeded, slug).version)
    assert len(history(seeded, "rodovre")) == 1


def test_restore_leaves_the_operators_fields_alone(seeded: Session) -> None:
    seed(seeded, replace(LYNGBY, agency_id="DK-717399", name="Renamed in the file"), RODOVRE)
    restore(seeded, "lyngby", 1, "anna", state_of(seeded).version)
    published = state_of(seeded).published
    assert (published.name, published.agency_id) == ("Lyngby-Taarbæk Bibliotekerne", "DK-717399")


def test_loading_a_changed_file_is_recorded_with_the_file_name(
    seeded: Session, write_toml: Callable[..., Path]
) -> None:
    path = write_toml(
        LYNGBY_TOML.replace('"DK-717300"', '"DK-717301"') + '[library.texts.da]\nintro = "Ny"\n', "kommune.toml"
    )
    sync_libraries_file(seeded, path, {})
    latest = history(seeded, "lyngby")[0]
    assert (latest.number, latest.action, latest.by) == (2, "load", "file:kommune.toml")
    assert latest.changes == (
        Change("kodelinje", "+73< +86836084<", None),
        Change("payment_overview_url", "https://www.ltk.dk/", None),
        Change("text.da.intro", "Før {cutoff_date}", "Ny"),
        Change("agency_id", "DK-717300", "DK-717301"),
    )


def test_loading_an_unchanged_library_records_nothing(seeded: Session) -> None:
    seed(seeded)
    assert len(history(seeded, "lyngby")) == 1


def test_a_load_makes_forms_opened_before_it_stale(seeded: Session) -> None:
    before = state_of(seeded)
    seed(seeded, replace(LYNGBY, name="From the file"))
    with pytest.raises(EditConflict):
        save_draft(seeded, "lyngby", edited(before.published, {"name": "Mine"}), "anna", before.version)
    assert state_of(seeded).published.name == "From the file"
