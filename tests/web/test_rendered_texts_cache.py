"""The library texts of a page are rendered once: Markdown and nh3 run again only for a changed text.

Also the cached per-cell formatting (portal.i18n): the same answers as Babel, in both languages.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

import portal.libraries.texts as texts_module
from portal.i18n import long_date, money, short_date
from portal.libraries.library import Library
from portal.libraries.repository import get_library
from portal.libraries.texts import clear_render_cache, render_plain, render_text
from portal.services.preview_debts import preview_debts
from portal.web.overview_page import clear_page_texts_cache, page_texts, render_overview
from tests.support.stack import Stack

LIBRARY = Library("lyngby", "Lyngby", "DK-717300", date(2021, 6, 15), texts={"da": {"intro": "Før **{cutoff_date}**"}})


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The HTML each Markdown render handed to the sanitiser, from empty caches."""
    seen: list[str] = []
    sanitize = texts_module.sanitize_html

    def counting(html: str) -> str:
        seen.append(html)
        return sanitize(html)

    monkeypatch.setattr(texts_module, "sanitize_html", counting)
    clear_render_cache()
    clear_page_texts_cache()
    yield seen
    clear_render_cache()
    clear_page_texts_cache()


def test_a_second_render_runs_no_markdown(renders: list[str]) -> None:
    first = page_texts(LIBRARY, "da", card_payment=False)
    assert renders and str(first["intro"]) == "<p>Før <strong>15. juni 2021</strong></p>"
    count = len(renders)
    assert page_texts(LIBRARY, "da", card_payment=False) == first
    assert len(renders) == count


def test_the_text_cache_alone_also_spares_markdown(renders: list[str]) -> None:
    page_texts(LIBRARY, "da", card_payment=False)
    count = len(renders)
    clear_page_texts_cache()  # e.g. pushed out of the page cache: the texts themselves are remembered
    page_texts(LIBRARY, "da", card_payment=False)
    assert len(renders) == count


def test_a_changed_text_renders_anew(renders: list[str]) -> None:
    page_texts(LIBRARY, "da", card_payment=False)
    count = len(renders)
    changed = replace(LIBRARY, texts={"da": {"intro": "Ny *tekst*"}})
    assert str(page_texts(changed, "da", card_payment=False)["intro"]) == "<p>Ny <em>tekst</em></p>"
    assert len(renders) == count + 1  # only the changed text


def test_a_new_cutoff_date_fills_in_anew_without_markdown(renders: list[str]) -> None:
    page_texts(LIBRARY, "da", card_payment=False)
    count = len(renders)
    later = page_texts(replace(LIBRARY, cutoff_date=date(2024, 1, 1)), "da", card_payment=False)
    assert "1. januar 2024" in str(later["intro"])
    assert len(renders) == count  # same text, other value: the placeholder is filled after Markdown


def test_language_and_card_payment_are_separate_entries(renders: list[str]) -> None:
    danish = page_texts(LIBRARY, "da", card_payment=False)
    english = page_texts(LIBRARY, "en", card_payment=False)
    card = page_texts(LIBRARY, "da", card_payment=True)
    assert "15 June 2021" in str(english["payable_here_text"])
    assert "15. juni 2021" in str(danish["payable_here_text"])
    assert danish != english and card != danish


def test_a_caller_changing_its_dict_does_not_change_the_next_page(renders: list[str]) -> None:
    page_texts(LIBRARY, "da", card_payment=False)["intro"] = "changed"
    assert page_texts(LIBRARY, "da", card_payment=False)["intro"] != "changed"


def test_values_are_still_escaped_when_the_html_is_cached(renders: list[str]) -> None:
    assert str(render_text("{cutoff_date}", {"cutoff_date": "<b>"})) == "<p>&lt;b&gt;</p>"
    assert str(render_text("{cutoff_date}", {"cutoff_date": "<i>"})) == "<p>&lt;i&gt;</p>"
    assert render_plain("**Betal** {cutoff_date}", {"cutoff_date": "nu"}) == "Betal nu"
    assert len(renders) == 2


def test_the_overview_page_renders_its_texts_once(stack: Stack, renders: list[str]) -> None:
    def page() -> str:
        with stack.app.test_request_context("/lyngby/"):
            library = get_library("lyngby")
            assert library is not None
            return render_overview(library, preview_debts(library), preview=True)

    first = page()
    count = len(renders)
    assert count > 0 and "15. juni 2021" in first
    assert "15. juni 2021" in page()
    assert len(renders) == count


@pytest.mark.parametrize(
    ("amount", "language", "expected"),
    [
        (Decimal("1234.5"), "da", "1.234,50\xa0kr."),
        (Decimal("1234.5"), "en", "DKK\xa01,234.50"),
        (Decimal("0"), "da", "0,00\xa0kr."),
        # Equal to 0 as a Decimal (same hash) but printed otherwise: the cache must keep them apart.
        (Decimal("-0"), "da", "-0,00\xa0kr."),
        (Decimal("-12.25"), "en", "-DKK\xa012.25"),
    ],
)
def test_cached_money_is_right_in_both_languages(amount: Decimal, language: str, expected: str) -> None:
    for _ in range(2):  # the first call fills the cache, the second reads it
        assert money(amount, language) == expected


def test_cached_dates_are_right_in_both_languages() -> None:
    day = date(2021, 6, 15)
    for _ in range(2):
        assert (short_date(day, "da"), short_date(day, "en")) == ("15.06.2021", "15/06/2021")
        assert (long_date(day, "da"), long_date(day, "en")) == ("15. juni 2021", "15 June 2021")
