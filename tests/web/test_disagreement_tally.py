"""Viewing the overview records the anonymous tally; recording never gets in the page's way.

Anne's demo fee 507 at Lyngby was created on 1 February 2021 and FBS has handed it over, though
Lyngby's cut-off date is 15 June 2021: her page records February 2021, handed over early.
"""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy import text

from portal import db
from portal.libraries import disagreements
from portal.libraries.disagreements import Direction
from tests.support.login import http_login
from tests.support.stack import Stack

LYNGBY_CUTOFF = date(2021, 6, 15)


def tally(stack: Stack) -> list[tuple[str, str, str, int]]:
    with stack.app.app_context():
        query = text(
            "SELECT l.slug, d.month, d.direction, d.count FROM cutoff_disagreements d"
            " JOIN libraries l ON l.id = d.library_id ORDER BY l.slug, d.month"
        )
        return [(slug, str(month), direction, count) for slug, month, direction, count in db.session().execute(query)]


def test_annes_overview_records_february_2021_handed_over_early(client: httpx.Client, stack: Stack) -> None:
    page = http_login(client, stack.url, "demo-anne")
    assert page.status_code == 200
    assert tally(stack) == [("lyngby", "2021-02-01", "handed_over_early", 1)]
    # Reloading the page the same day adds nothing: the count is of days, not of reloads.
    for _ in range(3):
        assert client.get(f"{stack.url}/lyngby/").status_code == 200
    assert tally(stack) == [("lyngby", "2021-02-01", "handed_over_early", 1)]
    with stack.app.app_context():
        found = disagreements.summary(db.session(), "lyngby", LYNGBY_CUTOFF)
    assert found.handed_over_early is not None
    assert (found.handed_over_early.month, found.handed_over_early.direction) == (
        date(2021, 2, 1),
        Direction.HANDED_OVER_EARLY,
    )
    assert found.suggested_cutoff == date(2021, 2, 1) and found.payable_late is None


def test_a_page_without_disagreements_records_nothing(client: httpx.Client, stack: Stack) -> None:
    before = tally(stack)
    page = http_login(client, stack.url, "demo-clara")  # no fees at all
    assert page.status_code == 200
    assert tally(stack) == before


def test_a_failed_tally_still_shows_the_page(
    client: httpx.Client, stack: Stack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(disagreements, "record", broken)
    # Anne's tally was written earlier today by this process (the first test), which would spare the call.
    monkeypatch.setattr(disagreements, "written_today", lambda *_args: False)
    page = http_login(client, stack.url, "demo-anne")
    assert page.status_code == 200
    assert "469,75" in page.text
    assert "could not record the cut-off disagreements" in caplog.text
