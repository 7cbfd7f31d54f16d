"""render_overview: the one function that renders the citizen's page, also as the editor's preview."""

from __future__ import annotations

import re

from flask_babel import force_locale

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
