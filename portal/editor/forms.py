"""The editor form's fields, their labels, and the storage's refusals as messages next to them.

Field names follow docs/editing-contract.md: `name`, `cutoff_date`, `kodelinje`,
`payment_overview_url`, `payment_terms_url` and `text.<language>.<key>`. The storage checks the values (the same
rules as the libraries file); this module only says, in the editor's language, what was wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from flask_babel import LazyString, gettext
from flask_babel import lazy_gettext as _l

from portal.editor.display import iso_long_date
from portal.libraries import defaults
from portal.libraries.defaults import LANGUAGES, TEXT_KEYS
from portal.libraries.fields import CONTACT_FIELDS, EMBED_ORIGINS
from portal.libraries.texts import KNOWN_PLACEHOLDERS, find_placeholders
from portal.libraries.validation import RuleError, parse_iso_date

PLAIN_FIELDS = (
    ("name", "cutoff_date", "kodelinje", "payment_overview_url", "payment_terms_url")
    + CONTACT_FIELDS
    + (EMBED_ORIGINS,)
)
# The schedule form's own fields (its cut-off date must not share the main form's error slot).
EFFECTIVE_FROM, SCHEDULED_CUTOFF = "effective_from", "scheduled_cutoff_date"


def text_field(language: str, key: str) -> str:
    return f"text.{language}.{key}"


FORM_FIELDS: tuple[str, ...] = PLAIN_FIELDS + tuple(
    text_field(language, key) for key in TEXT_KEYS for language in LANGUAGES
)

LANGUAGE_NAMES: dict[str, LazyString] = {"da": _l("Danish"), "en": _l("English")}

TEXT_LABELS: dict[str, LazyString] = {
    defaults.INTRO: _l("Introduction"),
    defaults.PAYABLE_HERE_TITLE: _l("Title of the section “Pay here”"),
    defaults.PAYABLE_HERE_TEXT: _l("Text of the section “Pay here”"),
    defaults.HANDED_OVER_TITLE: _l("Title of the section “Mit Betalingsoverblik”"),
    defaults.HANDED_OVER_TEXT: _l("Text of the section “Mit Betalingsoverblik”"),
    defaults.PAYMENT_OVERVIEW_BUTTON: _l("Text of the button to Mit Betalingsoverblik"),
    defaults.KODELINJE_INSTRUCTION: _l("Message instruction for the code line"),
    defaults.DELAY_NOTICE: _l("Notice about the 72-hour delay"),
    defaults.EXTRA_INFO: _l("Extra information"),
}
# Shown in a heading or on a button: one line of plain text (portal.web.libraries.PLAIN_KEYS).
SHORT_TEXT_KEYS = frozenset({defaults.PAYABLE_HERE_TITLE, defaults.HANDED_OVER_TITLE, defaults.PAYMENT_OVERVIEW_BUTTON})

PLAIN_LABELS: dict[str, LazyString] = {
    "name": _l("Name of the library"),
    "cutoff_date": _l("Cut-off date"),
    "kodelinje": _l("Code line (kodelinje)"),
    "payment_overview_url": _l("Address of Mit Betalingsoverblik"),
    "payment_terms_url": _l("Address of the terms for card payment"),
    "contact_phone": _l("The library's phone number"),
    "contact_email": _l("The library's e-mail address"),
    "contact_url": _l("Address of the library's contact page"),
    "municipality_contact": _l("The municipality's payment contact"),
    "municipality_contact_url": _l("Address of the municipality's payment contact page"),
    "read_more_url": _l("Address of the page “Read more”"),
    "fee_rates_url": _l("Address of the library's fee rates"),
    EMBED_ORIGINS: _l("Websites that may embed the page"),
    EFFECTIVE_FROM: _l("From"),
    SCHEDULED_CUTOFF: _l("New cut-off date"),
    # Only the libraries file sets these; they appear in the history of a load.
    "agency_id": _l("FBS agency"),
    "fbs_username_env": _l("Variable with the FBS user name"),
    "fbs_password_env": _l("Variable with the FBS password"),
    "nexi_secret_key_env": _l("Variable with the Nexi secret key"),
    "sign_in": _l("Sign-in"),
    "fbs_access": _l("FBS access for Adgangsplatformen"),
}

_MESSAGES: dict[str, LazyString] = {
    "required": _l("Fill in this field."),
    "too_long": _l("The text is too long. Shorten it."),
    "html": _l(
        "Write the text without HTML tags such as <p> or <strong>: citizens would see them as text. "
        "A blank line starts a new paragraph, **two asterisks** make bold, [text](https://…) is a link "
        "and a line starting with - is a list item."
    ),
    "link": _l(
        "Write each link's address in full, starting with https:// (or mailto: for an e-mail address), "
        "for example [our opening hours](https://www.example.dk/opening-hours)."
    ),
    "characters": _l(
        "This field contains characters that cannot be saved (control characters or broken text). "
        "Remove them and try again."
    ),
    "phone": _l("Enter a phone number of 8 to 15 digits, for example 45 97 35 00 or +45 45 97 35 00."),
    "email": _l("Enter an e-mail address, for example bibliotek@example.dk."),
    "date": _l("Enter a date as year-month-day, for example 2024-01-31."),
    "origin": _l(
        "Enter each website as its address without a path, for example https://www.lyngbybib.dk, one per line."
    ),
    "too_many": _l("Enter at most 20 websites."),
    "url": _l("Enter an address that starts with https://, for example https://www.example.dk/."),
    "kodelinje.form": _l("This is not a code line. Write it as on the payment slip, for example +73< +86836084<."),
    "kodelinje.card_type": _l("Unknown card type. The code line must start with +01, +04, +15, +71, +73 or +75."),
    "kodelinje.payment_id": _l(
        "The payment id (the digits after the card type) has the wrong length for this card type."
    ),
    "kodelinje.check_digit": _l(
        "The check digit is wrong: the last digit of the payment id does not fit "
        "the digits before it. Copy the code line again from the payment slip."
    ),
    "kodelinje.creditor": _l("The creditor number must be 8 digits and start with 8."),
    "kodelinje.giro": _l("The giro number must be 7 or 8 digits."),
    "not_future": _l("The change must start on a later day than today."),
    "duplicate": _l("A change of the cut-off date is already scheduled from that day. Cancel it first."),
    "after_start": _l(
        "The new cut-off date must not be after the day the change starts: "
        "the cut-off date in force is never in the future."
    ),
    "not_upcoming": _l("This change is already in force and cannot be cancelled. Publish a new cut-off date instead."),
    "no_draft": _l("There is no draft to publish. Save your changes as a draft first."),
    "future": _l("This date is after today. To change the cut-off date on a later day, use “Schedule a change” above."),
    "identical": _l("This version is what citizens see now: there is nothing to restore."),
}
_UNKNOWN = _l("This value cannot be saved. Check it and try again.")


def field_label(name: str) -> str:
    """A form or history field's label, e.g. 'Introduction (Danish)'."""
    if name in PLAIN_LABELS:
        return str(PLAIN_LABELS[name])
    parts = name.split(".")
    if len(parts) == 3 and parts[0] == "text" and parts[2] in TEXT_LABELS and parts[1] in LANGUAGE_NAMES:
        return f"{TEXT_LABELS[parts[2]]} ({LANGUAGE_NAMES[parts[1]]})"
    if parts[0] == "scheduled_cutoff" and len(parts) == 2:
        # The long date, as everywhere else in the editor area.
        return str(gettext("Scheduled cut-off date from %(day)s", day=iso_long_date(parts[1])))
    return name


def is_date_field(name: str) -> bool:
    """Whether a history field holds an ISO date (shown as a long date)."""
    return name == "cutoff_date" or name.startswith("scheduled_cutoff.")


def submitted(form: Mapping[str, str]) -> dict[str, str]:
    """The form's own fields (not the CSRF token, the version or the buttons)."""
    return {name: form.get(name, "") for name in FORM_FIELDS}


def error_messages(codes: Mapping[str, str], values: Mapping[str, str]) -> dict[str, str]:
    """field -> a message in the editor's language, from the storage's machine codes."""
    return {field: _message(code, values.get(field, "")) for field, code in codes.items()}


def _message(code: str, value: str) -> str:
    if code == "placeholder":
        unknown = sorted(find_placeholders(value) - KNOWN_PLACEHOLDERS)
        return str(
            gettext(
                "Unknown placeholder %(names)s. The only placeholder is {cutoff_date}.",
                names=", ".join(f"{{{name}}}" for name in unknown) or "{…}",
            )
        )
    return str(_MESSAGES.get(code, _UNKNOWN))


@dataclass(frozen=True)
class ScheduleForm:
    """The 'schedule a future cut-off date' form: its values and, when refused, its errors."""

    values: dict[str, str]
    errors: dict[str, str]


def schedule_values(form: Mapping[str, str]) -> dict[str, str]:
    return {name: form.get(name, "").strip() for name in (EFFECTIVE_FROM, SCHEDULED_CUTOFF)}


def parse_schedule(form: Mapping[str, str]) -> tuple[date, date] | ScheduleForm:
    """(effective_from, cutoff_date), or the form back with messages for what could not be read."""
    values = schedule_values(form)
    parsed: dict[str, date] = {}
    codes: dict[str, str] = {}
    for name, text in values.items():
        if not text:
            codes[name] = "required"
            continue
        try:
            parsed[name] = parse_iso_date(text)  # the libraries' one date rule (YYYY-MM-DD only)
        except RuleError as refused:
            codes[name] = refused.code
    if codes:
        return ScheduleForm(values, error_messages(codes, values))
    return parsed[EFFECTIVE_FROM], parsed[SCHEDULED_CUTOFF]


def schedule_errors(codes: Mapping[str, str], form: Mapping[str, str]) -> ScheduleForm:
    """The storage's refusal of a schedule, on the schedule form's fields."""
    renamed = {(SCHEDULED_CUTOFF if field == "cutoff_date" else field): code for field, code in codes.items()}
    values = schedule_values(form)
    return ScheduleForm(values, error_messages(renamed, values))
