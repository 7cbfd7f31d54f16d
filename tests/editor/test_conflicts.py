"""Two editors at once: the second one's stale form gets a clear conflict, never a silent overwrite."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pytest
from flask import Flask

from portal import clock
from tests.editor.helpers import ADA, LONE, EditorBrowser, draft, fingerprint, loaded_form, page_text, schedule, state

CONFLICT = "Another editor changed this library while you were working"


def test_the_second_save_gets_a_conflict_and_keeps_its_typing(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    lone, ada = browser_for(LONE), browser_for(ADA)
    lones, adas = loaded_form(lone), loaded_form(ada)  # both open the form
    assert lones["version"] == adas["version"]

    assert lone.send("/editor/lyngby/", {**lones, "text.da.intro": "Lones tekst"}).status_code == 303
    response = ada.send("/editor/lyngby/", {**adas, "text.da.intro": "Adas tekst"})

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert CONFLICT in page and 'role="alert"' in page
    assert "Adas tekst" in page  # her typing is still in the form
    assert draft(portal).texts["da"]["intro"] == "Lones tekst"  # Lone's draft is intact
    # The form holds Ada's typing, not Lone's draft: no button to publish or discard a draft she has not seen.
    assert 'action="/editor/lyngby/publish"' not in page and 'action="/editor/lyngby/discard"' not in page
    assert "To publish or discard the draft, first save your changes or open the latest version." in page
    # Ada's form now carries the new version: saving again is her informed choice.
    assert f'name="version" value="{state(portal).version}"' in page
    again = {**adas, "text.da.intro": "Adas tekst", "version": state(portal).version}
    assert ada.send("/editor/lyngby/", again).status_code == 303
    assert draft(portal).texts["da"]["intro"] == "Adas tekst"
    # Once she opens the latest version, the draft's buttons are back.
    assert 'action="/editor/lyngby/publish"' in ada.get("/editor/lyngby/").get_data(as_text=True)


def test_publishing_a_stale_draft_is_refused(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    lone, ada = browser_for(LONE), browser_for(ADA)
    assert lone.send("/editor/lyngby/", {**loaded_form(lone), "text.en.intro": "First"}).status_code == 303
    seen_by_ada = state(portal).version  # Ada looks at Lone's draft
    assert lone.send("/editor/lyngby/", {**loaded_form(lone), "text.en.intro": "Second"}).status_code == 303
    before = fingerprint(portal)

    response = ada.send("/editor/lyngby/publish", version=seen_by_ada)

    assert response.status_code == 409 and CONFLICT in response.get_data(as_text=True)
    assert fingerprint(portal) == before  # nothing published
    assert state(portal).published.text("intro", "en") != "Second"


@pytest.mark.parametrize("version", ["", "x-1", "²-1", "9" * 40 + "-1"])
def test_a_version_no_library_can_have_is_a_conflict(
    portal: Flask, browser_for: Callable[..., EditorBrowser], version: str
) -> None:
    # "²" int() refuses and 40 digits overflow SQL's BIGINT: both were a 500.
    lone = browser_for(LONE)
    assert lone.send("/editor/lyngby/", loaded_form(lone)).status_code == 303
    before = fingerprint(portal)
    response = lone.send("/editor/lyngby/publish", version=version)
    assert response.status_code == 409 and CONFLICT in response.get_data(as_text=True)
    assert fingerprint(portal) == before


def test_discarding_and_scheduling_with_a_stale_version_are_refused(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    lone, ada = browser_for(LONE), browser_for(ADA)
    stale = state(portal).version
    assert lone.send("/editor/lyngby/", loaded_form(lone)).status_code == 303
    before = fingerprint(portal)
    assert ada.send("/editor/lyngby/discard", version=stale).status_code == 409
    assert (
        ada.send(
            "/editor/lyngby/schedule",
            {"effective_from": "2099-01-01", "scheduled_cutoff_date": "2020-01-01"},
            version=stale,
        ).status_code
        == 409
    )
    assert fingerprint(portal) == before


def test_restoring_with_a_stale_version_is_refused(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    lone, ada = browser_for(LONE), browser_for(ADA)
    stale = state(portal).version
    assert lone.send("/editor/lyngby/", loaded_form(lone)).status_code == 303
    before = fingerprint(portal)
    response = ada.send("/editor/lyngby/history/1/restore", version=stale)
    assert response.status_code == 409
    assert "Nothing was restored" in page_text(response)
    assert fingerprint(portal) == before


def test_a_form_loaded_before_a_scheduled_date_took_effect_is_stale(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    lone = browser_for(LONE)
    with clock.frozen(datetime(2027, 2, 28, 22, 0)):
        schedule(portal, date(2027, 3, 1), date(2024, 1, 1))
        form = loaded_form(lone)  # still shows 15 June 2021
        assert form["cutoff_date"] == "2021-06-15"
    with clock.frozen(datetime(2027, 3, 1, 8, 0)):
        # Saving it would quietly bring the old date back: refused.
        response = lone.send("/editor/lyngby/", form)
        assert response.status_code == 409
        assert state(portal).draft is None
