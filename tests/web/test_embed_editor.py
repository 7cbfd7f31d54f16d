"""The editor's edit page shows the snippet to paste once the library lists sites that may embed it."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from flask import Flask

from tests.editor.conftest import *  # noqa: F403 (the editor area's fixtures: portal, browser_for, …)
from tests.editor.helpers import LONE, EditorBrowser, form_of, state


def snippet(page: str) -> str | None:
    found = re.search(r'<textarea[^>]*id="embed-snippet"[^>]*>(.*?)</textarea>', page, flags=re.S)
    return html.unescape(found[1]) if found else None


def test_the_snippet_appears_with_published_origins(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    lone = browser_for(LONE)
    assert snippet(lone.get("/editor/lyngby/").get_data(as_text=True)) is None
    assert lone.send("/editor/lyngby/", form_of(portal, embed_origins="https://www.lyngbybib.dk")).status_code == 303
    assert snippet(lone.get("/editor/lyngby/").get_data(as_text=True)) is None  # a draft embeds nothing yet
    assert lone.send("/editor/lyngby/publish", version=state(portal).version).status_code == 303
    page = lone.get("/editor/lyngby/").get_data(as_text=True)
    base = portal.config["PORTAL_SETTINGS"].base_url
    assert snippet(page) == (
        f'<div data-gebyrportal="{base}/lyngby" data-lang="da"></div>\n'
        f'<script src="{base}/static/js/embed.js" defer></script>'
    )
    # Shown as text, never as markup of the editor page itself.
    assert "<div data-gebyrportal" not in page
