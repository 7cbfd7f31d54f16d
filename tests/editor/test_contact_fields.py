"""Editors set who to ask and the default texts' links (issue 9): in the form, checked, published, shown."""

from __future__ import annotations

import html
from collections.abc import Callable

import pytest
from flask import Flask

from portal.libraries.fields import CONTACT_FIELDS
from tests.editor.helpers import LONE, EditorBrowser, draft, fingerprint, form_of, loaded_form, state
from tests.editor.test_validation import assert_error_next_to, field_group

CONTACTS = {
    "contact_phone": "45 97 35 00",
    "contact_email": "bibliotek@lyngby.example.dk",
    "contact_url": "https://www.lyngbybib.dk/kontakt",
    "municipality_contact": "Lyngby-Taarbæk Kommune, Opkrævningen, tlf. 45 97 30 00",
    "municipality_contact_url": "https://www.ltk.dk/kontakt",
    "read_more_url": "https://www.lyngbybib.dk/betaling",
    "fee_rates_url": "https://www.lyngbybib.dk/gebyrer",
}


def test_the_form_has_a_labelled_field_for_every_contact(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    lone = browser_for(LONE)
    page = lone.get("/editor/lyngby/").get_data(as_text=True)
    assert page.count("data-contact-fields") == 1
    for name in CONTACT_FIELDS:
        group = field_group(page, "field-" + name.replace("_", "-"))
        assert f'name="{name}"' in group and '<label class="form-label"' in group
    assert 'type="tel"' in field_group(page, "field-contact-phone")
    assert 'type="email"' in field_group(page, "field-contact-email")
    # What the page fills in is what it sends back.
    assert set(CONTACT_FIELDS) <= set(loaded_form(lone))


def test_contacts_are_saved_published_and_shown_to_citizens(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    lone = browser_for(LONE)
    typed = CONTACTS | {"contact_phone": " 45  97 35 00 "}
    assert lone.send("/editor/lyngby/", form_of(portal, **typed)).status_code == 303
    saved = draft(portal)
    assert {name: getattr(saved, name) for name in CONTACT_FIELDS} == CONTACTS  # phone tidied
    assert lone.send("/editor/lyngby/publish", version=state(portal).version).status_code == 303
    published = state(portal).published
    assert {name: getattr(published, name) for name in CONTACT_FIELDS} == CONTACTS
    preview = lone.get("/editor/lyngby/preview/da").get_data(as_text=True)
    assert 'href="tel:45973500"' in preview and "Lyngby-Taarbæk Kommune, Opkrævningen" in html.unescape(preview)
    assert 'href="https://www.lyngbybib.dk/betaling"' in preview
    # The history names the changed fields by their labels.
    history = html.unescape(lone.get("/editor/lyngby/history").get_data(as_text=True))
    assert "The library's phone number" in history or "Bibliotekets telefonnummer" in history


def test_an_emptied_contact_is_removed(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    lone = browser_for(LONE)
    assert lone.send("/editor/lyngby/", form_of(portal, **CONTACTS)).status_code == 303
    assert lone.send("/editor/lyngby/", form_of(portal, contact_email="", read_more_url="")).status_code == 303
    assert draft(portal).contact_email is None and draft(portal).read_more_url is None
    assert draft(portal).contact_phone == CONTACTS["contact_phone"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("contact_phone", "ring til os", "Enter a phone number of 8 to 15 digits"),
        ("contact_email", "bibliotek.dk", "Enter an e-mail address"),
        ("contact_url", "http://www.lyngbybib.dk/kontakt", "starts with https://"),
        ("municipality_contact_url", "www.ltk.dk", "starts with https://"),
        ("read_more_url", "javascript:alert(1)", "starts with https://"),
        ("fee_rates_url", "ftp://x.dk/", "starts with https://"),
        ("municipality_contact", "x" * 301, "The text is too long."),
    ],
)
def test_a_bad_contact_is_refused_next_to_its_field(
    portal: Flask, browser_for: Callable[..., EditorBrowser], field: str, value: str, message: str
) -> None:
    lone = browser_for(LONE)
    before = fingerprint(portal)
    response = lone.send("/editor/lyngby/", form_of(portal, **{field: value}))
    assert response.status_code == 422
    assert_error_next_to(response, "field-" + field.replace("_", "-"), message)
    assert fingerprint(portal) == before
