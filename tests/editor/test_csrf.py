"""Every POST of the editor area needs the sign-in's CSRF token; without it nothing happens."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from flask import Flask

from portal import clock, db
from portal.domain.fees import Fee, FeeType
from portal.domain.overview import fee_mismatches
from portal.libraries import disagreements
from tests.editor.helpers import (
    LONE,
    NOT_OWN_PAGES,
    RASMUS,
    SAME_ORIGIN,
    EditorBrowser,
    fingerprint,
    loaded_form,
    make_order,
)
from tests.editor.test_authorization import POSTS, Post


@pytest.mark.parametrize("token", ["missing", "empty", "wrong", "another-sessions"])
@pytest.mark.parametrize("post", POSTS, ids=lambda post: post.endpoint)
def test_post_without_the_right_token_is_refused_and_changes_nothing(
    portal: Flask, browser_for: Callable[..., EditorBrowser], post: Post, token: str
) -> None:
    lone = browser_for(LONE)
    path, form = post.prepare(portal, "lyngby")
    before = post.fingerprint(portal)
    if token == "missing":
        response = lone.portal.post(path, data=form)  # no csrf_token field at all
    else:
        sent = {"empty": "", "wrong": "x" * 43, "another-sessions": browser_for(RASMUS).csrf_token()}[token]
        response = lone.send(path, {**form, "csrf_token": sent})
    assert response.status_code == 400
    assert "The form could not be accepted" in response.get_data(as_text=True)
    assert post.fingerprint(portal) == before
    # The same request with the right token goes through: the refusal was the token's doing.
    assert lone.send(path, form).status_code == 303
    assert post.fingerprint(portal) != before


def test_logout_without_the_token_keeps_the_editor_signed_in(browser_for: Callable[..., EditorBrowser]) -> None:
    lone = browser_for(LONE)
    assert lone.portal.post("/editor/logout").status_code == 400
    assert lone.get("/editor/lyngby/").status_code == 200


def test_every_form_on_the_pages_carries_the_token(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    lone = browser_for(LONE)
    token = lone.csrf_token()
    assert len(token) >= 32
    lone.send("/editor/lyngby/", {"version": fingerprint(portal)[0], "name": "Lyngby", "cutoff_date": "2021-06-15"})
    report = f"/editor/lyngby/betalinger/{make_order(portal)}"  # its resolve form
    for path in ("/editor/", "/editor/lyngby/", "/editor/lyngby/history", "/editor/lyngby/preview/da", report):
        page = lone.get(path).get_data(as_text=True)
        forms = re.findall(r"<form\b[^>]*>.*?</form>", page, flags=re.S)
        posts = [form for form in forms if 'method="post"' in form]
        assert posts, path
        for form in posts:
            assert f'<input type="hidden" name="csrf_token" value="{token}">' in form, form[:300]


def test_the_suggested_cutoff_form_carries_the_token(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    # The tally's one step is only on the page while FBS disagrees with the date: a tally first.
    created = date(2021, 2, 1)
    fees = [Fee(1, FeeType.FEE, "Gebyr", Decimal("30"), created, None, False)]
    with portal.app_context():
        disagreements.record(db.session(), "lyngby", fee_mismatches(fees, date(2021, 6, 15)), clock.now())
    lone = browser_for(LONE)
    page = lone.get("/editor/lyngby/").get_data(as_text=True)
    [form] = re.findall(r'<form method="post" action="/editor/lyngby/suggested-cutoff".*?</form>', page, flags=re.S)
    assert f'<input type="hidden" name="csrf_token" value="{lone.csrf_token()}">' in form


def test_the_token_is_per_sign_in_and_never_in_a_cookie(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    first, second = browser_for(LONE), browser_for(LONE)
    assert first.csrf_token() and first.csrf_token() != second.csrf_token()
    # The only cookie is the session's random id; the token lives server-side with the editor.
    assert first.session_id() is not None and first.csrf_token() not in str(first.session_id())
    assert first.portal.get_cookie("csrf_token") is None


# -- a form from before a new sign-in, sent from the editor's own page ------------------------------

TYPED = "Tekst skrevet før det nye log ind"


def _stale_save(lone: EditorBrowser, headers: dict[str, str]) -> tuple[dict[str, str], str]:
    form = {**loaded_form(lone), "text.da.extra_info": TYPED, "csrf_token": "x" * 43}
    response = lone.portal.post("/editor/lyngby/", data=form, headers=headers)
    assert response.status_code == 400
    return form, response.get_data(as_text=True)


def test_the_main_form_with_an_old_token_from_the_editors_own_page_is_shown_again_as_typed(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    lone = browser_for(LONE)
    before = fingerprint(portal)
    form, page = _stale_save(lone, SAME_ORIGIN)
    assert fingerprint(portal) == before  # nothing saved …
    assert "The form was from before you signed in again. Nothing was saved" in page
    assert TYPED in page  # … and nothing lost: the typing is back in the form,
    assert f'name="csrf_token" value="{lone.csrf_token()}"' in page  # with this sign-in's token
    assert f'name="version" value="{form["version"]}"' in page  # and the version it was loaded at
    assert lone.send("/editor/lyngby/", {**form, "csrf_token": lone.csrf_token()}).status_code == 303
    assert fingerprint(portal) != before


@pytest.mark.parametrize("headers", NOT_OWN_PAGES)
def test_a_form_from_anywhere_else_never_gets_its_values_shown(
    portal: Flask, browser_for: Callable[..., EditorBrowser], headers: dict[str, str]
) -> None:
    # Showing a forged form's values would invite the editor to save them.
    _form, page = _stale_save(browser_for(LONE), headers)
    assert "The form could not be accepted" in page and TYPED not in page


def test_only_the_main_form_is_shown_again(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    lone = browser_for(LONE)
    response = lone.portal.post(
        "/editor/lyngby/discard", data={"version": fingerprint(portal)[0], "csrf_token": "x"}, headers=SAME_ORIGIN
    )
    assert response.status_code == 400 and "The form could not be accepted" in response.get_data(as_text=True)
