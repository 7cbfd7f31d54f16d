"""The page of a borrower signed in without a CPR number: the debtor system was not asked, and the page says so.

Rendered through the one overview renderer with a `CitizenDebts` built here (debtor status
"no_cpr", FBS's figures alone), as `citizen_debts` returns it for such a borrower.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest

from portal import clock
from portal.domain.merge import merge
from portal.libraries.repository import get_library
from portal.providers.fbs_parse import parse_fees
from portal.services.debts import CitizenDebts, ProviderStatus
from portal.services.preview_debts import EXAMPLE_FEES, preview_debts
from portal.web.overview_page import render_overview
from tests.support.stack import Stack, start_stack

NO_CPR = ProviderStatus("no_cpr")  # helper-adapter's status: not asked, no CPR number


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("ap-page"), adgangsplatformen=True)
    yield running
    running.stop()


def fbs_only(library_slug: str, fees: list[object]) -> CitizenDebts:
    library = get_library(library_slug)
    assert library is not None
    debts = preview_debts(library)
    overview = merge(parse_fees(json.dumps(fees)), None, library.cutoff_date, clock.today())
    return replace(debts, overview=overview, debtor=NO_CPR)


def render(stack: Stack, debts_of: list[object], slug: str = "lyngby", lang: str = "en") -> str:
    with stack.app.test_request_context(f"/{slug}/?lang={lang}"):
        library = get_library(slug)
        assert library is not None
        return render_overview(library, fbs_only(slug, debts_of))


def test_no_cpr_page_says_the_municipality_was_not_asked(stack: Stack) -> None:
    html = render(stack, list(EXAMPLE_FEES))
    assert 'data-debtor-status="no_cpr"' in html
    assert "The status from Mit Betalingsoverblik is not shown" in html
    assert "giro card (indbetalingskort) by post" in html
    assert "sign in with MitID" in html  # Lyngby offers MitID too
    assert "could not be fetched" not in html  # not an error: not asked at all
    assert 'data-total="all"' in html  # FBS's figures are shown


def test_no_cpr_page_with_nothing_in_fbs_never_says_you_owe_nothing(stack: Stack) -> None:
    html = render(stack, [])
    assert "No debts in the library system" in html
    assert "You have no debts" not in html and "nothing" not in html.split('data-debtor-status="no_cpr"')[0]
    assert 'data-debtor-status="no_cpr"' in html


def test_no_cpr_page_in_danish(stack: Stack) -> None:
    html = render(stack, [], lang="da")
    assert 'data-debtor-status="no_cpr"' in html
