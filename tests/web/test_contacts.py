"""Who to ask (issue 9) and the code line's bank fields, as the server renders them.

Questions about a fee go to the library; questions about paying in Mit Betalingsoverblik go to
the municipality's payment contact. A library without contacts gets no empty heading.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

import httpx
import pytest
from flask import render_template

from portal.domain.fees import Patron
from portal.libraries.fields import CONTACT_FIELDS, with_fields
from portal.libraries.library import Library
from portal.libraries.repository import get_library
from portal.services.preview_debts import EXAMPLE_PATRON_ID, preview_debts
from portal.web.libraries import borrower_kodelinje
from portal.web.overview_page import render_overview
from tests.support.login import http_login
from tests.support.stack import Stack


def library_of(stack: Stack, slug: str) -> Library:
    with stack.app.app_context():
        library = get_library(slug)
    assert library is not None
    return library


def overview(stack: Stack, library: Library, query: str = "") -> str:
    with stack.app.test_request_context(f"/{library.slug}/{query}"):
        return render_overview(library, preview_debts(library), preview=True)


def page(stack: Stack, template: str, library: Library, context: Mapping[str, object] | None = None) -> str:
    with stack.app.test_request_context(f"/{library.slug}/"):
        return render_template(template, library=library, citizen=None, **(context or {}))


def block(html: str, kind: str) -> str:
    found = re.search(rf'<section class="contact-block" data-contact="{kind}".*?</section>', html, re.S)
    assert found is not None, f"no {kind} contact"
    return found.group()


def test_the_overview_names_the_library_for_fees_and_the_municipality_for_payments(stack: Stack) -> None:
    html = overview(stack, library_of(stack, "lyngby"))
    library = block(html, "library")
    assert "Spørgsmål om et gebyr?" in library
    assert 'href="tel:45973500"' in library and ">45 97 35 00<" in library
    assert 'href="mailto:bibliotek@lyngby.example.dk"' in library
    assert 'href="https://www.lyngbybib.dk/kontakt"' in library
    municipality = block(html, "municipality")
    assert "Spørgsmål om betaling i Mit Betalingsoverblik?" in municipality
    assert "Lyngby-Taarbæk Kommune, Opkrævningen" in municipality
    assert 'href="https://www.ltk.dk/kontakt"' in municipality
    # The municipality's contact sits in the Mit Betalingsoverblik section, not with the library's fees.
    handed_over = html[html.index('aria-labelledby="handed-over"') :]
    assert handed_over.index('data-contact="municipality"') < handed_over.index("</section>")


def test_english_contacts(stack: Stack) -> None:
    html = overview(stack, library_of(stack, "lyngby"), "?lang=en")
    assert "Questions about a fee?" in block(html, "library")
    assert "Questions about paying in Mit Betalingsoverblik?" in block(html, "municipality")


def test_a_library_without_contacts_shows_no_contact_heading(stack: Stack) -> None:
    bare = with_fields(library_of(stack, "lyngby"), {}, CONTACT_FIELDS)  # every contact and link unset
    html = overview(stack, bare)
    assert "contact-block" not in html and "Spørgsmål om" not in html
    assert "contact-block" not in page(stack, "overview/not_borrower.html", bare)


def test_only_the_contact_details_set_are_shown(stack: Stack) -> None:
    rodovre = library_of(stack, "rodovre")
    html = block(overview(stack, rodovre), "library")
    assert "tel:+4536378900" in html and "mailto:" in html
    assert "data-contact-url" not in html  # Rødovre set no contact page
    municipality = block(overview(stack, rodovre), "municipality")
    assert "data-municipality-contact-url" not in municipality


@pytest.mark.parametrize(
    ("template", "context"),
    [
        ("overview/not_borrower.html", {}),
        ("overview/unavailable.html", {}),
        ("payment/refused.html", {"reason": "none_chosen", "order_id": None}),
    ],
)
def test_the_library_contact_is_on_the_pages_that_say_contact_the_library(
    stack: Stack, template: str, context: dict[str, object]
) -> None:
    html = page(stack, template, library_of(stack, "lyngby"), context)
    assert "45 97 35 00" in block(html, "library")
    assert 'data-contact="municipality"' not in html  # not a question about Mit Betalingsoverblik


def test_the_error_page_names_the_library_when_one_is_known(stack: Stack) -> None:
    lyngby = library_of(stack, "lyngby")
    with stack.app.test_request_context("/lyngby/"):
        known = render_template("errors/http_error.html", code=500, title="Fejl", library=lyngby)
        unknown = render_template("errors/http_error.html", code=404, title="Fejl")
    assert "45 97 35 00" in block(known, "library")
    assert "contact-block" not in unknown


def test_the_read_more_and_fee_rates_links_follow_the_library(stack: Stack) -> None:
    lyngby = overview(stack, library_of(stack, "lyngby"))
    assert 'href="https://www.lyngbybib.dk/betaling"' in lyngby
    assert 'href="https://www.lyngbybib.dk/gebyrer"' in lyngby
    rodovre = overview(stack, library_of(stack, "rodovre"))
    assert "Læs mere om overførslen" not in rodovre  # Rødovre has no such article
    assert 'href="https://www.rdb.dk/gebyrer"' in rodovre
    assert "lyngbybib.dk" not in rodovre  # no library's page names another's website


def test_the_code_line_is_shown_as_the_fields_a_net_bank_asks_for(stack: Stack) -> None:
    html = overview(stack, library_of(stack, "lyngby"))
    fields = re.findall(r'data-bank-field="([a-z_]+)"', html)
    assert fields == ["card_type", "creditor_number", "message"]  # +73: no payment id, a message instead
    assert re.search(r'id="kodelinje-card_type">\+73<', html)
    assert re.search(r'id="kodelinje-creditor_number">86836084<', html)
    # The worked example of the message, with the borrower's number.
    assert re.search(r'id="kodelinje-message">Lånernummer \S+<', html)
    # Copy buttons wait for the script (progressive enhancement), which is an external file.
    assert html.count("data-copy-target=") == 3 and html.count(" hidden>Kopiér") == 3
    # The copy script is in the site bundle (portal.web.assets), an external, content-hashed file.
    assert re.search(r'<script src="/static/build/site\.[0-9a-f]{12}\.js"', html)


def test_a_71_line_shows_the_borrowers_own_payment_id_and_needs_no_message(stack: Stack) -> None:
    rodovre = library_of(stack, "rodovre")
    assert rodovre.kodelinje == "+71< +86021447<"  # no payment id: each borrower's own
    html = overview(stack, rodovre, "?lang=en")
    assert re.findall(r'data-bank-field="([a-z_]+)"', html) == ["card_type", "payment_id", "creditor_number"]
    # The example borrower 1001: 00000000001001 and its Luhn check digit 7 (weights 2,1,… from the right).
    assert EXAMPLE_PATRON_ID == 1001
    assert 'id="kodelinje-payment_id">000000000010017<' in html
    assert "Card type" in html and "Creditor number" in html


def test_two_borrowers_of_a_per_borrower_line_pay_with_different_payment_ids(stack: Stack) -> None:
    rodovre = library_of(stack, "rodovre")
    first, second = (borrower_kodelinje(rodovre, Patron(patron_id)) for patron_id in (1001, 1002))
    assert first is not None and second is not None
    assert (first.payment_id, second.payment_id) == ("000000000010017", "000000000010025")
    # A line with an id of its own, or none to give (+73), is everybody's.
    lyngby = library_of(stack, "lyngby")
    assert borrower_kodelinje(lyngby, Patron(1001)) == borrower_kodelinje(lyngby, Patron(1002)) is not None


def test_a_borrower_number_too_long_for_the_payment_id_gets_no_code_line(stack: Stack) -> None:
    # Cut to fit, it would be another borrower's id: better no line at all.
    rodovre = library_of(stack, "rodovre")
    assert borrower_kodelinje(rodovre, Patron(10**14 - 1)) is not None
    assert borrower_kodelinje(rodovre, Patron(10**14)) is None


# How the defaults point to the library's line; "kodelinjen finder du i Mit Betalingsoverblik" is
# about the debtor system's own and stays.
@pytest.mark.parametrize(
    "query, words", [("", r"kodelinjen (står )?nedenfor"), ("?lang=en", r"code line (is shown )?below")]
)
def test_a_borrower_without_a_code_line_reads_default_texts_that_promise_none(
    stack: Stack, query: str, words: str
) -> None:
    rodovre = library_of(stack, "rodovre")
    assert not rodovre.explicit_texts("da") and not rodovre.explicit_texts("en")  # the defaults

    def page_for(patron_id: int) -> str:
        debts = replace(preview_debts(rodovre), patron=Patron(patron_id))
        with stack.app.test_request_context(f"/rodovre/{query}"):
            return render_overview(rodovre, debts, preview=True).lower()

    fits, too_long = page_for(10**14 - 1), page_for(10**14)
    assert "data-kodelinje" in fits and re.search(words, fits)
    assert "data-kodelinje" not in too_long and not re.search(words, too_long)
    assert "mobilepay" in too_long  # the texts still say how to pay at the library


@pytest.mark.parametrize(("sub", "shown"), [("demo-anne", True), ("demo-eva", False), ("demo-clara", False)])
def test_the_texts_point_to_the_code_line_only_where_it_is_shown(
    client: httpx.Client, stack: Stack, sub: str, shown: bool
) -> None:
    # Eva's debts are all in Mit Betalingsoverblik and Clara has none: no section of debts payable
    # here, so no code line below for the intro to point to.
    html = http_login(client, stack.url, sub).text
    assert ("data-kodelinje" in html) is shown
    assert bool(re.search(r"kodelinjen (står )?nedenfor", html)) is shown
    assert "MobilePay" in html  # the ways to pay at the library are still named


def test_the_signed_in_page_has_contacts_and_no_inline_script(client: httpx.Client, stack: Stack) -> None:
    html = http_login(client, stack.url, "demo-anne").text
    assert 'data-contact="library"' in html
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None
    script = client.get(f"{stack.url}/static/js/kodelinje.js")
    assert script.status_code == 200 and "clipboard" in script.text


@pytest.mark.parametrize("query, label", [("", "Kodelinje"), ("?lang=en", "Code line")])
def test_the_code_line_is_labelled_as_the_start_of_a_sentence(stack: Stack, query: str, label: str) -> None:
    html = overview(stack, library_of(stack, "lyngby"), query)
    assert f'<p>{label}: <span class="kodelinje" data-kodelinje>+73&lt; +86836084&lt;</span></p>' in html
