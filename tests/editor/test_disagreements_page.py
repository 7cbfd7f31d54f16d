"""The edit page shows the anonymous tally and drafts the suggested cut-off date in one step.

The step is a link that opens the form with the date filled in (?cutoff_date=YYYY-MM-DD); the
editor saves the draft through the form's own POST (guard and CSRF token), the one save path.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
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
from tests.editor.helpers import ADA, ANNE, LONE, RASMUS, EditorBrowser, draft, fingerprint, page_text

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


def record(app: Flask, slug: str, *fees: Fee, cutoff: date = LYNGBY_CUTOFF) -> None:
    with app.app_context():
        disagreements.record(db.session(), slug, fee_mismatches(fees, cutoff), SEEN)


def main_form(page: str, slug: str = "lyngby") -> dict[str, str]:
    """The main form's fields as the page filled them in (what the browser sends back)."""
    form = page[page.index(f'action="/editor/{slug}/"') :]
    form = form[: form.index("</form>")]
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)" value="([^"]*)"', form))
    fields.update(re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, flags=re.S))
    return {name: html.unescape(value) for name, value in fields.items() if name != "csrf_token"}


def suggestion_link(page: str) -> str:
    found = re.search(r'<a href="([^"]+)" data-suggest-cutoff>', page)
    assert found, "the page offers to draft the suggested date"
    return html.unescape(found[1])


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
    assert "most recently on 20 November 2026" in english
    assert "Draft 1 February 2021 as the cut-off date" in english
    danish = page_text(lone.get("/editor/lyngby/?lang=da"))
    assert (
        "FBS har overdraget gebyrer oprettet helt tilbage i februar 2021; din skæringsdato er 15. juni 2021." in danish
    )
    assert "marts 2023" in danish and "Lav en kladde med 1. februar 2021 som skæringsdato" in danish


def test_the_suggested_date_is_drafted_through_the_form(
    tallied: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    lone = browser_for(LONE)
    link = suggestion_link(lone.get("/editor/lyngby/").get_data(as_text=True))
    assert link == "/editor/lyngby/?cutoff_date=2021-02-01#field-cutoff-date"
    before = fingerprint(tallied)
    opened = lone.get(link.split("#")[0])
    assert opened.status_code == 200
    page = opened.get_data(as_text=True)
    assert "data-suggestion-filled" in page and "data-suggest-cutoff" not in page
    form = main_form(page)
    assert form["cutoff_date"] == "2021-02-01"
    assert fingerprint(tallied) == before  # opening the link saves nothing
    # Without the editor's CSRF token the guard refuses the save and nothing changes.
    assert lone.send("/editor/lyngby/", form, csrf="forged").status_code == 400
    assert fingerprint(tallied) == before
    saved = lone.send("/editor/lyngby/", form)
    assert saved.status_code == 303
    assert draft(tallied).cutoff_date == date(2021, 2, 1)
    assert draft(tallied).cutoff_date != LYNGBY_CUTOFF  # a draft only: what citizens see is unchanged
    assert "15 June 2021" in page_text(lone.get("/editor/lyngby/?lang=en"))


@pytest.mark.parametrize("value", ["2021-02-30", "1.2.2021", "<script>", "2021-02-01T00:00"])
def test_a_prefill_that_is_no_date_is_ignored(
    tallied: Flask, browser_for: Callable[..., EditorBrowser], value: str
) -> None:
    lone = browser_for(LONE)
    response = lone.get("/editor/lyngby/?" + urlencode({"cutoff_date": value}))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert main_form(page)["cutoff_date"] == "2021-06-15"
    assert value not in page.split('name="cutoff_date"')[1][:200]


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
