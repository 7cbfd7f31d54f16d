"""portal.web.outcome: one decision for every view; each view has an answer for every outcome."""

from __future__ import annotations

import logging
from datetime import date

import httpx
import pytest

from portal.libraries.library import Library
from portal.providers.fbs_adapter import FbsTokenRejected
from portal.services.debts import MitIdRequired
from portal.web import api, citizen, embed, outcome
from portal.web.outcome import Outcome, Refused
from tests.support.login import http_login
from tests.support.stack import Stack

LIBRARY = Library(slug="lyngby", name="Lyngby", agency_id="DK-717300", cutoff_date=date(2021, 6, 15))


def test_every_view_answers_every_outcome(stack: Stack) -> None:
    """A new Outcome fails here until each view says what it shows for it."""
    assert set(citizen.PAGES) == set(Outcome)
    assert set(embed._PAGE_TEMPLATES) == set(Outcome)
    assert set(embed._SUMMARY_STATES) == set(Outcome)
    statuses = {o: api._refused(LIBRARY, Refused(o, provider="fbs")).status for o in Outcome}
    assert statuses == {
        Outcome.SIGNED_OUT: 401,
        Outcome.MITID_REQUIRED: 409,
        Outcome.SIGN_IN_AGAIN: 401,
        Outcome.UNAVAILABLE: 503,
        Outcome.NOT_BORROWER: 404,
    }
    for page, _status in [*citizen.PAGES.values(), *embed._PAGE_TEMPLATES.values()]:
        stack.app.jinja_env.get_template(page)  # each named page exists


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (MitIdRequired("lyngby"), Outcome.MITID_REQUIRED),
        # An UpstreamError, yet no outage: never answered with a snapshot.
        (FbsTokenRejected("fbs", "refused (401): the borrower must sign in again"), Outcome.SIGN_IN_AGAIN),
    ],
)
def test_refusals_are_decided_before_any_snapshot_is_looked_at(raised: Exception, expected: Outcome) -> None:
    # No request context: were a snapshot looked for, the session read would fail.
    assert outcome._refused_or_stale(LIBRARY, "overview", raised) == Refused(expected)


def test_a_bug_is_not_an_outcome() -> None:
    with pytest.raises(KeyError):
        outcome._refused_or_stale(LIBRARY, "overview", KeyError("bug"))


def test_fbs_failing_is_logged_once_per_view(
    client: httpx.Client, stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    http_login(client, stack.url, "demo-clara", slug="rodovre")
    stack.app.extensions["portal.upstreams"].cache.forget_patron("DK-717500", 2003)
    with stack.app.app_context():
        outcome.snapshots().forget({"DK-717500": 2003})
    stack.fbs_state.fail_next(50)
    try:
        with caplog.at_level(logging.WARNING, logger="portal.web.outcome"):
            page = client.get(f"{stack.url}/rodovre/")
            api_answer = client.get(f"{stack.url}/api/v1/libraries/rodovre/total")
    finally:
        stack.fbs_state.reset_faults()
    assert page.status_code == 503 and api_answer.status_code == 503
    lines = [r.getMessage() for r in caplog.records if r.name == "portal.web.outcome"]
    assert [line.split(":")[0] for line in lines] == [
        "library=rodovre overview unavailable",
        "library=rodovre api total unavailable",
    ]
    assert api_answer.json() == {"error": "upstream_unavailable", "providers": {"fbs": "error"}}
