"""A refused form: the message stands next to the field (DKFDS markup), the typing is kept, nothing is saved."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from urllib.parse import quote

import pytest
from flask import Flask
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from portal import db
from portal.libraries.models import DraftRow, RevisionRow
from tests.editor.helpers import LONE, EditorBrowser, draft, fingerprint, form_of, save_draft, state

# A valid +71 line (Rødovre's demo line) and the same with one thing broken.
GOOD_71 = "+71< 000000002000016+86021447<"


def field_group(page: str, field_id: str) -> str:
    """The form-group <div> around the field with `field_id` (the groups hold no other divs)."""
    at = page.index(f'id="{field_id}"')
    start = page.rindex('<div class="form-group', 0, at)
    return page[start : page.index("</div>", at)]


def assert_error_next_to(response: TestResponse, field_id: str, message: str) -> str:
    page = response.get_data(as_text=True)
    group = field_group(page, field_id)
    assert group.startswith('<div class="form-group form-error">'), group
    error = re.search(rf'<span class="form-error-message" id="{field_id}-error">(.*?)</span>\s*<', group, re.S)
    assert error is not None, group
    assert error[0].startswith(
        f'<span class="form-error-message" id="{field_id}-error"><span class="sr-only">Error: </span>'
    )
    assert message in html.unescape(group)
    control = re.search(rf'<(input|textarea)[^>]*\bid="{field_id}"[^>]*>', group)
    assert control is not None
    assert 'aria-invalid="true"' in control[0]
    described = re.search(r'aria-describedby="([^"]*)"', control[0])
    assert described is not None and f"{field_id}-error" in described[1].split()
    # The error summary at the top links to the field.
    assert f'<a href="#{field_id}">' in page
    return group


@pytest.mark.parametrize(
    "field,value,field_id,message",
    [
        ("text.da.intro", "Fra {skæringsdato} og {cutoff}", "field-text-da-intro", "Unknown placeholder {cutoff}."),
        (
            "text.en.payable_here_title",
            "Pay by {date}",
            "field-text-en-payable-here-title",
            "Unknown placeholder {date}.",
        ),
        ("kodelinje", "73 86836084", "field-kodelinje", "This is not a code line"),
        (
            "kodelinje",
            "+71< 000000002000016+76021447<",
            "field-kodelinje",
            "The creditor number must be 8 digits and start with 8.",
        ),
        ("kodelinje", "+71< 000000002000017+86021447<", "field-kodelinje", "The check digit is wrong"),
        ("kodelinje", "+75< 0000000020000165+86021447<", "field-kodelinje", "The check digit is wrong"),
        ("kodelinje", "+99< +86836084<", "field-kodelinje", "Unknown card type."),
        ("kodelinje", "+71< 12345+86021447<", "field-kodelinje", "has the wrong length"),
        ("cutoff_date", "2021-02-30", "field-cutoff-date", "Enter a date as year-month-day"),
        ("cutoff_date", "15.06.2021", "field-cutoff-date", "Enter a date as year-month-day"),
        ("cutoff_date", "", "field-cutoff-date", "Fill in this field."),
        ("name", "   ", "field-name", "Fill in this field."),
        ("payment_overview_url", "http://www.ltk.dk/", "field-payment-overview-url", "starts with https://"),
        ("payment_terms_url", "http://www.ltk.dk/betingelser", "field-payment-terms-url", "starts with https://"),
        ("payment_terms_url", "www.ltk.dk/betingelser", "field-payment-terms-url", "starts with https://"),
        ("text.en.extra_info", "x" * 20_001, "field-text-en-extra-info", "The text is too long."),
        # HTML pasted from the old editor or a web page: citizens would see the tags.
        ("text.da.intro", "<p>Betal senest {cutoff_date}</p>", "field-text-da-intro", "without HTML tags"),
        ("text.en.extra_info", "Ask <em>us</em>", "field-text-en-extra-info", "is a link"),
        ("text.en.delay_notice", "Up to 72 hours<br/>", "field-text-en-delay-notice", "without HTML tags"),
        # Links the page would drop silently, or that leave https.
        ("text.en.extra_info", "[click](javascript:alert(1))", "field-text-en-extra-info", "starting with https://"),
        ("text.en.extra_info", "[us](http://evil.example/)", "field-text-en-extra-info", "starting with https://"),
        ("text.da.intro", "Se [her](/lyngby/) og {cutoff_date}", "field-text-da-intro", "starting with https://"),
        ("text.da.intro", "Ring [os](tel:45973500)", "field-text-da-intro", "starting with https://"),
    ],
)
def test_refused_field(
    portal: Flask, browser_for: Callable[..., EditorBrowser], field: str, value: str, field_id: str, message: str
) -> None:
    lone = browser_for(LONE)
    before = fingerprint(portal)
    response = lone.send("/editor/lyngby/", form_of(portal, **{field: value}))
    assert response.status_code == 422
    group = assert_error_next_to(response, field_id, message)
    if value.strip() and len(value) < 100:
        assert html.escape(value, quote=True) in group  # what was typed is still there
    assert fingerprint(portal) == before


def test_the_good_code_lines_pass(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    lone = browser_for(LONE)
    for line in (GOOD_71, "+71<+86021447<", "+73< +86836084<", "  +73<+86836084<  "):
        assert lone.send("/editor/lyngby/", form_of(portal, kodelinje=line)).status_code == 303
        if "+71<+" in line:  # no payment id: each borrower's own
            assert draft(portal).kodelinje == "+71< +86021447<"
    assert draft(portal).kodelinje == "+73< +86836084<"  # stored in its canonical spelling


def test_a_good_payment_terms_url_is_saved(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    lone = browser_for(LONE)
    url = "https://www.ltk.dk/betingelser"
    assert lone.send("/editor/lyngby/", form_of(portal, payment_terms_url=f" {url} ")).status_code == 303
    assert draft(portal).payment_terms_url == url
    page = lone.get("/editor/lyngby/").get_data(as_text=True)
    group = field_group(page, "field-payment-terms-url")
    assert "Address of the terms for card payment" in group and f'value="{url}"' in group


def test_all_problems_are_shown_at_once(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    lone = browser_for(LONE)
    response = lone.send(
        "/editor/lyngby/", form_of(portal, kodelinje="nonsense", cutoff_date="soon", **{"text.en.intro": "{cutoff}"})
    )
    assert response.status_code == 422
    for field_id in ("field-kodelinje", "field-cutoff-date", "field-text-en-intro"):
        assert_error_next_to(response, field_id, "")
    assert response.get_data(as_text=True).count('class="form-group form-error"') == 3


def test_messages_are_danish_by_default(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    lone = browser_for(LONE)
    lone.portal.delete_cookie("gebyrportal_lang")
    response = lone.send("/editor/lyngby/", form_of(portal, kodelinje="+71< 000000002000017+86021447<"))
    group = field_group(response.get_data(as_text=True), "field-kodelinje")
    assert '<span class="sr-only">Fejl: </span>' in group
    assert "Kontrolcifferet er forkert" in group
    assert '<html lang="da">' in response.get_data(as_text=True)


def test_markdown_is_saved_as_written_and_rendered_safely(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    lone = browser_for(LONE)
    # `<` and `>` that are no tags are text an editor may well write.
    text = "Betal **senest** {cutoff_date}\r\n\r\n1 < 2 > 0 & [x](https://www.ltk.dk/?a=1&b=2)"
    assert lone.send("/editor/lyngby/", form_of(portal, **{"text.da.intro": text})).status_code == 303
    assert draft(portal).texts["da"]["intro"] == text.replace("\r\n", "\n")
    preview = lone.get("/editor/lyngby/preview/da").get_data(as_text=True)
    assert "<p>Betal <strong>senest</strong> 15. juni 2021</p>" in preview
    assert (
        '<p>1 &lt; 2 &gt; 0 &amp; <a href="https://www.ltk.dk/?a=1&amp;b=2" rel="noopener noreferrer">x</a></p>'
        in preview
    )
    # (A javascript: link is refused when saved; one stored before that rule is never a link: tests/libraries.)


def test_a_text_with_a_tag_is_refused_in_danish_and_kept(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    lone = browser_for(LONE)
    lone.portal.delete_cookie("gebyrportal_lang")
    before = fingerprint(portal)
    response = lone.send("/editor/lyngby/", form_of(portal, **{"text.da.intro": "<strong>Betal</strong>"}))
    assert response.status_code == 422
    group = html.unescape(field_group(response.get_data(as_text=True), "field-text-da-intro"))
    assert "uden HTML-tags" in group and "<strong>Betal</strong>" in group
    assert fingerprint(portal) == before


@pytest.mark.parametrize(
    "form,field_id,message",
    [
        ({"effective_from": "", "scheduled_cutoff_date": "2024-01-01"}, "field-effective-from", "Fill in this field."),
        (
            {"effective_from": "1/3/2099", "scheduled_cutoff_date": "2024-01-01"},
            "field-effective-from",
            "Enter a date as year-month-day",
        ),
        (
            {"effective_from": "2099-03-01", "scheduled_cutoff_date": "2024-13-01"},
            "field-scheduled-cutoff-date",
            "Enter a date as year-month-day",
        ),
        (
            {"effective_from": "2001-03-01", "scheduled_cutoff_date": "2000-01-01"},
            "field-effective-from",
            "The change must start on a later day than today.",
        ),
        (
            {"effective_from": "2099-03-01", "scheduled_cutoff_date": "2099-03-02"},
            "field-scheduled-cutoff-date",
            "The new cut-off date must not be after the day the change starts",
        ),
    ],
)
def test_refused_schedule(
    portal: Flask, browser_for: Callable[..., EditorBrowser], form: dict[str, str], field_id: str, message: str
) -> None:
    lone = browser_for(LONE)
    before = fingerprint(portal)
    response = lone.send("/editor/lyngby/schedule", form, version=state(portal).version)
    assert response.status_code == 422
    assert_error_next_to(response, field_id, message)
    assert fingerprint(portal) == before


def test_the_form_explains_formatting_placeholder_and_defaults(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    raw = browser_for(LONE).get("/editor/lyngby/").get_data(as_text=True)
    page = html.unescape(raw)
    assert "Write {cutoff_date} where the cut-off date should be." in page
    assert "**bold text** makes bold" in page and "[the link's words](https://…)" in page
    assert "HTML is shown as text." in page
    assert "e.g. +73&lt; +86836084&lt;." in raw
    # The defaults are filled in, short and long ones; a text of the library's own has its default to unfold.
    assert 'name="text.da.payable_here_title" value="Betales her"' in page
    assert "See the default text (Danish)" in page and "Gebyrer og erstatninger er flyttet" in page
    # Every text field in both languages, marked with its language.
    assert page.count('lang="da"') >= 9 and page.count(' lang="en"') >= 9


# -- characters that cannot be saved, in a body built byte by byte -----------------------------------

CHARACTERS_MESSAGE = "This field contains characters that cannot be saved (control characters or broken text)."


def urlencoded(form: Mapping[str, str], field: str, raw: bytes) -> bytes:
    """The form as a browser encodes it, with `raw` appended as is to the encoded value of `field`."""
    return b"&".join(
        quote(name).encode() + b"=" + quote(value).encode() + (raw if name == field else b"")
        for name, value in form.items()
    )


def multipart(form: Mapping[str, str], field: str, raw: bytes) -> bytes:
    """The form as multipart/form-data (boundary "b0undary"), with `raw` bytes appended to `field`."""
    parts = [
        b'--b0undary\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s%s\r\n'
        % (name.encode(), value.encode(), raw if name == field else b"")
        for name, value in form.items()
    ]
    return b"".join(parts) + b"--b0undary--\r\n"


def post_bytes(browser: EditorBrowser, body: bytes, content_type: str) -> TestResponse:
    return browser.portal.post("/editor/lyngby/", data=body, content_type=content_type)


@pytest.mark.parametrize(
    "field,field_id,raw",
    [
        ("name", "field-name", b"\x00"),  # a NUL byte as it is
        ("name", "field-name", b"%00"),  # a NUL byte percent-encoded
        ("kodelinje", "field-kodelinje", b"%1B"),
        ("payment_overview_url", "field-payment-overview-url", b"%7F"),
        ("cutoff_date", "field-cutoff-date", b"%C2%9B"),  # U+009B, a C1 control
        ("text.da.intro", "field-text-da-intro", b"\x00"),
        ("text.en.extra_info", "field-text-en-extra-info", b"%EF%BF%BD"),  # U+FFFD: text broken upstream
    ],
)
def test_control_characters_are_refused_next_to_the_field(
    portal: Flask, browser_for: Callable[..., EditorBrowser], field: str, field_id: str, raw: bytes
) -> None:
    lone = browser_for(LONE)
    form = {**form_of(portal, **{"text.en.extra_info": "Extra"}), "csrf_token": lone.csrf_token()}
    before = fingerprint(portal)
    response = post_bytes(lone, urlencoded(form, field, raw), "application/x-www-form-urlencoded")
    assert response.status_code == 422
    assert_error_next_to(response, field_id, CHARACTERS_MESSAGE)
    assert response.get_data(as_text=True).count('class="form-group form-error"') == 1
    assert fingerprint(portal) == before
    # The same body without the character saves.
    assert post_bytes(lone, urlencoded(form, field, b""), "application/x-www-form-urlencoded").status_code == 303
    assert state(portal).draft is not None


def test_invalid_utf8_in_a_field_is_refused_next_to_it(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    """In multipart/form-data Werkzeug decodes each field with U+FFFD for bytes that are not UTF-8."""
    lone = browser_for(LONE)
    form = {**form_of(portal), "csrf_token": lone.csrf_token()}
    before = fingerprint(portal)
    content_type = "multipart/form-data; boundary=b0undary"
    response = post_bytes(lone, multipart(form, "name", b" \xff\xfe Bibliotek"), content_type)
    assert response.status_code == 422
    assert_error_next_to(response, "field-name", CHARACTERS_MESSAGE)
    assert fingerprint(portal) == before
    # The same body with valid UTF-8 saves.
    assert post_bytes(lone, multipart(form, "name", b" Bibliotek"), content_type).status_code == 303
    assert draft(portal).name == "Lyngby-Taarbæk Bibliotekerne Bibliotek"


def test_invalid_utf8_in_a_urlencoded_body_saves_nothing(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    """Werkzeug drops a url-encoded body that is not UTF-8 as a whole: no CSRF token, so refused."""
    lone = browser_for(LONE)
    form = {**form_of(portal), "csrf_token": lone.csrf_token()}
    before = fingerprint(portal)
    response = post_bytes(lone, urlencoded(form, "name", b"\xff"), "application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert fingerprint(portal) == before
    assert post_bytes(lone, urlencoded(form, "name", b""), "application/x-www-form-urlencoded").status_code == 303


def test_the_characters_message_is_danish_by_default(portal: Flask, browser_for: Callable[..., EditorBrowser]) -> None:
    lone = browser_for(LONE)
    lone.portal.delete_cookie("gebyrportal_lang")
    form = {**form_of(portal), "csrf_token": lone.csrf_token()}
    response = post_bytes(lone, urlencoded(form, "name", b"%00"), "application/x-www-form-urlencoded")
    assert response.status_code == 422
    assert "Feltet indeholder tegn, der ikke kan gemmes" in field_group(response.get_data(as_text=True), "field-name")


def _draft_with_name(portal: Flask, name: str) -> str:
    """A draft whose name is `name`, written straight into the table (as saved before the rule)."""
    save_draft(portal, name="placeholder")
    with portal.app_context():
        session = db.session()
        draft = session.scalars(select(DraftRow)).one()
        data = {"fields": {**draft.data["fields"], "name": name}, "base": draft.data["base"]}
        session.execute(update(DraftRow).where(DraftRow.id == draft.id).values(data=data))
        session.commit()
    return state(portal).version


def test_publishing_a_stored_draft_with_such_characters_is_refused(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    lone = browser_for(LONE)
    version = _draft_with_name(portal, "Lyngby\x00Bibliotek")
    before = fingerprint(portal)
    response = lone.send("/editor/lyngby/publish", version=version)
    assert response.status_code == 422
    assert CHARACTERS_MESSAGE in html.unescape(response.get_data(as_text=True))
    assert_error_next_to(response, "field-name", "")  # at the field to correct
    assert fingerprint(portal) == before  # nothing published, the draft is kept
    assert draft(portal).name == "Lyngby\x00Bibliotek"
    # The same draft without the character publishes.
    response = lone.send("/editor/lyngby/publish", version=_draft_with_name(portal, "Lyngby Bibliotek"))
    assert response.status_code == 303
    assert state(portal).published.name == "Lyngby Bibliotek"


def test_restoring_a_version_with_such_characters_is_refused(
    portal: Flask, browser_for: Callable[..., EditorBrowser]
) -> None:
    lone = browser_for(LONE)

    def stored_name(name: str) -> None:
        # Version 1 as stored before the rule existed (written straight into the table).
        with portal.app_context():
            session = db.session()
            first = session.scalars(select(RevisionRow).where(RevisionRow.number == 1)).first()
            assert first is not None
            session.execute(
                update(RevisionRow).where(RevisionRow.id == first.id).values(snapshot={**first.snapshot, "name": name})
            )
            session.commit()

    stored_name("Lyngby\x00Bibliotek")
    before = fingerprint(portal)
    response = lone.send("/editor/lyngby/history/1/restore", version=state(portal).version)
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert CHARACTERS_MESSAGE in page and "Lyngby\x00" not in page
    assert fingerprint(portal) == before  # nothing restored
    # The same version without the character restores.
    stored_name("Lyngby Bibliotek")
    response = lone.send("/editor/lyngby/history/1/restore", version=state(portal).version)
    assert response.status_code == 303
    assert state(portal).published.name == "Lyngby Bibliotek"
