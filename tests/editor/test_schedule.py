"""A scheduled cut-off date takes effect by itself at midnight Europe/Copenhagen (time travel, no sleeping)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from flask import Flask

from portal import clock, db
from portal.libraries.repository import get_library
from tests.editor.helpers import LONE, EditorBrowser, page_text, state

BEFORE_MIDNIGHT = datetime(2027, 2, 28, 23, 59, 59)  # Copenhagen wall time
MIDNIGHT = datetime(2027, 3, 1, 0, 0, 0)


def current_cutoff(page: str) -> str:
    found = re.search(r'data-current-cutoff><time datetime="([0-9-]+)">', page)
    assert found is not None
    return found[1]


def citizen_cutoff(portal: Flask) -> date:
    """The date the citizen page uses (portal.libraries.repository.get_library)."""
    with portal.app_context():
        library = get_library("lyngby")
        db.session().close()
    assert library is not None
    return library.cutoff_date


@pytest.fixture
def scheduled(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> EditorBrowser:
    """Lone schedules, on 20 February 2027, 'from 1 March 2027 the cut-off date is 1 January 2024'."""
    lone = browser_for(LONE)
    with clock.frozen(datetime(2027, 2, 20, 12, 0)):
        response = lone.send(
            "/editor/lyngby/schedule",
            {"effective_from": "2027-03-01", "scheduled_cutoff_date": "2024-01-01"},
            version=state(portal).version,
        )
        assert response.status_code == 303
    return lone


def test_current_and_upcoming_dates_side_by_side(scheduled: EditorBrowser) -> None:
    with clock.frozen(datetime(2027, 2, 20, 12, 0)):
        response = scheduled.get("/editor/lyngby/?done=scheduled")
    page = response.get_data(as_text=True)
    assert current_cutoff(page) == "2021-06-15"
    assert "From 1 March 2027: 1 January 2024" in page_text(response)
    assert "The change of the cut-off date is scheduled." in page
    # Both columns of one row.
    row = page[page.index('<div class="row">') : page.index("Schedule a change")]
    assert row.count('class="col-12 col-md-6"') == 2 and "In force today" in row and "Upcoming changes" in row


def test_the_date_switches_at_midnight_copenhagen(portal: Flask, scheduled: EditorBrowser) -> None:
    with clock.frozen(BEFORE_MIDNIGHT):
        assert citizen_cutoff(portal) == date(2021, 6, 15)
        assert current_cutoff(scheduled.get("/editor/lyngby/").get_data(as_text=True)) == "2021-06-15"
        assert "15 June 2021" in page_text(scheduled.get("/editor/lyngby/preview/en"))
    with clock.frozen(MIDNIGHT):
        assert citizen_cutoff(portal) == date(2024, 1, 1)
        response = scheduled.get("/editor/lyngby/")
        assert current_cutoff(response.get_data(as_text=True)) == "2024-01-01"
        assert "No changes scheduled." in page_text(response)
        # The texts follow the date: the preview of the published page says the new one.
        preview = page_text(scheduled.get("/editor/lyngby/preview/en"))
        assert "Debts created before 1 January 2024" in preview and "15 June 2021" not in preview
        assert "1. januar 2024" in page_text(scheduled.get("/editor/lyngby/preview/da"))


def test_midnight_is_danish_not_utc(portal: Flask, scheduled: EditorBrowser) -> None:
    # 23:30 UTC on 28 February is already 00:30 on 1 March in Copenhagen (UTC+1 in winter).
    with clock.frozen(datetime(2027, 2, 28, 23, 30, tzinfo=UTC)):
        assert citizen_cutoff(portal) == date(2024, 1, 1)
    with clock.frozen(datetime(2027, 2, 28, 22, 59, tzinfo=UTC)):
        assert citizen_cutoff(portal) == date(2021, 6, 15)


def test_a_scheduled_change_can_be_cancelled(portal: Flask, scheduled: EditorBrowser) -> None:
    with clock.frozen(datetime(2027, 2, 21, 9, 0)):
        entry = state(portal).upcoming[0]
        page = scheduled.get("/editor/lyngby/").get_data(as_text=True)
        action = f"/editor/lyngby/schedule/{entry.id}/cancel"
        assert f'action="{action}"' in page
        response = scheduled.send(action, version=state(portal).version)
        assert response.status_code == 303
        assert "No changes scheduled." in page_text(scheduled.get(response.headers["Location"]))
    with clock.frozen(MIDNIGHT):
        assert citizen_cutoff(portal) == date(2021, 6, 15)


def test_a_change_in_force_cannot_be_cancelled(portal: Flask, scheduled: EditorBrowser) -> None:
    with clock.frozen(datetime(2027, 2, 21, 9, 0)):
        entry = state(portal).upcoming[0]
    with clock.frozen(datetime(2027, 3, 2, 9, 0)):
        response = scheduled.send(f"/editor/lyngby/schedule/{entry.id}/cancel", version=state(portal).version)
        assert response.status_code == 422
        assert "This change is already in force and cannot be cancelled." in page_text(response)
        assert citizen_cutoff(portal) == date(2024, 1, 1)


@pytest.mark.parametrize("schedule_id", ["0", str(2**63), "9" * 40])
def test_a_schedule_id_no_row_can_have_is_not_found(portal: Flask, scheduled: EditorBrowser, schedule_id: str) -> None:
    # One past SQL's BIGINT used to overflow in the query (a 500) instead of finding nothing.
    response = scheduled.send(f"/editor/lyngby/schedule/{schedule_id}/cancel", version=state(portal).version)
    assert response.status_code == 404
    assert len(state(portal).upcoming) == 1
