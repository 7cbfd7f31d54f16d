"""What the citizen's fee rows and summary say (issue 9): titles, mismatch notes, statuses, one term."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from portal.domain.overview import DebtSection
from portal.domain.works import Work
from portal.libraries.repository import get_library
from portal.services.debts import CitizenDebts
from portal.services.preview_debts import preview_debts
from portal.web.overview_page import render_overview
from tests.support.stack import Stack


def render(stack: Stack, language: str = "da", change: Callable[[CitizenDebts], CitizenDebts] | None = None) -> str:
    """The example page at Lyngby, as a signed-in borrower sees it; `change` alters the debts."""
    with stack.app.test_request_context(f"/lyngby/?lang={language}"):
        library = get_library("lyngby")
        assert library is not None
        debts: CitizenDebts = preview_debts(library)
        if change is not None:
            debts = change(debts)
        return render_overview(library, debts, preview=False)


def row(html: str, fee_id: int) -> str:
    found = re.search(rf'<tr data-fee-id="{fee_id}".*?</tr>', html, re.S)
    assert found is not None, fee_id
    return found[0]


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


WORKS = {
    "27655033": Work("27655033", "Kaffe med mor", ("Helle Helle",), "bog", 2019),
    "52530331": Work("52530331", "Tre forfattere", ("A", "B", "C")),
}


def test_a_row_names_what_was_borrowed(stack: Stack) -> None:
    html = render(stack, change=lambda debts: replace(debts, works=WORKS))
    fee = text(row(html, 502))
    assert "Kaffe med mor (Helle Helle, bog, 2019)" in fee
    assert "Tre forfattere (A, B m.fl.)" in fee
    assert "3846661520" not in fee  # the title instead of the item number
    # A material without a work is shown by its item number, as before.
    assert "3846990827" in text(row(html, 501))


def test_without_works_the_item_number_is_shown(stack: Stack) -> None:
    # The example debts carry titles (the editor's preview shows them): taken away here.
    assert "3846661520" in text(row(render(stack, change=lambda debts: replace(debts, works={})), 502))


def test_a_fee_placed_against_its_date_says_so(stack: Stack) -> None:
    html = render(stack)
    # 507: created 01.02.2021, before the cut-off date 15 June 2021, but FBS handed it over.
    assert "Overført til kommunen, selv om det er oprettet før 15. juni 2021." in text(row(html, 507))
    assert html.count("data-mismatch=") == 1
    english = render(stack, "en")
    assert "Handed over to the municipality, though created before 15 June 2021." in text(row(english, 507))


def test_statuses_are_explained_once_below_the_table(stack: Stack) -> None:
    html = text(render(stack))
    assert "Det betyder status" in html
    assert "Kommunen har sendt dig en regning." in html  # invoiced
    assert "Forfaldsdatoen er overskredet" in html  # reminder sent
    english = text(render(stack, "en"))
    assert "What the statuses mean" in english and "sent you a reminder" in english


def test_english_says_replacement_charge_and_names_danish_reasons(stack: Stack) -> None:
    html = render(stack, "en")
    assert "ompensation" not in html
    assert "Replacement charge" in text(row(html, 502))
    assert "library system&#39;s own wording" in html or "library system's own wording" in html
    assert '<span lang="da">Erstatning</span>' in row(html, 502)
    # Danish pages need no such note.
    assert "bibliotekssystemets egne ord" not in render(stack)


def test_the_summary_leaves_out_a_place_with_nothing_to_pay(stack: Stack) -> None:
    def only_handed_over(debts: CitizenDebts) -> CitizenDebts:
        return replace(debts, overview=replace(debts.overview, payable_here=DebtSection()))

    html = render(stack, change=only_handed_over)
    summary = re.search(r'<div class="debt-summary".*?</div>', html, re.S)
    assert summary is not None
    assert 'data-total="handed-over"' in summary[0]
    assert 'data-total="payable-here"' not in summary[0] and "0,00" not in summary[0]


def test_summary_and_no_debts_come_before_the_intro(stack: Stack) -> None:
    html = render(stack)
    intro = html.index('<div class="library-text">')
    assert html.index('id="debt-summary"') < intro
    assert html.index("Udskriv eller gem som PDF") < intro

    def no_debts(debts: CitizenDebts) -> CitizenDebts:
        empty = replace(debts.overview, payable_here=DebtSection(), handed_over=DebtSection())
        return replace(debts, overview=empty)

    html = render(stack, change=no_debts)
    assert html.index("Du har ingen mellemværender") < html.index('<div class="library-text">')
    assert "data-delay-notice" not in html  # nothing in Mit Betalingsoverblik to wait for


def test_sections_count_their_debts_and_keep_the_delay_notice(stack: Stack) -> None:
    html = render(stack)
    assert '<span class="section-count" data-count="4">4 mellemværender</span>' in html
    handed_over = html[html.index('aria-labelledby="handed-over"') :]
    assert "data-delay-notice" in handed_over
    assert html.count("data-delay-notice") == 1


def test_the_printed_statement_says_whose_and_when(stack: Stack) -> None:
    html = render(stack)
    header = re.search(r'<div class="statement-header print-only".*?</div>', html, re.S)
    assert header is not None
    assert "Opgørelse over mellemværender med Lyngby-Taarbæk Bibliotekerne" in header[0]
    assert re.search(r"\d{1,2}\. \w+ \d{4} kl\. \d\d:\d\d", text(header[0]))
    assert "data-print hidden" in html  # shown by static/js/portal.js
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None


def test_every_page_links_the_favicon(stack: Stack) -> None:
    html = render(stack)
    assert '<link rel="icon" href="data:image/svg+xml,' in html  # inline: no request for it
    response = stack.app.test_client().get("/static/favicon.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    response.close()
