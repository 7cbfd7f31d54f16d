"""History (who, when, what, before and after) and restoring an earlier version in one step, via the web."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime

import pytest
from flask import Flask

from portal import clock
from portal.editor.forms import field_label
from tests.editor.helpers import ADA, LONE, EditorBrowser, loaded_form, page_text, state


def publish_via_web(browser: EditorBrowser, portal: Flask, **changes: str) -> None:
    assert browser.send("/editor/lyngby/", {**loaded_form(browser), **changes}).status_code == 303
    response = browser.send("/editor/lyngby/publish", version=state(portal).version)
    assert response.status_code == 303 and response.headers["Location"] == "/editor/lyngby/?done=published"


def revision(page: str, number: int) -> str:
    """The history page's section of version `number`."""
    start = page.index(f'id="revision-{number}"')
    end = page.find("<section", start)
    return page[start : end if end != -1 else len(page)]


def test_a_publish_is_recorded_with_who_when_and_before_after(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    lone = browser_for(LONE)
    with clock.frozen(datetime(2026, 11, 21, 14, 5)):
        publish_via_web(lone, portal, cutoff_date="2023-01-01", **{"text.en.intro": "From {cutoff_date} on."})

    page = lone.get("/editor/lyngby/history").get_data(as_text=True)
    newest = revision(page, 2)
    assert "Version 2: Published" in newest
    assert "By Lone Lyngby (editor-lone), 21 November 2026, 14:05." in newest
    rows = re.findall(
        r"<tr>\s*<th scope=\"row\"[^>]*>([^<]*)</th>\s*<td[^>]*>(.*?)</td>\s*<td[^>]*>(.*?)</td>", newest, re.S
    )
    cells = {label: (before.strip(), after.strip()) for label, before, after in rows}
    assert cells["Cut-off date"] == (
        '<time datetime="2021-06-15">15 June 2021</time>',
        '<time datetime="2023-01-01">1 January 2023</time>',
    )
    assert cells["Introduction (English)"] == (
        '<span class="text-muted">(default text)</span>',
        "From {cutoff_date} on.",
    )
    assert len(cells) == 2  # only what changed
    assert "Version 1: Loaded from the libraries file" in page


def test_restore_an_earlier_version_in_one_step(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    lone, ada = browser_for(LONE), browser_for(ADA)
    publish_via_web(lone, portal, cutoff_date="2023-01-01")
    publish_via_web(lone, portal, cutoff_date="2024-01-01", **{"text.da.intro": "Ny tekst"})
    assert state(portal).published.cutoff_date == date(2024, 1, 1)

    page = ada.get("/editor/lyngby/history").get_data(as_text=True)
    assert "Restore version 3" not in page  # the newest is what is published
    assert 'action="/editor/lyngby/history/2/restore"' in page
    response = ada.send("/editor/lyngby/history/2/restore", version=state(portal).version)

    assert response.status_code == 303 and response.headers["Location"] == "/editor/lyngby/history?done=restored"
    published = state(portal).published
    assert published.cutoff_date == date(2023, 1, 1) and "intro" not in published.texts.get("da", {})
    page = ada.get(response.headers["Location"]).get_data(as_text=True)
    assert "The earlier version is published again." in page
    newest = revision(page, 4)
    assert "Version 4: Restored an earlier version" in newest
    assert "By Ada Admin (editor-ada)" in newest and "Restored from version 2." in newest


def test_schedules_appear_in_the_history(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    lone = browser_for(LONE)
    with clock.frozen(datetime(2027, 2, 1, 10, 0)):
        response = lone.send(
            "/editor/lyngby/schedule",
            {"effective_from": "2027-03-01", "scheduled_cutoff_date": "2024-01-01"},
            version=state(portal).version,
        )
        assert response.status_code == 303
        text = page_text(lone.get("/editor/lyngby/history"))
    assert "Version 2: Scheduled a change of the cut-off date" in text
    assert "Scheduled cut-off date from 1 March 2027 (not set) 1 January 2024" in text


def test_restoring_a_schedules_version_says_the_schedule_stays(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    lone = browser_for(LONE)
    with clock.frozen(datetime(2027, 2, 1, 10, 0)):
        scheduled = lone.send(
            "/editor/lyngby/schedule",
            {"effective_from": "2027-03-01", "scheduled_cutoff_date": "2024-01-01"},
            version=state(portal).version,
        )
        assert scheduled.status_code == 303
        publish_via_web(lone, portal, **{"text.en.intro": "Later wording"})
        page = lone.get("/editor/lyngby/history").get_data(as_text=True)
    schedule_entry = revision(page, 2)
    assert "Scheduled changes stay as they are now." in schedule_entry
    assert "Scheduled changes stay" not in revision(page, 1)  # a plain version: nothing to explain


# 2**63 is one past SQL's BIGINT: it used to overflow in the query and answer 500.
@pytest.mark.parametrize("number", ["99", "0", str(2**63), "9" * 40])
def test_unknown_version_cannot_be_restored(
    portal: Flask, browser_for: Callable[..., EditorBrowser], number: str
) -> None:
    response = browser_for(LONE).send(f"/editor/lyngby/history/{number}/restore", version=state(portal).version)
    assert response.status_code == 404


def test_the_card_payment_fields_have_history_labels(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    # nexi_secret_key_env only the libraries file sets; its changes appear in a load's history.
    with portal.test_request_context("/?lang=en"):
        assert field_label("nexi_secret_key_env") == "Variable with the Nexi secret key"
    with portal.test_request_context("/?lang=da"):
        assert field_label("nexi_secret_key_env") == "Variabel med den hemmelige Nexi-nøgle"
    lone = browser_for(LONE)
    publish_via_web(lone, portal, payment_terms_url="https://www.ltk.dk/betingelser")
    text = page_text(lone.get("/editor/lyngby/history"))
    assert "Address of the terms for card payment (not set) https://www.ltk.dk/betingelser" in text


def test_the_editor_pages_footer_speaks_to_editors(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    page = browser_for(LONE).get("/editor/lyngby/history").get_data(as_text=True)
    footer = page[page.index("<footer") :]
    assert "Gebyrportal's editor area" in footer and "shows your debts" not in footer
    citizen = portal.test_client().get("/lyngby/?lang=en").get_data(as_text=True)
    assert "shows your debts to the library" in citizen[citizen.index("<footer") :]
