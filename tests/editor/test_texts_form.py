"""The form's texts: defaults filled in (an unchanged default stores nothing), the live preview, a future
cut-off date pointed to scheduling, no restore of the live version, and one date format in the history."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import timedelta

from flask import Flask

from portal import clock
from portal.libraries.defaults import default_text
from tests.editor.helpers import LONE, RASMUS, EditorBrowser, draft, history_length, loaded_form, page_text, state

PREVIEW = "/editor/lyngby/text-preview"


def test_the_form_shows_the_defaults_filled_in(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    form = loaded_form(browser_for(LONE))
    # The default citizens get, with the library's own "Læs mere" link.
    assert form["text.da.intro"] == default_text("intro", "da", links=state(portal).published.text_links())
    assert form["text.en.payable_here_title"] == "Pay here"
    # Lyngby's own wording (demo file) is shown as it is, not the default.
    assert "lyngbybib.dk" in form["text.da.delay_notice"]


def test_saving_the_defaults_unchanged_stores_no_copy(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    lone = browser_for(LONE)
    form = loaded_form(lone)
    # A browser sends CRLF line breaks: still the default.
    form["text.da.intro"] = form["text.da.intro"].replace("\n", "\r\n")
    assert lone.send("/editor/lyngby/", form).status_code == 303
    saved = draft(portal)
    assert saved.explicit_texts("en") == {"delay_notice": saved.explicit_texts("en")["delay_notice"]}
    assert set(saved.explicit_texts("da")) == {"delay_notice"}


def test_changing_one_word_of_a_default_stores_that_text(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    lone = browser_for(LONE)
    form = loaded_form(lone)
    form["text.da.extra_info"] = form["text.da.extra_info"].replace("automatisk", "altid")
    assert lone.send("/editor/lyngby/", form).status_code == 303
    own = draft(portal).explicit_texts("da")
    assert set(own) == {"delay_notice", "extra_info"}
    links = state(portal).published.text_links()
    assert own["extra_info"] == default_text("extra_info", "da", links=links).replace("automatisk", "altid")


def test_every_text_field_has_a_preview_rendered_by_the_server(browser_for: Callable[..., EditorBrowser]) -> None:
    page = browser_for(LONE).get("/editor/lyngby/").get_data(as_text=True)
    assert 'data-preview-url="/editor/lyngby/text-preview"' in page
    assert page.count("data-preview-body") == 18  # 9 texts in 2 languages
    assert "<li>Mellemværender oprettet før 15. juni 2021" in page  # the default intro's list, rendered
    # The preview script: an external, content-hashed file (portal.web.assets), never inline.
    assert re.search(r'<script src="/static/build/editor-preview\.[0-9a-f]{12}\.js" defer></script>', page)


def test_the_preview_renders_as_the_citizen_page(browser_for: Callable[..., EditorBrowser]) -> None:
    lone = browser_for(LONE)
    text = "Før **{cutoff_date}**\n\n- [ltk](https://www.ltk.dk/)\n- [x](javascript:alert(1))\n\n<script>y</script>"
    response = lone.send(PREVIEW, {"field": "text.en.intro", "text": text})
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json()["html"] == (
        "<p>Before <strong>15 June 2021</strong></p>\n<ul>\n"
        '<li><a href="https://www.ltk.dk/" rel="noopener noreferrer">ltk</a></li>\n'
        "<li>[x](javascript:alert(1))</li>\n</ul>\n<p>&lt;script&gt;y&lt;/script&gt;</p>"
    ).replace("Before", "Før")
    # A heading or button text is plain; an empty text previews the default.
    plain = lone.send(PREVIEW, {"field": "text.da.payable_here_title", "text": "**Betal** <b>her</b>"})
    assert plain.get_json()["html"] == "Betal &lt;b&gt;her&lt;/b&gt;"
    empty = lone.send(PREVIEW, {"field": "text.da.payable_here_title", "text": "  "})
    assert empty.get_json()["html"] == "Betales her"
    assert lone.send(PREVIEW, {"field": "text.xx.intro", "text": "x"}).status_code == 400
    assert lone.send(PREVIEW, {"field": "name", "text": "x"}).status_code == 400


def test_the_preview_is_guarded(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    form = {"field": "text.da.intro", "text": "Hej"}
    before = state(portal)
    # A foreign library: the same 404 as a library that does not exist.
    assert browser_for(RASMUS).send(PREVIEW, form).status_code == 404
    assert browser_for(LONE).send("/editor/nowhere/text-preview", form).status_code == 404
    # The CSRF token is checked like on every POST; the same request with it succeeds.
    lone = browser_for(LONE)
    refused = lone.send(PREVIEW, {**form, "csrf_token": "x" * 43})
    assert refused.status_code == 400 and "Hej" not in refused.get_data(as_text=True)
    assert lone.portal.post(PREVIEW, data=form).status_code == 400
    assert lone.send(PREVIEW, form).get_json() == {"html": "<p>Hej</p>"}
    assert browser_for().send(PREVIEW, form).status_code == 401  # not signed in
    assert state(portal) == before  # a preview changes nothing


def test_a_future_cutoff_date_in_the_form_points_to_scheduling(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    lone = browser_for(LONE)
    later = (clock.today() + timedelta(days=40)).isoformat()
    length = history_length(portal)
    response = lone.send("/editor/lyngby/", {**loaded_form(lone), "cutoff_date": later})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    text = html.unescape(page_text(response))
    assert "This date is after today." in text and "A later cut-off date is scheduled, not saved" in text
    assert '<a href="#schedule-form">' in page and 'id="schedule-form"' in page
    # The date typed is carried over to the schedule form; nothing was saved.
    assert f'name="scheduled_cutoff_date" value="{later}"' in page
    assert state(portal).draft is None and history_length(portal) == length
    # Today's date and earlier ones are saved as before.
    assert (
        lone.send("/editor/lyngby/", {**loaded_form(lone), "cutoff_date": clock.today().isoformat()}).status_code == 303
    )


def test_restore_is_not_offered_for_the_live_version(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    lone = browser_for(LONE)
    assert lone.send("/editor/lyngby/", {**loaded_form(lone), "name": "Lyngby Nyt"}).status_code == 303
    assert lone.send("/editor/lyngby/publish", version=state(portal).version).status_code == 303
    page = lone.get("/editor/lyngby/history").get_data(as_text=True)
    assert 'action="/editor/lyngby/history/1/restore"' in page  # differs from the live version 2
    assert lone.send("/editor/lyngby/history/1/restore", version=state(portal).version).status_code == 303
    page = lone.get("/editor/lyngby/history").get_data(as_text=True)
    # Version 1 is live again (restored as version 3): no restore button for it, nor for version 3.
    assert 'action="/editor/lyngby/history/1/restore"' not in page
    assert 'action="/editor/lyngby/history/2/restore"' in page
    assert page.count("This is what citizens see now.") == 2
    # Posting it anyway is refused and changes nothing.
    length = history_length(portal)
    refused = lone.send("/editor/lyngby/history/1/restore", version=state(portal).version)
    assert refused.status_code == 422
    assert "This version is what citizens see now: there is nothing to restore." in html.unescape(page_text(refused))
    assert history_length(portal) == length


def test_the_history_shows_every_date_in_the_long_format(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    lone = browser_for(LONE)
    day = clock.today() + timedelta(days=30)
    form = {"effective_from": day.isoformat(), "scheduled_cutoff_date": "2024-01-01", "version": state(portal).version}
    assert lone.send("/editor/lyngby/schedule", form).status_code == 303
    text = html.unescape(page_text(lone.get("/editor/lyngby/history")))
    assert f"Scheduled cut-off date from {day.day} {day.strftime('%B')} {day.year}" in text
    assert day.isoformat() not in text and "2024-01-01" not in text


CODE_LINE_WARNING = "The texts mention a code line that is not there"


def _saved_then_shown(lone: EditorBrowser, **changes: str) -> str:
    """The form as loaded with `changes`, saved; then the form page's text (in English)."""
    assert lone.send("/editor/lyngby/", {**loaded_form(lone), **changes}).status_code == 303
    return page_text(lone.get("/editor/lyngby/?lang=en"))


def test_an_emptied_code_line_warns_while_the_librarys_own_texts_still_promise_it(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    lone = browser_for(LONE)
    promise = {"text.da.payable_here_text": "Betal i banken med kodelinjen nedenfor."}
    assert CODE_LINE_WARNING not in _saved_then_shown(lone, **promise)  # Lyngby has one
    # The library's own text says "the code line below": the page would show none.
    assert CODE_LINE_WARNING in _saved_then_shown(lone, kodelinje="")
    # Back to the default wording, which leaves the bank way out without a code line: no warning.
    assert CODE_LINE_WARNING not in _saved_then_shown(lone, **{"text.da.payable_here_text": ""})


def test_the_defaults_left_in_the_form_follow_an_emptied_code_line(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    lone = browser_for(LONE)
    form = loaded_form(lone)
    assert "kodelinjen står nedenfor" in form["text.da.intro"]  # the default, filled in
    # Saved with the code line emptied and the filled-in defaults untouched: they are stored as no text …
    assert lone.send("/editor/lyngby/", {**form, "kodelinje": ""}).status_code == 303
    assert draft(portal).explicit_texts("da").get("intro") is None
    # … so the form, and citizens, now get the defaults without the bank way.
    assert "kodelinjen står nedenfor" not in loaded_form(lone)["text.da.intro"]
    assert CODE_LINE_WARNING not in page_text(lone.get("/editor/lyngby/?lang=en"))


SHARED_ID_WARNING = "Every borrower would pay with the same payment id"


def test_a_payment_id_every_borrower_would_share_is_warned_about(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    lone = browser_for(LONE)
    assert SHARED_ID_WARNING not in page_text(lone.get("/editor/lyngby/?lang=en"))  # +73: a message instead
    page = _saved_then_shown(lone, kodelinje="+71< 000000002000016+86021447<")
    assert SHARED_ID_WARNING in page and "With the payment id 000000002000016 in the code line" in page
    # Left out: each borrower's own, nothing to warn about.
    assert SHARED_ID_WARNING not in _saved_then_shown(lone, kodelinje="+71< +86021447<")


def test_a_form_shown_again_fills_in_the_defaults_of_its_own_code_line(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    lone = browser_for(LONE)
    form = {**loaded_form(lone), "text.da.intro": "", "kodelinje": ""}
    # Refused for another field: the form comes back with the code line still emptied …
    response = lone.send("/editor/lyngby/", {**form, "cutoff_date": "not a date"})
    assert response.status_code == 422
    shown = response.get_data(as_text=True)
    # … and the intro filled in with the default that fits a page without one.
    assert "kodelinjen står nedenfor" not in shown
    assert "Du kan betale dem med MobilePay på bibliotekets udlånsautomater." in shown
    # With the code line kept, the default that names it.
    response = lone.send("/editor/lyngby/", {**form, "kodelinje": "+73< +86836084<", "cutoff_date": "not a date"})
    assert response.status_code == 422 and "kodelinjen står nedenfor" in response.get_data(as_text=True)
