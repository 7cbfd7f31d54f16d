"""The library form sent after the editor's sign-in ended: nothing saved, nothing lost (portal.editor.unsent)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask

from portal import clock
from portal.editor.unsent import KEPT_FOR, SESSION_KEY
from tests.editor.helpers import ADA, LONE, NOT_OWN_PAGES, SAME_ORIGIN, EditorBrowser, fingerprint, loaded_form

TYPED = "Tekst skrevet mens login udløb"
KEPT = "Your changes are kept in this browser for 2 hours"
NOT_KEPT = "Sign in again, then make the change once more."
RESTORED = "You sent this form after your sign-in had ended. Nothing was saved"


def _signed_out_elsewhere(browser: EditorBrowser) -> None:
    # As "Log ud" in another tab: the session stays, the editor's sign-in in it does not.
    assert browser.send("/editor/logout").status_code == 302
    assert browser.csrf_token() == ""


def _late_save(
    browser: EditorBrowser, headers: dict[str, str], path: str = "/editor/lyngby/"
) -> tuple[dict[str, str], str]:
    """The form as loaded while signed in, typed into, and sent once the sign-in has ended."""
    form = {**loaded_form(browser), "text.da.extra_info": TYPED, "csrf_token": browser.csrf_token()}
    _signed_out_elsewhere(browser)
    response = browser.portal.post(path, data=form, headers=headers)
    assert response.status_code == 401
    return form, response.get_data(as_text=True)


def _sign_in_again(browser: EditorBrowser, editor: str = LONE) -> None:
    response = browser.editor_login(editor, next_path="/editor/lyngby/")
    assert response.status_code == 302 and response.headers["Location"] == "/editor/lyngby/"


def test_the_typing_is_back_in_the_form_after_signing_in_again(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    lone = browser_for(LONE)
    before = fingerprint(portal)
    form, page = _late_save(lone, SAME_ORIGIN)
    assert KEPT in page and NOT_KEPT not in page
    assert 'href="/editor/login?next=/editor/lyngby/"' in page  # straight back to this form
    assert fingerprint(portal) == before  # nothing saved while signed out
    # Kept server-side, without the sign-in's token.
    assert "csrf_token" not in lone.stored_data()[SESSION_KEY]["fields"]

    _sign_in_again(lone)
    page = lone.get("/editor/lyngby/").get_data(as_text=True)
    assert RESTORED in page and TYPED in page
    assert f'name="version" value="{form["version"]}"' in page  # the version it was loaded at
    assert fingerprint(portal) == before  # filled in, not saved

    # Once: the next visit shows the library as stored.
    assert TYPED not in lone.get("/editor/lyngby/").get_data(as_text=True)
    assert lone.send("/editor/lyngby/", {**form, "csrf_token": lone.csrf_token()}).status_code == 303
    assert fingerprint(portal) != before


@pytest.mark.parametrize("headers", NOT_OWN_PAGES)
def test_a_form_from_anywhere_else_is_not_kept(
    portal: Flask, browser_for: Callable[..., EditorBrowser], headers: dict[str, str]
) -> None:
    # Kept, it would plant another site's text in the editor's next form.
    lone = browser_for(LONE)
    _form, page = _late_save(lone, headers)
    assert NOT_KEPT in page and KEPT not in page
    _sign_in_again(lone)
    assert TYPED not in lone.get("/editor/lyngby/").get_data(as_text=True)
    # The same late save from the editor's own page is kept: the origin made the difference.
    _form, page = _late_save(lone, SAME_ORIGIN)
    assert KEPT in page


def test_only_the_library_form_is_kept(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    lone = browser_for(LONE)
    _form, page = _late_save(lone, SAME_ORIGIN, path="/editor/lyngby/discard")
    assert NOT_KEPT in page and SESSION_KEY not in (lone.stored() or {})
    _sign_in_again(lone)
    _form, page = _late_save(lone, SAME_ORIGIN)
    assert KEPT in page and SESSION_KEY in lone.stored_data()


def test_kept_for_its_own_library_only(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    ada = browser_for(ADA)
    _late_save(ada, SAME_ORIGIN)
    _sign_in_again(ada, ADA)
    assert "Nothing was saved" not in ada.get("/editor/rodovre/").get_data(as_text=True)
    # Another library's form left it where it was.
    assert TYPED in ada.get("/editor/lyngby/").get_data(as_text=True)


@pytest.mark.parametrize(
    "later, shown",
    [(KEPT_FOR - timedelta(minutes=1), True), (KEPT_FOR, True), (KEPT_FOR + timedelta(minutes=1), False)],
)
def test_kept_for_a_bounded_time(
    portal: Flask, browser_for: Callable[..., EditorBrowser], later: timedelta, shown: bool
) -> None:
    lone = browser_for(LONE)
    with clock.frozen(clock.now()) as frozen:
        _late_save(lone, SAME_ORIGIN)
        frozen.advance(later)
        _sign_in_again(lone)
        assert (TYPED in lone.get("/editor/lyngby/").get_data(as_text=True)) is shown


def test_signing_out_drops_what_was_kept(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    # A shared computer: the next editor to sign in never gets this one's unsent typing.
    lone = browser_for(LONE)
    _late_save(lone, SAME_ORIGIN)
    _sign_in_again(lone)
    _signed_out_elsewhere(lone)
    _sign_in_again(lone)
    assert TYPED not in lone.get("/editor/lyngby/").get_data(as_text=True)


def test_an_entry_of_another_shape_is_ignored(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    lone = browser_for(LONE)
    with lone.portal.session_transaction() as session:
        session[SESSION_KEY] = {"slug": "lyngby", "fields": TYPED}
    response = lone.get("/editor/lyngby/")
    assert response.status_code == 200 and TYPED not in response.get_data(as_text=True)
