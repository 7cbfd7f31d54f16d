"""The editor storage contract: drafts, validation, publishing, and conflicts between editors.

Every test runs on SQLite and on PostgreSQL (see conftest.database_url), with the clock frozen at T0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy.orm import Session

from portal import clock
from portal.libraries import editing
from portal.libraries.defaults import DEFAULT_TEXTS, TEXT_KEYS
from portal.libraries.editing import (
    Change,
    EditConflict,
    NotFound,
    ValidationFailed,
    discard_draft,
    form_values,
    history,
    load_state,
    publish,
    save_draft,
)
from portal.libraries.fields import CONTACT_FIELDS
from portal.libraries.library import Library
from portal.libraries.repository import upsert_libraries
from tests.libraries.conftest import T0
from tests.libraries.editing_support import LYNGBY, edited, seed, state_of


@pytest.fixture
def seeded(session: Session, frozen_clock: clock.FrozenClock) -> Session:
    seed(session)
    return session


def test_load_state_of_an_unknown_library_is_none(seeded: Session) -> None:
    assert load_state(seeded, "nowhere") is None


def test_load_state_of_a_library_without_changes(seeded: Session) -> None:
    state = state_of(seeded)
    assert state.published == LYNGBY
    assert (state.draft, state.draft_by, state.draft_at) == (None, None, None)
    assert state.current_cutoff == date(2021, 6, 15)
    assert state.upcoming == ()
    assert isinstance(state.version, str) and state.version


def test_form_values_are_the_explicit_values_only() -> None:
    values = form_values(LYNGBY)
    text_fields = {f"text.{language}.{key}" for language in ("da", "en") for key in TEXT_KEYS}
    assert (
        set(values)
        == {"name", "cutoff_date", "kodelinje", "payment_overview_url", "payment_terms_url"}
        | set(CONTACT_FIELDS)
        | {"embed_origins"}
        | text_fields
    )
    assert values["cutoff_date"] == "2021-06-15"
    assert values["kodelinje"] == "+73< +86836084<"
    assert values["text.da.intro"] == "Før {cutoff_date}"
    assert values["text.en.intro"] == ""  # unset: the web side shows the default
    assert form_values(Library("x", "X", "DK-717300", date(2020, 1, 1)))["kodelinje"] == ""


def test_a_saved_draft_is_not_published(seeded: Session, new_session: Callable[[], Session]) -> None:
    before = state_of(seeded)
    state = save_draft(
        seeded,
        "lyngby",
        edited(LYNGBY, {"name": "Lyngby Bibliotek", "text.en.intro": "Hi"}),
        "anna@ltk.dk",
        before.version,
    )
    assert state.draft is not None
    assert (state.draft.name, state.draft.text("intro", "en")) == ("Lyngby Bibliotek", "Hi")
    assert state.draft.text("intro", "da") == "Før {cutoff_date}"
    assert (state.draft_by, state.draft_at) == ("anna@ltk.dk", T0)
    assert state.published == LYNGBY
    assert state.version != before.version
    assert state_of(new_session()) == state  # stored, not just returned


def test_save_draft_stores_values_as_they_will_be_used(seeded: Session) -> None:
    form = edited(
        LYNGBY,
        {
            "name": "  Lyngby  ",
            "kodelinje": " +73<+86836084< ",
            "cutoff_date": " 2022-01-01 ",
            "text.da.delay_notice": "Linje 1\r\n\r\nLinje 2",
        },
    )
    draft = save_draft(seeded, "lyngby", form, "anna", state_of(seeded).version).draft
    assert draft is not None
    assert (draft.name, draft.kodelinje, draft.cutoff_date) == ("Lyngby", "+73< +86836084<", date(2022, 1, 1))
    assert draft.text("delay_notice", "da") == "Linje 1\n\nLinje 2"


def test_texts_are_stored_as_written_markdown(seeded: Session) -> None:
    # Sanitised when rendered (portal.libraries.texts), so the editor gets back what they typed.
    typed = "Før **{cutoff_date}** & 1 < 2 > 0\r\n\r\n- [ltk](https://www.ltk.dk/)\r\n"
    draft = save_draft(
        seeded, "lyngby", edited(LYNGBY, {"text.da.extra_info": typed}), "anna", state_of(seeded).version
    ).draft
    assert draft is not None
    assert draft.text("extra_info", "da") == "Før **{cutoff_date}** & 1 < 2 > 0\n\n- [ltk](https://www.ltk.dk/)"


@pytest.mark.parametrize("typed", ["<p>Før</p>", "Før<br>efter", "<script>alert(1)</script>", 'Se <a href="x">her</a>'])
def test_a_text_with_an_html_tag_is_refused_and_nothing_is_saved(seeded: Session, typed: str) -> None:
    before = state_of(seeded)
    with pytest.raises(ValidationFailed) as caught:
        save_draft(seeded, "lyngby", edited(LYNGBY, {"text.da.extra_info": typed}), "anna", before.version)
    assert caught.value.codes == {"text.da.extra_info": "html"}
    assert state_of(seeded) == before


@pytest.mark.parametrize("emptied", ["", "   \n ", "\r\n\r\n"])
def test_an_emptied_text_falls_back_to_the_default(seeded: Session, emptied: str) -> None:
    draft = save_draft(
        seeded, "lyngby", edited(LYNGBY, {"text.da.intro": emptied}), "anna", state_of(seeded).version
    ).draft
    assert draft is not None
    assert draft.explicit_texts("da") == {}
    assert draft.text("intro", "da") == DEFAULT_TEXTS["da"]["intro"]


REFUSALS = [
    ("name", "", "required"),
    ("name", "   ", "required"),
    ("name", "x" * 201, "too_long"),
    ("cutoff_date", "", "required"),
    ("cutoff_date", "15-06-2021", "date"),
    ("cutoff_date", "2021-6-15", "date"),
    ("cutoff_date", "2021-02-30", "date"),
    ("kodelinje", "hello", "kodelinje.form"),
    ("kodelinje", "+99< +86836084<", "kodelinje.card_type"),
    ("kodelinje", "+73< +96836084<", "kodelinje.creditor"),
    ("kodelinje", "+71< 000000002000015+86021447<", "kodelinje.check_digit"),
    ("kodelinje", "+75< 0000000000000001+86021447<", "kodelinje.check_digit"),
    ("kodelinje", "+71< 12345+86021447<", "kodelinje.payment_id"),
    ("kodelinje", "+04< 123+123<", "kodelinje.giro"),
    ("payment_overview_url", "http://www.ltk.dk/", "url"),
    ("payment_overview_url", "javascript:alert(1)", "url"),
    ("payment_overview_url", "https://user:pw@www.ltk.dk/", "url"),
    ("payment_overview_url", "https://www.ltk.dk/" + "a" * 500, "too_long"),
    ("payment_terms_url", "http://www.ltk.dk/betingelser", "url"),
    ("payment_terms_url", "javascript:alert(1)", "url"),
    ("payment_terms_url", "https://user:pw@www.ltk.dk/", "url"),
    ("payment_terms_url", "https://www.ltk.dk/" + "a" * 500, "too_long"),
    ("text.da.intro", "Før {cutoff}", "placeholder"),
    ("text.en.payable_here_title", "Before {CUTOFF_DATE}", "placeholder"),
    ("text.en.extra_info", "x" * 20_001, "too_long"),
]


@pytest.mark.parametrize(("field", "value", "code"), REFUSALS, ids=[f"{f}-{c}-{v[:12]}" for f, v, c in REFUSALS])
def test_a_bad_field_is_refused_with_its_code_and_nothing_is_saved(
    seeded: Session, field: str, value: str, code: str
) -> None:
    before = state_of(seeded)
    with pytest.raises(ValidationFailed) as caught:
        save_draft(seeded, "lyngby", edited(LYNGBY, {field: value}), "anna", before.version)
    assert caught.value.codes == {field: code}
    assert caught.value.errors[field].strip()
    assert state_of(seeded) == before


def test_every_bad_field_is_reported_at_once(seeded: Session) -> None:
    form = edited(
        LYNGBY, {"name": "", "cutoff_date": "x", "kodelinje": "x", "payment_overview_url": "x", "text.da.intro": "{x}"}
    )
    with pytest.raises(ValidationFailed) as caught:
        save_draft(seeded, "lyngby", form, "anna", state_of(seeded).version)
    assert caught.value.codes == {
        "name": "required",
        "cutoff_date": "date",
        "kodelinje": "kodelinje.form",
        "payment_overview_url": "url",
        "text.da.intro": "placeholder",
    }
    assert set(caught.value.errors) == set(caught.value.codes)


def test_missing_fields_are_empty_and_other_keys_are_ignored(seeded: Session) -> None:
    form = {
        "name": "Lyngby",
        "cutoff_date": "2021-06-15",
        "csrf_token": "t",
        "version": "v",
        "text.de.intro": "Hallo",
        "text.da.outro": "x",
    }
    draft = save_draft(seeded, "lyngby", form, "anna", state_of(seeded).version).draft
    assert draft is not None
    assert (draft.kodelinje, draft.payment_overview_url, draft.texts) == (None, None, {})


def test_discard_draft_drops_it_and_leaves_the_published_version(seeded: Session) -> None:
    state = save_draft(seeded, "lyngby", edited(LYNGBY, {"name": "X"}), "anna", state_of(seeded).version)
    after = discard_draft(seeded, "lyngby", "bo", state.version)
    assert after.draft is None and after.draft_by is None
    assert after.published == LYNGBY
    assert after.version != state.version
    assert discard_draft(seeded, "lyngby", "bo", after.version).draft is None  # no draft: harmless


def test_publish_makes_the_draft_what_citizens_see_and_records_it(
    seeded: Session, new_session: Callable[[], Session]
) -> None:
    state = save_draft(
        seeded,
        "lyngby",
        edited(LYNGBY, {"name": "Lyngby Bibliotek", "text.en.intro": "Hi", "text.da.intro": ""}),
        "anna",
        state_of(seeded).version,
    )
    revision = publish(seeded, "lyngby", "bo", state.version)
    assert (revision.number, revision.action, revision.by, revision.at, revision.restored_from) == (
        2,
        "publish",
        "bo",
        T0,
        None,
    )
    assert revision.changes == (
        Change("name", "Lyngby-Taarbæk Bibliotekerne", "Lyngby Bibliotek"),
        Change("text.da.intro", "Før {cutoff_date}", None),
        Change("text.en.intro", None, "Hi"),
    )
    after = state_of(new_session())
    assert after.draft is None
    assert after.published == state.draft
    assert history(seeded, "lyngby")[0] == revision


def test_payment_terms_are_edited_and_the_nexi_variable_stays_the_operators(
    session: Session, frozen_clock: clock.FrozenClock, new_session: Callable[[], Session]
) -> None:
    terms = "https://www.ltk.dk/betingelser"
    seed(session, replace(LYNGBY, nexi_secret_key_env="LYNGBY_NEXI_SECRET_KEY", payment_terms_url=terms))
    assert form_values(state_of(session).published)["payment_terms_url"] == terms
    assert "nexi_secret_key_env" not in form_values(state_of(session).published)
    new_terms = "https://www.ltk.dk/kortbetaling"
    form = {**edited(state_of(session).published, {"payment_terms_url": f"  {new_terms} "}), "nexi_secret_key_env": "X"}
    state = save_draft(session, "lyngby", form, "anna", state_of(session).version)
    assert state.draft is not None and state.draft.payment_terms_url == new_terms
    revision = publish(session, "lyngby", "bo", state.version)
    assert revision.changes == (Change("payment_terms_url", terms, new_terms),)
    published = state_of(new_session()).published
    assert (published.payment_terms_url, published.nexi_secret_key_env) == (new_terms, "LYNGBY_NEXI_SECRET_KEY")
    # A restore brings the editable field back; the operator's variable stays as it is.
    restored = editing.restore(session, "lyngby", 1, "bo", state_of(session).version)
    assert restored.changes == (Change("payment_terms_url", new_terms, terms),)
    after = state_of(new_session()).published
    assert (after.payment_terms_url, after.nexi_secret_key_env) == (terms, "LYNGBY_NEXI_SECRET_KEY")


def test_a_library_taking_card_payment_keeps_its_payment_terms(
    session: Session, frozen_clock: clock.FrozenClock
) -> None:
    seed(session, LYNGBY)  # revision 1: no card payment, no terms
    paying = replace(LYNGBY, nexi_secret_key_env="LYNGBY_NEXI_SECRET_KEY", payment_terms_url="https://www.ltk.dk/b")
    seed(session, paying)  # revision 2: the file names a Nexi key, with terms
    before = state_of(session)
    with pytest.raises(ValidationFailed) as caught:
        save_draft(session, "lyngby", edited(paying, {"payment_terms_url": ""}), "anna", before.version)
    assert caught.value.codes == {"payment_terms_url": "required"}
    with pytest.raises(ValidationFailed) as caught:
        editing.restore(session, "lyngby", 1, "anna", before.version)
    assert caught.value.codes == {"payment_terms_url": "required"}
    assert state_of(session) == before  # nothing changed


def test_publish_without_a_draft_is_refused(seeded: Session) -> None:
    with pytest.raises(ValidationFailed) as caught:
        publish(seeded, "lyngby", "anna", state_of(seeded).version)
    assert caught.value.codes == {"draft": "no_draft"}
    assert len(history(seeded, "lyngby")) == 1


def test_draft_fields_left_alone_follow_what_is_published_meanwhile(seeded: Session) -> None:
    state = save_draft(seeded, "lyngby", edited(LYNGBY, {"name": "Lyngby Bibliotek"}), "anna", state_of(seeded).version)
    reloaded = replace(LYNGBY, texts={"da": {"intro": "Fra filen"}})
    upsert_libraries(seeded, [reloaded], by="file:libraries.toml")
    state = state_of(seeded)
    assert state.draft is not None
    assert (state.draft.name, state.draft.text("intro", "da")) == ("Lyngby Bibliotek", "Fra filen")
    publish(seeded, "lyngby", "anna", state.version)
    assert (state_of(seeded).published.name, state_of(seeded).published.text("intro", "da")) == (
        "Lyngby Bibliotek",
        "Fra filen",
    )


def test_a_second_editor_with_a_stale_form_gets_a_conflict(new_session: Callable[[], Session], seeded: Session) -> None:
    anna, bo = new_session(), new_session()
    anna_form, bo_form = state_of(anna), state_of(bo)
    saved = save_draft(anna, "lyngby", edited(LYNGBY, {"name": "Anna's"}), "anna", anna_form.version)
    with pytest.raises(EditConflict) as caught:
        save_draft(bo, "lyngby", edited(LYNGBY, {"name": "Bo's"}), "bo", bo_form.version)
    assert caught.value.current_version == saved.version
    now = state_of(new_session())
    assert now.draft is not None and (now.draft.name, now.draft_by) == ("Anna's", "anna")
    # With the current version Bo may overwrite the draft on purpose.
    assert (
        save_draft(bo, "lyngby", edited(LYNGBY, {"name": "Bo's"}), "bo", caught.value.current_version).draft_by == "bo"
    )


def _prepared(session: Session) -> tuple[str, int]:
    """A draft and an upcoming schedule exist; returns the stale version and the schedule's id."""
    stale = state_of(session).version
    state = editing.schedule_cutoff(session, "lyngby", date(2027, 3, 1), date(2024, 1, 1), "anna", stale)
    save_draft(session, "lyngby", edited(LYNGBY, {"name": "X"}), "anna", state.version)
    return stale, state.upcoming[0].id


def _restore_after_a_publish(session: Session, version: str) -> object:
    """Revision 1 is restorable only once it differs from what is live: the draft is published first."""
    publish(session, "lyngby", "bo", version)
    return editing.restore(session, "lyngby", 1, "bo", state_of(session).version)


CHANGES: dict[str, Callable[[Session, str, int], object]] = {
    "save_draft": lambda s, v, _: save_draft(s, "lyngby", edited(LYNGBY, {"name": "Y"}), "bo", v),
    "discard_draft": lambda s, v, _: discard_draft(s, "lyngby", "bo", v),
    "publish": lambda s, v, _: publish(s, "lyngby", "bo", v),
    "restore": lambda s, v, _: _restore_after_a_publish(s, v),
    "schedule_cutoff": lambda s, v, _: editing.schedule_cutoff(
        s, "lyngby", date(2027, 5, 1), date(2025, 1, 1), "bo", v
    ),
    "cancel_scheduled_cutoff": lambda s, v, schedule_id: editing.cancel_scheduled_cutoff(
        s, "lyngby", schedule_id, "bo", v
    ),
}


@pytest.mark.parametrize("change", CHANGES)
def test_every_change_refuses_a_stale_version_and_changes_nothing(seeded: Session, change: str) -> None:
    stale, schedule_id = _prepared(seeded)
    before, revisions = state_of(seeded), history(seeded, "lyngby")
    with pytest.raises(EditConflict) as caught:
        CHANGES[change](seeded, stale, schedule_id)
    assert caught.value.current_version == before.version
    assert (state_of(seeded), history(seeded, "lyngby")) == (before, revisions)


@pytest.mark.parametrize("change", CHANGES)
def test_every_change_works_with_the_current_version(seeded: Session, change: str) -> None:
    _, schedule_id = _prepared(seeded)
    before = state_of(seeded)
    CHANGES[change](seeded, before.version, schedule_id)
    assert state_of(seeded).version != before.version


ON_UNKNOWN_LIBRARY: dict[str, Callable[[Session], object]] = {
    "save_draft": lambda s: save_draft(s, "nowhere", edited(LYNGBY, {}), "bo", "1-20210615"),
    "discard_draft": lambda s: discard_draft(s, "nowhere", "bo", "1-20210615"),
    "publish": lambda s: publish(s, "nowhere", "bo", "1-20210615"),
    "restore": lambda s: editing.restore(s, "nowhere", 1, "bo", "1-20210615"),
    "schedule_cutoff": lambda s: editing.schedule_cutoff(
        s, "nowhere", date(2027, 5, 1), date(2025, 1, 1), "bo", "1-20210615"
    ),
    "cancel_scheduled_cutoff": lambda s: editing.cancel_scheduled_cutoff(s, "nowhere", 1, "bo", "1-20210615"),
}


@pytest.mark.parametrize("change", ON_UNKNOWN_LIBRARY)
def test_every_change_of_an_unknown_library_is_not_found(seeded: Session, change: str) -> None:
    with pytest.raises(NotFound):
        ON_UNKNOWN_LIBRARY[change](seeded)


def test_history_of_an_unknown_library_is_not_found(seeded: Session) -> None:
    with pytest.raises(NotFound):
        history(seeded, "nowhere")


@pytest.mark.parametrize("version", ["", "abc", "1", "1-x", "999-20210615", "1-20240101", "-1-20210615"])
def test_a_malformed_or_invented_version_is_a_conflict(seeded: Session, version: str) -> None:
    with pytest.raises(EditConflict):
        save_draft(seeded, "lyngby", edited(LYNGBY, {"name": "X"}), "anna", version)
    assert state_of(seeded).draft is None


def test_a_form_loaded_before_a_scheduled_date_took_effect_is_stale_after_midnight(
    seeded: Session, frozen_clock: clock.FrozenClock
) -> None:
    state = editing.schedule_cutoff(
        seeded, "lyngby", date(2027, 1, 11), date(2024, 1, 1), "anna", state_of(seeded).version
    )
    frozen_clock.move_to(clock.start_of_day(date(2027, 1, 11)))
    with pytest.raises(EditConflict) as caught:
        # Saving this form would publish 2021-06-15 again, undoing the schedule without anyone noticing.
        save_draft(seeded, "lyngby", form_values(state.published), "anna", state.version)
    assert caught.value.current_version == state_of(seeded).version
