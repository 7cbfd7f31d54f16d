"""Editors list the sites that may show the page inside them (issue 10): typed loosely, stored exactly."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from tests.editor.helpers import LONE, EditorBrowser, draft, fingerprint, form_of, loaded_form, state
from tests.editor.test_validation import assert_error_next_to, field_group


def test_the_form_has_the_field_and_sends_it_back(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    lone = browser_for(LONE)
    page = lone.get("/editor/lyngby/").get_data(as_text=True)
    group = field_group(page, "field-embed-origins")
    assert "<textarea" in group and 'name="embed_origins"' in group
    assert "embed_origins" in loaded_form(lone)


def test_origins_are_stored_canonical_one_per_line_and_published(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    lone = browser_for(LONE)
    typed = "https://WWW.LyngbyBib.dk/\r\nhttps://www.lyngbybib.dk, https://cms.ltk.dk:443  http://localhost:8080"
    assert lone.send("/editor/lyngby/", form_of(portal, embed_origins=typed)).status_code == 303
    expected = ("https://www.lyngbybib.dk", "https://cms.ltk.dk", "http://localhost:8080")
    assert draft(portal).embed_origins == expected  # lower-cased, default port gone, the duplicate once
    assert state(portal).published.embed_origins == ()  # a draft until published
    assert lone.send("/editor/lyngby/publish", version=state(portal).version).status_code == 303
    assert state(portal).published.embed_origins == expected
    assert loaded_form(lone)["embed_origins"] == "\n".join(expected)
    assert lone.send("/editor/lyngby/", form_of(portal, embed_origins="  ")).status_code == 303
    assert draft(portal).embed_origins == ()


@pytest.mark.parametrize(
    "typed",
    [
        "https://www.lyngbybib.dk/gebyrer",  # a page, not a site
        "http://www.lyngbybib.dk",  # http only on loopback
        "https://*.lyngbybib.dk",
        "www.lyngbybib.dk",
        "https://user:pw@www.lyngbybib.dk",
        "https://www.lyngbybib.dk/?x=1",
        "https://www.lyngbybib.dk:99999",
        "javascript:alert(1)",
    ],
)
def test_a_bad_origin_is_refused_next_to_the_field(
    portal: Flask, browser_for: Callable[..., EditorBrowser], typed: str
) -> None:
    lone = browser_for(LONE)
    before = fingerprint(portal)
    response = lone.send("/editor/lyngby/", form_of(portal, embed_origins=f"https://ok.dk\n{typed}"))
    assert response.status_code == 422
    assert_error_next_to(response, "field-embed-origins", "without a path")
    assert fingerprint(portal) == before
    # The same form with only the good site is saved: the bad one was the cause.
    assert lone.send("/editor/lyngby/", form_of(portal, embed_origins="https://ok.dk")).status_code == 303


def test_more_than_twenty_sites_are_refused(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    lone = browser_for(LONE)
    many = "\n".join(f"https://site{n}.dk" for n in range(21))
    response = lone.send("/editor/lyngby/", form_of(portal, embed_origins=many))
    assert response.status_code == 422
    assert_error_next_to(response, "field-embed-origins", "at most 20")
    assert lone.send("/editor/lyngby/", form_of(portal, embed_origins=many.rsplit("\n", 1)[0])).status_code == 303
