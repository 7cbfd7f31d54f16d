"""A library as flat fields named like the editor form: for drafts, history and comparisons.

`name`, `cutoff_date` (ISO), `kodelinje`, `payment_overview_url`, `payment_terms_url`, the contacts
and links (`CONTACT_FIELDS`), `embed_origins` (one per line), `text.<language>.<key>`, and the
operator's fields only the libraries file sets (`agency_id`, `fbs_username_env`, `fbs_password_env`,
`nexi_secret_key_env`, `sign_in` (space-separated), `fbs_access`).
A value is a string, or None when unset (a text then uses its default). One flat shape makes "what changed" a plain
dictionary comparison and lets history store a library as JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import cast

from portal.libraries.defaults import LANGUAGES, TEXT_KEYS
from portal.libraries.library import FBS_DIRECT, MITID, Library

__all__ = [
    "CONTACT_FIELDS",
    "EDITABLE_FIELDS",
    "OPERATOR_FIELDS",
    "Change",
    "Fields",
    "diff",
    "flatten",
    "join_values",
    "split_values",
    "sparse",
    "text_field",
    "with_fields",
]

Fields = dict[str, str | None]

NAME, CUTOFF_DATE, KODELINJE, PAYMENT_OVERVIEW_URL = ("name", "cutoff_date", "kodelinje", "payment_overview_url")
PAYMENT_TERMS_URL = "payment_terms_url"
EMBED_ORIGINS, SIGN_IN, FBS_ACCESS = "embed_origins", "sign_in", "fbs_access"
# Who to ask and the links the default texts point to (issue 9); editors set them, one line each.
CONTACT_FIELDS: tuple[str, ...] = (
    "contact_phone",
    "contact_email",
    "contact_url",
    "municipality_contact",
    "municipality_contact_url",
    "read_more_url",
    "fee_rates_url",
)


def text_field(language: str, key: str) -> str:
    """The field name of a text, e.g. `text.da.intro`."""
    return f"text.{language}.{key}"


TEXT_FIELDS: tuple[str, ...] = tuple(text_field(language, key) for language in LANGUAGES for key in TEXT_KEYS)
# What editors may change (and a restore brings back).
EDITABLE_FIELDS: tuple[str, ...] = (
    (NAME, CUTOFF_DATE, KODELINJE, PAYMENT_OVERVIEW_URL, PAYMENT_TERMS_URL)
    + CONTACT_FIELDS
    + (EMBED_ORIGINS,)
    + TEXT_FIELDS
)
# Which FBS agency, FBS credentials, Nexi key and sign-in a library uses are the operator's
# business, set in the file: a sign-in profile needs a client registered at DBC.
OPERATOR_FIELDS: tuple[str, ...] = (
    "agency_id",
    "fbs_username_env",
    "fbs_password_env",
    "nexi_secret_key_env",
    SIGN_IN,
    FBS_ACCESS,
)


def join_values(values: tuple[str, ...], separator: str) -> str | None:
    """A list setting as one stored string (None when empty)."""
    return separator.join(values) or None


def split_values(text: str | None) -> tuple[str, ...]:
    """A stored list setting back as a tuple (any whitespace separates)."""
    return tuple((text or "").split())


@dataclass(frozen=True)
class Change:
    """One field's value before and after a change (None = unset)."""

    field: str
    before: str | None
    after: str | None


def flatten(library: Library) -> Fields:
    """Every editable and operator field of `library`, unset ones as None."""
    fields: Fields = {
        NAME: library.name,
        CUTOFF_DATE: _iso(library.cutoff_date),
        KODELINJE: library.kodelinje,
        PAYMENT_OVERVIEW_URL: library.payment_overview_url,
        PAYMENT_TERMS_URL: library.payment_terms_url,
    }
    for name in CONTACT_FIELDS:
        fields[name] = getattr(library, name)
    fields[EMBED_ORIGINS] = join_values(library.embed_origins, "\n")
    for language in LANGUAGES:
        own = library.explicit_texts(language)
        for key in TEXT_KEYS:
            fields[text_field(language, key)] = own.get(key)
    for name in ("agency_id", "fbs_username_env", "fbs_password_env", "nexi_secret_key_env"):
        fields[name] = getattr(library, name)
    # The defaults stay unset, so history shows a change only when a file sets something else.
    fields[SIGN_IN] = None if library.sign_in == (MITID,) else join_values(library.sign_in, " ")
    fields[FBS_ACCESS] = None if library.fbs_access == FBS_DIRECT else library.fbs_access
    return fields


def sparse(fields: Mapping[str, str | None]) -> dict[str, str]:
    """Only the set fields: how fields are stored as JSON (a missing field is unset)."""
    return {name: value for name, value in fields.items() if value is not None}


def with_fields(library: Library, fields: Mapping[str, str | None], names: tuple[str, ...]) -> Library:
    """`library` with the fields `names` taken from `fields` (missing ones unset)."""
    merged = flatten(library)
    merged.update({name: fields.get(name) for name in names})
    texts = {
        language: {key: value for key in TEXT_KEYS if (value := merged[text_field(language, key)]) is not None}
        for language in LANGUAGES
    }
    cutoff = merged[CUTOFF_DATE]
    return replace(
        library,
        name=merged[NAME] or "",
        cutoff_date=date.fromisoformat(cutoff) if cutoff else library.cutoff_date,
        kodelinje=merged[KODELINJE],
        payment_overview_url=merged[PAYMENT_OVERVIEW_URL],
        payment_terms_url=merged[PAYMENT_TERMS_URL],
        contact_phone=merged["contact_phone"],
        contact_email=merged["contact_email"],
        contact_url=merged["contact_url"],
        municipality_contact=merged["municipality_contact"],
        municipality_contact_url=merged["municipality_contact_url"],
        read_more_url=merged["read_more_url"],
        fee_rates_url=merged["fee_rates_url"],
        embed_origins=split_values(merged[EMBED_ORIGINS]),
        texts=texts,
        # The OPERATOR_FIELDS; agency_id is always set: flatten() copied it from `library`.
        agency_id=cast(str, merged["agency_id"]),
        fbs_username_env=merged["fbs_username_env"],
        fbs_password_env=merged["fbs_password_env"],
        nexi_secret_key_env=merged["nexi_secret_key_env"],
        sign_in=split_values(merged[SIGN_IN]) or (MITID,),
        fbs_access=merged[FBS_ACCESS] or FBS_DIRECT,
    )


def diff(before: Mapping[str, str | None], after: Mapping[str, str | None]) -> tuple[Change, ...]:
    """The fields whose values differ, in a stable order (editable fields first, as in the form)."""
    order = {name: index for index, name in enumerate(EDITABLE_FIELDS + OPERATOR_FIELDS)}
    names = sorted(set(before) | set(after), key=lambda name: (order.get(name, len(order)), name))
    return tuple(
        Change(name, before.get(name), after.get(name)) for name in names if before.get(name) != after.get(name)
    )


def _iso(value: date | None) -> str | None:
    # None only reaches here from a half-built Library (the DB then refuses it); do not crash first.
    return value.isoformat() if value is not None else None
