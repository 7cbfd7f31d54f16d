"""The editor's preview names the example fees' materials as the citizen page does, without the FBI API."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from flask import Flask

from tests.editor.helpers import LONE, EditorBrowser, page_text


def fee_row(page: str, fee_id: int) -> str:
    found = re.search(rf'<tr data-fee-id="{fee_id}".*?</tr>', page, re.S)
    assert found is not None, fee_id
    return " ".join(re.sub(r"<[^>]+>", " ", found[0]).split())


@pytest.mark.parametrize("lang", ["da", "en"])
def test_the_preview_shows_titles_and_asks_no_service(
    portal: Flask, browser_for: Callable[..., EditorBrowser], monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    lone = browser_for(LONE)  # signed in first: the sign-in itself talks to the IdP

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the preview must not make HTTP calls")

    monkeypatch.setattr(httpx.Client, "send", refuse)
    response = lone.get(f"/editor/lyngby/preview/{lang}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # This portal has no FBI API configured: the titles are the preview's own examples.
    assert portal.config["PORTAL_SETTINGS"].fbi_base_url is None
    assert "Skovens stemmer : en lydfortælling (Mads Lind, lydbog (cd-mp3), 2017)" in fee_row(page, 502)
    assert "Kagebogen for begyndere (Sofie Bager, Peter Mel, bog, 2021)" in fee_row(page, 502)
    assert "3846661520" not in fee_row(page, 502)  # the title instead of the item number
    assert "Rejsen til Nordkap (Ole Vind, film (dvd), 2003)" in fee_row(page, 504)
    assert "Anne Andersen" in page_text(response)
