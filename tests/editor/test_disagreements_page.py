"""The edit page shows the anonymous tally and drafts the suggested cut-off date in one step.

The step is a small POST form (guard, CSRF token and the page's version, like every editor form):
it saves a draft with the suggested date and everything else of the draft (or, without one, of
what is published) kept. Publishing stays the editor's own step.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import Flask

from portal import clock, db
from portal.devtools.demo import DEMO_LIBRARIES_FILE
from portal.devtools.idp import DevIdp
from portal.domain.fees import Fee, FeeType
from portal.domain.overview import fee_mismatches
from portal.libraries import disagreements
from portal.libraries.editing import form_values
from tests.editor.helpers import (
    ADA,
    ANNE,
    LONE,
    RASMUS,
    EditorBrowser,
    draft,
    fingerprint,
    history_length,
    page_text,
    save_draft,
    state,
)

LYNGBY_CUTOFF = date(2021, 6, 15)
SEEN = datetime(2026, 11, 20, 12, 0, tzinfo=clock.TIMEZONE)
PREFIXED_LIBRARY = """
[[library]]
slug = "lyngby-boern"
name = "Lyngby-Taarbæk Bibliotekerne, børn"
agency_id = "DK-717301"
cutoff_date = 2022-01-01
"""


def fee(fee_id: int, created: date, payable: bool) -> Fee:
    return Fee(fee_id, FeeType.FEE, "Gebyr (for sent)", Decimal("30"), created, None, payable)


def record(app: Flask, slug: str, *fees: Fee, cutoff: date = LYNGBY_CUTOFF, seen: datetime = SEEN) -> None:
    with app.app_context():
        disagreements.record(db.session(), slug, fee_mismatches(fees, cutoff), seen)


def main_form(page: str, slug: str = "lyngby") -> dict[str, str]:
    """The main form's fields as the page filled them in (what the browser sends back)."""
    form = page[page.index(f'action="/editor/{slug}/"') :]
    form = form[: form.index("</form>")]
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)" value="([^"]*)"', form))
    fields.update(re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, flags=re.S))
    return {name: html.unescape(value) for name, value in fields.items() if name != "csrf_token"}


def suggestion_form(page: str) -> tuple[str, dict[str, str]]:
    """The suggestion's form: where it posts, and its fields but the CSRF token (the browser adds it)."""
    found = re.search(r'<form method="post" action="([^"]+)"[^>]*data-suggest-cutoff>(.*?)</form>', page, re.S)
    assert found, "the page offers to draft the suggested date"
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', found[2]))
    assert fields.pop("csrf_token")  # the form carries the page's token
    return html.unescape(found[1]), {name: html.unescape(value) for name, value in fields.items()}


@pytest.fixture
def tallied(portal: Flask) -> Flask:
    # Demo fee 507 (created 1 February 2021) handed over, though Lyngby's date is 15 June 2021;
    # a fee of March 2023 still payable here.
    record(portal, "lyngby", fee(1, date(2021, 2, 1), False), fee(2, date(2021, 4, 9), False))
    record(portal, "lyngby", fee(3, date(2023, 3, 2), True))
    return portal


def test_the_message_names_the_month_and_the_date_in_both_languages(
    tallied: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    lone = browser_for(LONE)
    english = page_text(lone.get("/editor/lyngby/?lang=en"))
    assert "FBS has handed over fees created as early as February 2021; your cut-off date is 15 June 2021." in english
    assert "FBS still takes payment here for fees created as late as March 2023" in english
    assert "Seen on citizens' pages on 1 day, 20 November 2026." in english
    assert "Draft 1 February 2021 as the cut-off date" in english
    danish = page_text(lone.get("/editor/lyngby/?lang=da"))
    assert (
        "FBS har overdraget gebyrer oprettet helt tilbage i februar 2021; din skæringsdato er 15. juni 2021." in danish
    )
    assert "marts 2023" in danish and "Lav en kladde med 1. februar 2021 som skæringsdato" in danish
    assert "Set på borgernes sider på 1 dag, den 20. november 2026." in danish


def test_the_days_seen_are_counted_in_the_plural_from_two(
    tallied: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    record(tallied, "lyngby", fee(1, date(2021, 2, 1), False), seen=datetime(2026, 11, 22, 9, 0, tzinfo=clock.TIMEZONE))
    lone = browser_for(LONE)
    english = page_text(lone.get("/editor/lyngby/?lang=en"))
    assert "Seen on citizens' pages on 2 different days, most recently on 22 November 2026." in english
    assert "Seen on citizens' pages on 1 day, 20 November 2026." in english  # the late fee: still one day
    danish = page_text(lone.get("/editor/lyngby/?lang=da"))
    assert "Set på borgernes sider på 2 forskellige dage, senest den 22. november 2026." in danish


def test_the_button_drafts_the_suggested_date_and_keeps_the_rest_of_the_draft(
    tallied: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    save_draft(tallied, **{"text.da.intro": "Kladdens egen intro", "name": "Lyngby Bibliotek"})
    lone = browser_for(LONE)
    action, form = suggestion_form(lone.get("/editor/lyngby/").get_data(as_text=True))
    assert action == "/editor/lyngby/suggested-cutoff"
    assert form == {"version": state(tallied).version, "cutoff_date": "2021-02-01"}
    before = draft(tallied)
    history = history_length(tallied)
    response = lone.send(action, form)
    assert response.status_code == 303
    assert response.headers["Location"] == "/editor/lyngby/?done=cutoff_drafted"
    drafted = draft(tallied)
    assert drafted.cutoff_date == date(2021, 2, 1)
    assert drafted == replace(before, cutoff_date=date(2021, 2, 1))  # nothing else of the draft changed
    assert drafted.texts == before.texts and drafted.name == "Lyngby Bibliotek"
    # A draft only: what citizens see is unchanged, and nothing was published.
    assert state(tallied).published.cutoff_date == LYNGBY_CUTOFF and history_length(tallied) == history
    english = page_text(lone.get(response.headers["Location"] + "&lang=en"))
    assert "The draft now has cut-off date 1 February 2021. Citizens see it only when you publish." in english
    danish = page_text(lone.get(response.headers["Location"] + "&lang=da"))
    assert "Kladden har nu skæringsdatoen 1. februar 2021. Borgerne ser den først, når du udgiver." in danish
    # Publishing makes it the date citizens see, with the rest of the draft.
    assert lone.send("/editor/lyngby/publish", version=state(tallied).version).status_code == 303
    published = state(tallied).published
    assert published.cutoff_date == date(2021, 2, 1) and published.name == "Lyngby Bibliotek"


def test_without_a_draft_the_published_values_are_kept(
    tallied: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    lone = browser_for(LONE)
    action, form = suggestion_form(lone.get("/editor/lyngby/").get_data(as_text=True))
    published = state(tallied).published
    assert lone.send(action, form).status_code == 303
    assert form_values(draft(tallied)) == {**form_values(published), "cutoff_date": "2021-02-01"}
    assert state(tallied).published == published


def test_a_stale_page_gets_the_conflict_and_nothing_is_drafted(
    tallied: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    lone = browser_for(LONE)
    action, form = suggestion_form(lone.get("/editor/lyngby/").get_data(as_text=True))
    save_draft(tallied, by="another editor", **{"text.en.intro": "Another editor's intro"})
    before = fingerprint(tallied)
    response = lone.send(action, form)
    assert response.status_code == 409
    assert "Another editor changed this library while you were working" in page_text(response)
    assert fingerprint(tallied) == before
    assert draft(tallied).cutoff_date == LYNGBY_CUTOFF
    assert form_values(draft(tallied))["text.en.intro"] == "Another editor's intro"
    # The conflict page carries the new version: the button now drafts the date.
    _, fresh = suggestion_form(response.get_data(as_text=True))
    assert fresh["version"] == state(tallied).version
    assert lone.send(action, fresh).status_code == 303
    assert draft(tallied).cutoff_date == date(2021, 2, 1)
    assert form_values(draft(tallied))["text.en.intro"] == "Another editor's intro"  # the other's change kept


def test_a_suggestion_that_moved_since_the_page_was_loaded_drafts_nothing(
    tallied: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    lone = browser_for(LONE)
    action, form = suggestion_form(lone.get("/editor/lyngby/").get_data(as_text=True))
    # Meanwhile a citizen's page showed a fee of November 2020 handed over: the suggestion moved.
    record(tallied, "lyngby", fee(4, date(2020, 11, 19), False))
    before = fingerprint(tallied)
    response = lone.send(action, form)
    assert response.status_code == 422
    text = page_text(response)
    assert "Nothing was changed" in text and "The suggested cut-off date has changed since the page was loaded" in text
    assert fingerprint(tallied) == before
    assert suggestion_form(response.get_data(as_text=True))[1]["cutoff_date"] == "2020-11-01"


@pytest.mark.parametrize("sent", ["2021-03-01", "", "2021-02-30", "<script>"])
def test_a_date_that_is_not_the_suggestion_drafts_nothing(
    tallied: Flask, browser_for: Callable[..., EditorBrowser], sent: str
) -> None:
    lone = browser_for(LONE)
    before = fingerprint(tallied)
    response = lone.send("/editor/lyngby/suggested-cutoff", {"cutoff_date": sent}, version=before[0])
    assert response.status_code == 422
    assert "The suggested cut-off date has changed" in page_text(response)
    assert fingerprint(tallied) == before


def test_a_suggestion_after_today_is_refused(
    tallied: Flask, browser_for: Callable[..., EditorBrowser], monkeypatch: pytest.MonkeyPatch
) -> None:
    lone = browser_for(LONE)
    action, form = suggestion_form(lone.get("/editor/lyngby/").get_data(as_text=True))
    before = fingerprint(tallied)
    # The suggestion is the first of a fee's creation month; as if today were before it.
    monkeypatch.setattr(clock, "today", lambda: date(2021, 1, 20))
    response = lone.send(action, form)
    assert response.status_code == 422
    assert "The suggested cut-off date is after today. Schedule a later cut-off date instead." in page_text(response)
    assert fingerprint(tallied) == before


@pytest.mark.parametrize("value", ["2021-02-01", "2021-02-30", "<script>"])
def test_a_cutoff_date_in_the_address_fills_in_nothing(
    tallied: Flask, browser_for: Callable[..., EditorBrowser], value: str
) -> None:
    lone = browser_for(LONE)
    response = lone.get("/editor/lyngby/?" + urlencode({"cutoff_date": value}))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert main_form(page)["cutoff_date"] == "2021-06-15"
    form = page[page.index('action="/editor/lyngby/"') :]
    assert value not in form.split('name="cutoff_date"')[1][:200]


def test_a_foreign_library_is_not_found(tallied: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    rasmus = browser_for(RASMUS)
    response = rasmus.get("/editor/lyngby/?cutoff_date=2021-02-01")
    assert response.status_code == 404
    assert "February 2021" not in page_text(response) and "februar 2021" not in page_text(response)
    citizen = browser_for()
    citizen.login(ANNE)
    assert citizen.get("/editor/lyngby/?cutoff_date=2021-02-01").status_code == 302
    # Rasmus's own library has no tally: nothing is shown there.
    assert "data-disagreements" not in rasmus.get("/editor/rodovre/").get_data(as_text=True)


def test_no_disagreement_no_message(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    page = browser_for(LONE).get("/editor/lyngby/").get_data(as_text=True)
    assert "data-disagreements" not in page and "data-suggest-cutoff" not in page
    assert "suggested-cutoff" not in page


def test_libraries_sharing_a_slug_prefix_see_only_their_own_tally(
    make_portal: Callable[..., Flask], idp: DevIdp, tmp_path: Path, browser_for: Callable[..., EditorBrowser]
) -> None:
    libraries = tmp_path / "libraries.toml"
    libraries.write_text(DEMO_LIBRARIES_FILE.read_text(encoding="utf-8") + PREFIXED_LIBRARY, encoding="utf-8")
    app = make_portal(idp.issuer, PORTAL_LIBRARIES_FILE=str(libraries))
    record(app, "lyngby-boern", fee(1, date(2021, 9, 1), False), cutoff=date(2022, 1, 1))
    ada = EditorBrowser(app)
    try:
        assert ada.editor_login(ADA).status_code == 302
        boern = page_text(ada.get("/editor/lyngby-boern/?lang=en"))
        assert "created as early as September 2021; your cut-off date is 1 January 2022" in boern
        lyngby = ada.get("/editor/lyngby/?lang=en").get_data(as_text=True)
        assert "data-disagreements" not in lyngby and "September 2021" not in lyngby
    finally:
        ada.close()
