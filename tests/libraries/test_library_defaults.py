"""Library.text: explicit wording wins, otherwise the Danish/English default."""

from __future__ import annotations

import pickle
import re
from dataclasses import replace
from datetime import date

import pytest

from portal.libraries import defaults
from portal.libraries.library import Library
from portal.libraries.texts import check_template, find_placeholders, render_text

LYNGBY_CODE_LINE = "+73< +86836084<"


def _library(texts: dict[str, dict[str, str]] | None = None, kodelinje: str | None = LYNGBY_CODE_LINE) -> Library:
    return Library("lyngby", "Lyngby", "DK-717300", date(2021, 6, 15), texts=texts or {}, kodelinje=kodelinje)


@pytest.mark.parametrize("language", defaults.LANGUAGES)
@pytest.mark.parametrize("key", defaults.TEXT_KEYS)
def test_every_key_has_a_valid_default_in_every_language(key: str, language: str) -> None:
    text = _library().text(key, language)
    assert text.strip()
    check_template(text)


@pytest.mark.parametrize("key", defaults.TEXT_KEYS)
def test_english_defaults_are_not_the_danish_ones(key: str) -> None:
    assert _library().text(key, "en") != _library().text(key, "da")


@pytest.mark.parametrize("key", [defaults.INTRO, defaults.PAYABLE_HERE_TEXT, defaults.HANDED_OVER_TEXT])
@pytest.mark.parametrize("language", defaults.LANGUAGES)
def test_dated_defaults_use_the_cutoff_placeholder(key: str, language: str) -> None:
    assert find_placeholders(_library().text(key, language)) == {"cutoff_date"}


@pytest.mark.parametrize("language", defaults.LANGUAGES)
def test_defaults_speak_of_mitid_not_nemid(language: str) -> None:
    everything = " ".join(_library().all_texts(language).values())
    assert "MitID" in everything
    assert "NemID" not in everything.replace(" ", "")


def test_titles_match_the_lyngby_page() -> None:
    library = _library()
    assert library.text(defaults.PAYABLE_HERE_TITLE, "da") == "Betales her"
    assert library.text(defaults.PAYABLE_HERE_TITLE, "en") == "Pay here"
    assert library.text(defaults.HANDED_OVER_TITLE, "da") == "Betales i Mit Betalingsoverblik"
    assert library.text(defaults.PAYMENT_OVERVIEW_BUTTON, "da") == "Gå til Mit Betalingsoverblik"


def test_explicit_text_wins_only_in_its_language() -> None:
    library = _library({"da": {defaults.INTRO: "Vores egen tekst"}})
    assert library.text(defaults.INTRO, "da") == "Vores egen tekst"
    assert library.text(defaults.INTRO, "en") == defaults.DEFAULT_TEXTS["en"][defaults.INTRO]
    assert library.text(defaults.DELAY_NOTICE, "da") == defaults.DEFAULT_TEXTS["da"][defaults.DELAY_NOTICE]


def test_all_texts_has_every_key_with_defaults_applied() -> None:
    texts = _library({"en": {defaults.DELAY_NOTICE: "Soon."}}).all_texts("en")
    assert set(texts) == set(defaults.TEXT_KEYS)
    assert texts[defaults.DELAY_NOTICE] == "Soon."


def test_unknown_key_and_language_are_errors_not_silence() -> None:
    with pytest.raises(KeyError):
        _library().text("outro", "da")
    with pytest.raises(ValueError):
        _library().text(defaults.INTRO, "de")


def test_library_owns_its_texts() -> None:
    texts = {"da": {defaults.INTRO: "før"}, "en": {}}
    library = _library(texts)
    texts["da"][defaults.INTRO] = "efter"
    assert library.text(defaults.INTRO, "da") == "før"
    assert library == _library({"da": {defaults.INTRO: "før"}})  # empty language = missing


def test_library_is_frozen_and_picklable_for_the_cache() -> None:
    library = _library({"da": {defaults.INTRO: "x"}})
    with pytest.raises(AttributeError):
        library.slug = "other"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(library)) == library


# -- the defaults follow the card payment configuration -------------------------------------------

CARD_PROMISES = {"da": "med betalingskort direkte her på siden", "en": "by payment card right here on this page"}


@pytest.mark.parametrize("language", defaults.LANGUAGES)
def test_no_default_promises_card_payment_unless_it_is_offered(language: str) -> None:
    for key in defaults.TEXT_KEYS:
        assert CARD_PROMISES[language] not in defaults.default_text(key, language)
        assert "direkte her" not in defaults.default_text(key, language)
        assert "right here" not in defaults.default_text(key, language)


@pytest.mark.parametrize("language", defaults.LANGUAGES)
@pytest.mark.parametrize("key", [defaults.INTRO, defaults.PAYABLE_HERE_TEXT])
def test_where_card_payment_is_offered_the_ways_to_pay_include_it(key: str, language: str) -> None:
    text = defaults.default_text(key, language, card_payment=True)
    assert CARD_PROMISES[language] in text
    check_template(text)
    assert find_placeholders(text) == {"cutoff_date"}
    # The code line stays one of the ways.
    assert ("kodelinjen" if language == "da" else "code line") in text


@pytest.mark.parametrize(
    "card_payment, code_line", [(True, True), (False, False)], ids=["card payment", "no code line"]
)
@pytest.mark.parametrize("language", defaults.LANGUAGES)
def test_only_the_texts_naming_the_ways_to_pay_change_with_card_payment_or_no_code_line(
    language: str, card_payment: bool, code_line: bool
) -> None:
    changed = {
        key
        for key in defaults.TEXT_KEYS
        if defaults.default_text(key, language, card_payment=card_payment, code_line=code_line)
        != defaults.default_text(key, language)
    }
    assert changed == {defaults.INTRO, defaults.PAYABLE_HERE_TEXT}
    assert (
        defaults.default_text(defaults.INTRO, language, card_payment=False)
        == defaults.DEFAULT_TEXTS[language][defaults.INTRO]
    )


def test_card_payment_defaults_follow_the_seed_wording() -> None:
    # Seed 000 (Lyngby's page): "kan betales … med betalingskort direkte her på siden".
    text = defaults.default_text(defaults.PAYABLE_HERE_TEXT, "da", card_payment=True)
    assert "kan betales med betalingskort direkte her på siden" in text


def test_card_payment_defaults_reject_unknown_keys_and_languages() -> None:
    with pytest.raises(KeyError):
        defaults.default_text("outro", "da", card_payment=True)
    with pytest.raises(ValueError):
        defaults.default_text(defaults.INTRO, "de", card_payment=True)


# -- seed 000's texts, faithfully (issue 9) -------------------------------------------------------

MOBILEPAY = {
    "da": "MobilePay på bibliotekets udlånsautomater",
    "en": "MobilePay at the library's self-service machines",
}
LINKS = {
    "read_more_url": "https://bibliotek.example.dk/laes-mere",
    "fee_rates_url": "https://bibliotek.example.dk/takster",
}


@pytest.mark.parametrize("card_payment", [False, True])
@pytest.mark.parametrize("language", defaults.LANGUAGES)
@pytest.mark.parametrize("key", [defaults.INTRO, defaults.PAYABLE_HERE_TEXT])
def test_mobilepay_at_the_machines_is_a_way_to_pay_here(key: str, language: str, card_payment: bool) -> None:
    # Seed 000: "via MobilePay på bibliotekets udlånsautomater", with or without card payment on the page.
    assert MOBILEPAY[language] in defaults.default_text(key, language, card_payment=card_payment)


@pytest.mark.parametrize("card_payment", [False, True])
@pytest.mark.parametrize("language", defaults.LANGUAGES)
def test_no_default_names_a_website(language: str, card_payment: bool) -> None:
    # The seed said "her på lyngbybib.dk"; a default is every library's, so it names no site at all.
    for key in defaults.TEXT_KEYS:
        text = defaults.default_text(key, language, card_payment=card_payment)
        assert "lyngbybib" not in text and "http" not in text and ".dk" not in text


@pytest.mark.parametrize("card_payment", [False, True])
@pytest.mark.parametrize("language", defaults.LANGUAGES)
def test_links_appear_only_where_the_library_set_their_urls(language: str, card_payment: bool) -> None:
    plain = {key: defaults.default_text(key, language, card_payment=card_payment) for key in defaults.TEXT_KEYS}
    linked = {
        key: defaults.default_text(key, language, card_payment=card_payment, links=LINKS) for key in defaults.TEXT_KEYS
    }
    assert {key for key in defaults.TEXT_KEYS if plain[key] != linked[key]} == {defaults.INTRO, defaults.EXTRA_INFO}
    assert f"(<{LINKS['read_more_url']}>)" in linked[defaults.INTRO]
    assert f"(<{LINKS['fee_rates_url']}>)" in linked[defaults.EXTRA_INFO]
    # The link's own words say where it goes.
    sentence = defaults.LINK_TEXTS[language]["read_more_url"][1]
    assert f"[{sentence}]" in linked[defaults.INTRO]
    assert linked[defaults.INTRO].startswith(plain[defaults.INTRO])
    # A None or empty URL is no link.
    empty = {"read_more_url": "", "fee_rates_url": None}
    assert defaults.default_text(defaults.INTRO, language, links=empty) == defaults.default_text(
        defaults.INTRO, language
    )


def test_library_text_uses_its_own_links() -> None:
    library = replace(_library(), read_more_url=LINKS["read_more_url"])
    assert LINKS["read_more_url"] in library.text(defaults.INTRO, "da")
    assert "takster" not in library.text(defaults.EXTRA_INFO, "da")
    # A library's own wording is never changed.
    own = replace(_library({"da": {defaults.INTRO: "Egen tekst"}}), read_more_url=LINKS["read_more_url"])
    assert own.text(defaults.INTRO, "da") == "Egen tekst"


def test_a_link_cannot_break_out_of_its_markdown_or_fill_a_placeholder() -> None:
    links = {"read_more_url": "https://x.example.dk/a b>c{cutoff_date}"}
    text = defaults.default_text(defaults.INTRO, "da", links=links)
    assert "(<https://x.example.dk/a%20b%3Ec%7Bcutoff_date%7D>)" in text
    assert find_placeholders(text) == {"cutoff_date"}


@pytest.mark.parametrize("language", defaults.LANGUAGES)
def test_the_rendered_link_points_to_the_library(language: str) -> None:
    text = defaults.default_text(defaults.EXTRA_INFO, language, links=LINKS)
    assert f'href="{LINKS["fee_rates_url"]}"' in str(render_text(text, {"cutoff_date": "x"}))


# -- the defaults follow whether the library has a code line ---------------------------------------

# What the defaults say of the bank way to pay what is still in FBS: a payment slip with the code line below.
BANK_WAY = {"da": "kodelinje(n)? (står )?nedenfor", "en": "code line (is shown )?below"}


@pytest.mark.parametrize("card_payment", [False, True])
@pytest.mark.parametrize("language", defaults.LANGUAGES)
def test_without_a_code_line_no_default_points_to_one_below(language: str, card_payment: bool) -> None:
    def everything(code_line: bool) -> str:
        return " ".join(
            defaults.default_text(key, language, card_payment=card_payment, code_line=code_line)
            for key in defaults.TEXT_KEYS
        )

    assert re.search(BANK_WAY[language], everything(code_line=True))
    assert not re.search(BANK_WAY[language], everything(code_line=False))
    # The other ways stay: MobilePay at the machines, card payment where offered, Mit Betalingsoverblik.
    assert MOBILEPAY[language] in everything(code_line=False)
    assert (CARD_PROMISES[language] in everything(code_line=False)) is card_payment
    assert "Mit Betalingsoverblik" in everything(code_line=False)


@pytest.mark.parametrize(
    "card_payment, expected",
    [
        (False, "De kan betales med MobilePay på bibliotekets udlånsautomater."),
        (
            True,
            "De kan betales med betalingskort direkte her på siden eller med MobilePay på bibliotekets "
            "udlånsautomater.",
        ),
    ],
)
def test_the_ways_without_a_code_line_still_read_as_one_sentence(card_payment: bool, expected: str) -> None:
    text = defaults.default_text(defaults.PAYABLE_HERE_TEXT, "da", card_payment=card_payment, code_line=False)
    assert text.endswith(expected)


def test_a_library_without_a_code_line_gets_the_defaults_without_it() -> None:
    with_one, without = _library(), _library(kodelinje=None)
    assert with_one.has_code_line and not without.has_code_line
    assert re.search(BANK_WAY["da"], with_one.text(defaults.INTRO, "da"))
    assert not re.search(BANK_WAY["da"], without.text(defaults.INTRO, "da"))
    # Its own wording is never changed.
    own = _library({"da": {defaults.INTRO: "Betal med kodelinjen nedenfor."}}, kodelinje=None)
    assert own.text(defaults.INTRO, "da") == "Betal med kodelinjen nedenfor."
