"""The editor form of a library: its values, and turning a submitted form into checked fields.

Plain Python: the web side passes the submitted form as a mapping and shows the errors next to
the fields; every field is checked before anything is refused, so the editor sees all problems
at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from portal.libraries.fields import (
    CONTACT_FIELDS,
    CUTOFF_DATE,
    EDITABLE_FIELDS,
    EMBED_ORIGINS,
    KODELINJE,
    NAME,
    PAYMENT_OVERVIEW_URL,
    PAYMENT_TERMS_URL,
    TEXT_FIELDS,
    Fields,
    flatten,
)
from portal.libraries.library import Library
from portal.libraries.validation import (
    RuleError,
    canonical_kodelinje,
    check_characters,
    check_contact_text,
    check_email,
    check_embed_origins,
    check_name,
    check_payment_overview_url,
    check_phone,
    clean_text,
    parse_iso_date,
)

__all__ = ["ValidationFailed", "check_card_payment_terms", "check_stored_characters", "form_values", "parse_form"]


class ValidationFailed(Exception):
    """Refused, nothing saved. `errors`: field -> English message; `codes`: field -> machine code."""

    def __init__(self, problems: Mapping[str, RuleError]) -> None:
        self.errors: dict[str, str] = {field: problem.message for field, problem in problems.items()}
        self.codes: dict[str, str] = {field: problem.code for field, problem in problems.items()}
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.errors.items()))

    @classmethod
    def one(cls, field: str, code: str, message: str) -> ValidationFailed:
        """A refusal about a single field."""
        return cls({field: RuleError(code, message)})


# Fields typed in a textarea: line breaks belong to them.
_MULTILINE = frozenset(TEXT_FIELDS) | {EMBED_ORIGINS}


def form_values(library: Library) -> dict[str, str]:
    """`library` as form field values: the library's own texts only, "" where unset."""
    fields = flatten(library)
    return {name: fields[name] or "" for name in EDITABLE_FIELDS}


def _required(check: Callable[[str], object]) -> Callable[[str], str | None]:
    def parse(text: str) -> str | None:
        if not text:
            raise RuleError("required", "is required")
        return str(check(text))

    return parse


def _optional(check: Callable[[str], str]) -> Callable[[str], str | None]:
    return lambda text: check(text) if text else None


def _iso_date(text: str) -> str:
    return parse_iso_date(text).isoformat()


_PARSERS: dict[str, Callable[[str], str | None]] = {
    NAME: _required(check_name),
    CUTOFF_DATE: _required(_iso_date),
    KODELINJE: _optional(canonical_kodelinje),
    PAYMENT_OVERVIEW_URL: _optional(check_payment_overview_url),
    # The same URL rule: https://, no user or password (issue 8, card payment's terms).
    PAYMENT_TERMS_URL: _optional(check_payment_overview_url),
    # Who to ask and the default texts' links (issue 9): the libraries file's rules, in validation.py.
    "contact_phone": _optional(check_phone),
    "contact_email": _optional(check_email),
    "contact_url": _optional(check_payment_overview_url),
    "municipality_contact": _optional(check_contact_text),
    "municipality_contact_url": _optional(check_payment_overview_url),
    "read_more_url": _optional(check_payment_overview_url),
    "fee_rates_url": _optional(check_payment_overview_url),
    # The CMS sites that may embed the page (issue 10), one per line.
    EMBED_ORIGINS: check_embed_origins,
    **dict.fromkeys(TEXT_FIELDS, clean_text),
}


# Every contact field has its rule: a field added without one would be stored unchecked.
assert set(CONTACT_FIELDS) <= set(_PARSERS)


def parse_form(form: Mapping[str, str]) -> Fields:
    """The editable fields of a submitted form, checked and normalised as they are stored.

    Raises ValidationFailed naming every bad field. Missing fields count as empty; other keys
    (csrf_token, version, buttons) are ignored. Texts are sanitised; an empty text means the default.
    """
    fields: Fields = {}
    problems: dict[str, RuleError] = {}
    for name, parse in _PARSERS.items():
        raw = form.get(name) or ""
        multiline = name in _MULTILINE
        try:
            # Texts keep their inner spacing; one-line fields lose pasted surrounding spaces.
            fields[name] = parse(check_characters(raw if multiline else raw.strip(), multiline))
        except RuleError as problem:
            problems[name] = problem
    if problems:
        raise ValidationFailed(problems)
    return fields


def check_stored_characters(fields: Mapping[str, str | None]) -> None:
    """Refuse, naming every field, stored editable values with characters that cannot be stored.

    For values that did not come through `parse_form` just now, e.g. a draft saved before the
    character rule existed: publishing it must be refused with the field named, not fail in the
    database (PostgreSQL cannot store NUL).
    """
    problems: dict[str, RuleError] = {}
    for name in EDITABLE_FIELDS:
        value = fields.get(name)
        if value is None:
            continue
        try:
            check_characters(value, multiline=name in _MULTILINE)
        except RuleError as problem:
            problems[name] = problem
    if problems:
        raise ValidationFailed(problems)


def check_card_payment_terms(library: Library) -> None:
    """Refuse, at `payment_terms_url`, a library that names a Nexi secret key but has no payment terms.

    The libraries file refuses that combination too: card payment needs terms the citizen can read.
    """
    if library.nexi_secret_key_env is not None and not library.payment_terms_url:
        raise ValidationFailed.one(
            PAYMENT_TERMS_URL, "required", "is required: this library takes card payment, which needs its terms"
        )
