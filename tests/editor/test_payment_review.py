"""Payment staff in the editor area: the library's orders, one order's report, and marking it resolved.

Lone edits Lyngby and is its payment staff; Ada is payment staff everywhere. `lyngby-boern`
shares Lyngby's slug as a prefix and has an order of its own, which Lyngby's staff never see.
Who may open which page at all is the matrix's job (test_authorization); this is what they see.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from portal.devtools.demo import DEMO_LIBRARIES_FILE
from portal.devtools.idp import DevIdp
from portal.editor.payment_labels import REVIEW_REASONS, review_label
from portal.payments import reasons, review, store
from portal.payments.reasons import Code, Reason
from portal.payments.setup import runtime
from portal.payments.states import State
from tests.editor.helpers import (
    ADA,
    LONE,
    PATRON,
    RASMUS,
    REVIEW_REASON,
    EditorBrowser,
    make_order,
    order_state,
    page_text,
)
from tests.editor.test_authorization import PREFIXED_LIBRARY
from tests.payments.test_reasons import SAMPLES

NEXI_PAYMENT_ID = "0260000062c3c8d3f0e2b0f5a9a0c8e1"


@pytest.fixture
def portal(make_portal: Callable[..., Flask], idp: DevIdp, tmp_path: Path) -> Flask:
    libraries = tmp_path / "libraries.toml"
    libraries.write_text(DEMO_LIBRARIES_FILE.read_text(encoding="utf-8") + PREFIXED_LIBRARY, encoding="utf-8")
    return make_portal(idp.issuer, PORTAL_LIBRARIES_FILE=str(libraries))


def answered_by_fbs(app: Flask, order_id: str) -> list[int]:
    """Give the waiting order what the machine writes once FBS answered; returns its fee ids."""
    with app.app_context(), runtime().sessions() as session:
        row = store.get_order(session, order_id)
        assert row is not None
        fee_ids = [int(line["fee_id"]) for line in row.lines]
        fields = {
            "nexi_payment_id": NEXI_PAYMENT_ID,
            "fbs_answers": {str(fee_ids[0]): "paymentRegistered", str(fee_ids[1]): "paymentNotAllowedByClient"},
            "charge_ore": 2500,
            "release_ore": 2600,
            "attempts": 6,
        }
        change = store.Change(fields, None, "FBS answered", "worker")
        assert store.transition(session, order_id, State.NEEDS_REVIEW, State.NEEDS_REVIEW, change)
    return fee_ids


def resolve_path(order_id: str, slug: str = "lyngby") -> str:
    return f"/editor/{slug}/betalinger/{order_id}/resolve"


def test_the_list_shows_the_waiting_orders_first_and_only_the_librarys(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    waiting = make_order(portal)
    completed = make_order(portal, to=State.COMPLETED)
    foreign = make_order(portal, "lyngby-boern")

    page = browser_for(LONE).get("/editor/lyngby/betalinger/")

    assert page.status_code == 200, page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    waiting_table = html[html.index('data-orders="needs-review"') : html.index('data-orders="recent"')]
    assert waiting in waiting_table and REVIEW_REASON in waiting_table and "51.00" in waiting_table
    recent_table = html[html.index('data-orders="recent"') :]
    assert completed in recent_table and "Completed" in recent_table and waiting not in recent_table
    assert foreign not in html


def test_staff_of_all_libraries_see_each_librarys_own_orders(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    lyngby, boern = make_order(portal), make_order(portal, "lyngby-boern")
    ada = browser_for(ADA)
    boern_page = page_text(ada.get("/editor/lyngby-boern/betalinger/"))
    assert boern in boern_page and lyngby not in boern_page
    # An order is only found under its own library: another library's address does not show it.
    assert ada.get(f"/editor/lyngby/betalinger/{boern}").status_code == 404
    assert ada.get(f"/editor/lyngby-boern/betalinger/{lyngby}").status_code == 404
    assert ada.get("/editor/lyngby/betalinger/GP-unknown").status_code == 404
    before = order_state(portal, boern)
    assert ada.send(resolve_path(boern, "lyngby"), {"note": "Cancelled"}).status_code == 404
    assert order_state(portal, boern) == before


def test_the_state_filter(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    completed = make_order(portal, to=State.COMPLETED)
    cancelled = make_order(portal, to=State.CANCELLED)
    lone = browser_for(LONE)
    filtered = lone.get("/editor/lyngby/betalinger/?state=cancelled").get_data(as_text=True)
    assert cancelled in filtered and completed not in filtered
    assert '<option value="cancelled" selected>' in filtered
    # An unknown state is no filter at all (not an error page).
    everything = lone.get("/editor/lyngby/betalinger/?state=bogus").get_data(as_text=True)
    assert cancelled in everything and completed in everything


def test_the_report_tells_staff_what_happened_and_what_to_do(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    order_id = make_order(portal)
    fee_ids = answered_by_fbs(portal, order_id)

    response = browser_for(LONE).get(f"/editor/lyngby/betalinger/{order_id}")

    assert response.status_code == 200
    text = page_text(response)
    for shown in (order_id, NEXI_PAYMENT_ID, REVIEW_REASON, "Needs review", str(PATRON), "Gebyr 1", "Gebyr 2"):
        assert shown in text, shown
    assert f"{fee_ids[0]} Gebyr 1 DKK 25.00 Registered for this order (paymentRegistered)" in text
    assert f"{fee_ids[1]} Gebyr 2 DKK 26.00 Not payable here (paymentNotAllowedByClient)" in text
    assert "Total DKK 51.00" in text and "To charge DKK 25.00" in text and "To release DKK 26.00" in text
    assert "Attempts at the current step 6" in text
    # The runbook: FBS first, then the Nexi portal, then resolve here.
    assert "look up each fee: was it paid, and by whom?" in text
    assert "Find the payment in the Nexi portal" in text and "Mark the order resolved below" in text
    # The whole history, oldest first.
    assert text.index("Created → Needs review") < text.index("FBS answered")
    # Who wrote each line, in words; the portal's own notes are technical and marked as English.
    assert "The portal (payment step) Needs review → Needs review FBS answered" in text
    assert '<span lang="en">FBS answered</span>' in response.get_data(as_text=True)
    assert "test Created → Needs review" in text  # a source without a label is shown as it is
    assert 'name="note"' in response.get_data(as_text=True)


def test_resolving_marks_the_order_and_clears_the_patron(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    order_id = make_order(portal)
    lone = browser_for(LONE)

    response = lone.send(resolve_path(order_id), {"note": "Trukket gebyr 1 i Nexi-portalen, resten annulleret."})

    assert response.status_code == 303
    assert response.headers["Location"] == f"/editor/lyngby/betalinger/{order_id}?done=resolved"
    state, resolved_by, note, _ = order_state(portal, order_id)
    assert (state, resolved_by) == ("resolved", "Lone Lyngby (editor-lone)")
    assert note == "Trukket gebyr 1 i Nexi-portalen, resten annulleret."
    page = lone.get(response.headers["Location"])
    text = page_text(page)
    assert "The order is marked resolved." in text and "Marked resolved by Lone Lyngby (editor-lone)." in text
    assert note in text and "Resolved by staff" in text
    assert str(PATRON) not in text  # cleared once the order is finished
    assert 'name="note"' not in page.get_data(as_text=True)  # nothing more to resolve


def test_a_second_resolve_is_a_conflict_and_changes_nothing(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    order_id = make_order(portal)
    lone, ada = browser_for(LONE), browser_for(ADA)
    assert lone.send(resolve_path(order_id), {"note": "Annulleret i Nexi-portalen"}).status_code == 303
    before = order_state(portal, order_id)

    response = ada.send(resolve_path(order_id), {"note": "Trukket"})

    assert response.status_code == 409
    text = page_text(response)
    assert "This order is not waiting for review" in text
    assert "Nothing was changed. It was already marked resolved by Lone Lyngby (editor-lone)." in text
    assert order_state(portal, order_id) == before


# An empty note too: the page has no note field any more to put that message next to.
@pytest.mark.parametrize("note", ["Trukket", "", "x" * (review.MAX_NOTE_LENGTH + 1)])
def test_an_order_that_is_not_waiting_cannot_be_resolved(
    portal: Flask, browser_for: Callable[..., EditorBrowser], note: str
) -> None:
    order_id = make_order(portal, to=State.RESERVED)
    before = order_state(portal, order_id)
    response = browser_for(LONE).send(resolve_path(order_id), {"note": note})
    assert response.status_code == 409
    assert "Its state is: Reserved on the card." in page_text(response)
    assert order_state(portal, order_id) == before


@pytest.mark.parametrize(
    ("note", "message"),
    [
        ("", "Write what you did before you mark the order resolved."),
        ("   ", "Write what you did before you mark the order resolved."),
        ("x" * (review.MAX_NOTE_LENGTH + 1), f"The note is too long: at most {review.MAX_NOTE_LENGTH} characters."),
    ],
)
def test_the_note_is_required_and_bounded(
    portal: Flask, browser_for: Callable[..., EditorBrowser], note: str, message: str
) -> None:
    order_id = make_order(portal)
    before = order_state(portal, order_id)
    lone = browser_for(LONE)

    response = lone.send(resolve_path(order_id), {"note": note})

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in page_text(response)
    assert 'aria-invalid="true"' in html
    if note.strip():
        assert note in html  # what was typed is kept in the form
    assert order_state(portal, order_id) == before
    assert lone.send(resolve_path(order_id), {"note": "Annulleret"}).status_code == 303


def test_links_to_the_payments_page_only_for_payment_staff(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    link = 'href="/editor/lyngby/betalinger/"'
    lone = browser_for(LONE)
    assert link in lone.get("/editor/").get_data(as_text=True)
    assert link in lone.get("/editor/lyngby/").get_data(as_text=True)
    rasmus = browser_for(RASMUS)  # edits Rødovre, reviews no payments
    assert "/betalinger/" not in rasmus.get("/editor/").get_data(as_text=True)
    assert "/betalinger/" not in rasmus.get("/editor/rodovre/").get_data(as_text=True)


def test_the_pages_are_in_danish(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    order_id = make_order(portal)
    lone = browser_for(LONE)
    listing = page_text(lone.get("/editor/lyngby/betalinger/?lang=da"))
    assert "Kortbetalinger" in listing and "Venter på gennemgang" in listing
    report = page_text(lone.get(f"/editor/lyngby/betalinger/{order_id}"))
    assert "Hvad skal du gøre" in report and "Skal gennemgås" in report
    answered_by_fbs(portal, order_id)
    assert "Portalen (betalingstrin)" in page_text(lone.get(f"/editor/lyngby/betalinger/{order_id}"))


def _reason_cell(response: TestResponse) -> str:
    """The report's reason cell, as HTML."""
    page = response.get_data(as_text=True)
    cell = page[page.index("<td data-reason>") :]
    return cell[: cell.index("</td>")]


def test_the_reason_is_worded_in_the_pages_language_with_the_upstreams_message_as_it_came(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    facts: dict[str, str | int] = {"message": "<b>1001</b> over", "charged_ore": 1000, "charge_ore": 2500}
    order_id = make_order(portal, reason=Reason(Code.CHARGE_DIFFERS, facts))
    lone = browser_for(LONE)

    danish = _reason_cell(lone.get(f"/editor/lyngby/betalinger/{order_id}?lang=da"))
    assert html.unescape(" ".join(re.sub(r"<[^>]+>", "", danish).split())) == (
        "Nexi viser 10,00 kr. trukket i stedet for 25,00 kr. og afviste at trække beløbet (<b>1001</b> over)."
    )
    # Only Nexi's own words are marked English, and they are text, never markup.
    assert danish.count('lang="en"') == 1 and '<span lang="en">&lt;b&gt;1001&lt;/b&gt; over</span>' in danish
    english = _reason_cell(lone.get(f"/editor/lyngby/betalinger/{order_id}?lang=en"))
    assert "Nexi shows DKK 10.00 charged instead of DKK 25.00" in html.unescape(english).replace("\xa0", " ")
    listing = page_text(lone.get("/editor/lyngby/betalinger/?lang=da"))
    assert "Nexi viser 10,00" in listing


def test_a_reason_that_wraps_the_last_failure_words_both(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    order_id = make_order(portal, reason=reasons.gave_up(reasons.upstream_failed("fbs", "HTTP 503"), 7))
    cell = _reason_cell(browser_for(LONE).get(f"/editor/lyngby/betalinger/{order_id}?lang=da"))
    assert " ".join(re.sub(r"<[^>]+>", "", cell).split()) == (
        "Portalen opgav efter 7 forsøg. Det sidste mislykkedes: FBS svarede ikke som forventet: HTTP 503"
    )


def test_an_order_from_before_reason_codes_shows_its_english_sentence_marked_english(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    order_id = make_order(portal, reason="FBS retries used up")
    lone = browser_for(LONE)
    assert _reason_cell(lone.get(f"/editor/lyngby/betalinger/{order_id}?lang=da")) == (
        '<td data-reason><span lang="en">FBS retries used up</span>'
    )
    listing = lone.get("/editor/lyngby/betalinger/?lang=da").get_data(as_text=True)
    assert '<span lang="en">FBS retries used up</span>' in listing


def _worded(app: Flask, language: str) -> dict[Code, str]:
    with app.test_request_context(f"/editor/?lang={language}"):
        return {code: str(review_label(reason, reason.english())) for code, reason in SAMPLES.items()}


def test_every_reason_has_a_wording_in_each_language(portal: Flask) -> None:
    assert set(REVIEW_REASONS) == set(Code)
    danish, english = _worded(portal, "da"), _worded(portal, "en")
    for code in Code:
        for worded in (danish[code], english[code]):
            assert "%(" not in worded and "{" not in worded and ".." not in worded, worded
        assert danish[code] != english[code], code  # translated
        assert 'lang="en"' not in english[code].replace('<span lang="en">', ""), code
