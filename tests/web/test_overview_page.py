"""render_overview: the one function that renders the citizen's page, also as the editor's preview."""

from __future__ import annotations

import re
from dataclasses import replace

from flask_babel import force_locale

from portal.domain.fees import Block, BlockReason, Patron
from portal.libraries.repository import get_library
from portal.services.preview_debts import preview_debts
from portal.web.overview_page import overview_context, render_overview
from tests.support.stack import Stack


def render(stack: Stack, query: str = "", *, preview: bool = True) -> str:
    with stack.app.test_request_context(f"/lyngby/{query}"):
        library = get_library("lyngby")
        assert library is not None
        return render_overview(library, preview_debts(library), preview=preview)


def test_preview_shows_the_example_with_a_banner_and_no_citizen(stack: Stack) -> None:
    html = render(stack)
    assert "Forhåndsvisning med eksempeldata" in html
    assert "Log ud" not in html  # nobody is signed in to a preview
    assert 'data-total="all">469,75' in html
    assert "Rykkergebyr" in html and "Betalt for nylig" in html
    assert "afventer registrering" in html and "Endnu ikke synlig" in html
    # The library's own texts, with its cut-off date filled in.
    assert "15. juni 2021" in html and "lyngbybib.dk" in html
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None


def test_preview_in_english(stack: Stack) -> None:
    html = render(stack, "?lang=en")
    assert "Preview with example data" in html and "DKK\xa0469.75" in html


def test_without_preview_there_is_no_banner(stack: Stack) -> None:
    assert "Forhåndsvisning" not in render(stack, preview=False)


def test_context_follows_a_forced_language(stack: Stack) -> None:
    with stack.app.test_request_context("/lyngby/"):
        library = get_library("lyngby")
        assert library is not None
        with force_locale("en"):
            context = overview_context(library, preview_debts(library), preview=True)
    assert context["citizen"] is None and context["debtor_status"] == "ok"
    assert "15 June 2021" in str(context["texts"]["payable_here_text"])


# Card payment on the page does not exist yet: no default text or banner may offer it.
CARD_PROMISES = (
    "her på siden med betalingskort",
    "betales her med betalingskort",
    "her med det samme",
    "here by payment card",
    "here right away",
)


def blocked_page(stack: Stack, language: str, **changes: object) -> str:
    """The page of a borrower blocked for debts, at Lyngby (changed by `changes`), in `language`."""
    with stack.app.test_request_context(f"/lyngby/?lang={language}"):
        library = get_library("lyngby")
        assert library is not None
        library = replace(library, **changes)  # type: ignore[arg-type]
        debts = preview_debts(library)
        blocked = Patron(debts.patron.patron_id, debts.patron.name, (Block(BlockReason.DEBT_LIMIT, "E"),))
        return render_overview(library, replace(debts, patron=blocked), preview=False)


def test_no_default_promises_card_payment_on_the_page(stack: Stack) -> None:
    for language in ("da", "en"):
        html = blocked_page(stack, language)
        assert not [promise for promise in CARD_PROMISES if promise in html], language
    html = blocked_page(stack, "da")
    assert "Du kan betale 314,75\xa0kr. til biblioteket med det samme i (net)banken med kodelinjen nedenfor." in html
    assert "kodelinjen står nedenfor" in html  # the way that does exist is still explained


def test_without_a_kodelinje_the_banner_points_to_the_library(stack: Stack) -> None:
    html = blocked_page(stack, "da", kodelinje=None)
    assert "Kontakt biblioteket for at betale de 314,75\xa0kr., der stadig ligger i bibliotekssystemet." in html
    assert "kodelinjen nedenfor" not in html.split("alert-warning")[1].split("</div>")[0]
    # Nor do the default texts point to a code line below (with one they do, see above).
    assert "kodelinjen står nedenfor" not in html and "kodelinjen nedenfor" not in html
    assert "Du kan betale dem med MobilePay på bibliotekets udlånsautomater." in html
