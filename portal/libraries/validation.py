"""The rules a library's settings must follow, shared by the TOML loader and the editor area.

Each check returns the value as it should be stored, or raises `RuleError` with a machine code
(the editor area translates by code) and an English message (the loader prints it). Keeping one
copy of each rule means a file and an editor can never disagree about what is valid.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit

from portal.domain.kodelinje import KodelinjeError, parse_kodelinje
from portal.libraries.texts import TextTemplateError, check_template

__all__ = [
    "MAX_NAME",
    "MAX_TEXT",
    "MAX_URL",
    "RuleError",
    "canonical_kodelinje",
    "canonical_origin",
    "check_embed_origins",
    "check_characters",
    "check_contact_text",
    "check_email",
    "check_name",
    "check_payment_overview_url",
    "check_phone",
    "check_text",
    "clean_text",
    "parse_iso_date",
]

MAX_NAME = 200
MAX_URL = 500
# The column lengths of migration 0005.
MAX_PHONE = 40
MAX_EMAIL = 200
MAX_CONTACT_TEXT = 300
# A phone number as citizens dial it: digits in groups, an optional leading + for the country code.
# 8 digits is a Danish number; 15 is the most any number has (E.164).
_PHONE = re.compile(r"^\+?[0-9]+(?: [0-9]+)*$", re.ASCII)
_PHONE_DIGITS = (8, 15)
# The shape of an address a mail program accepts as a mailto: link; not a full RFC 5322 parser,
# which would let through forms no library uses and that some mail programs refuse.
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$",
    re.ASCII,
)
# Far above any real text (the longest default is ~1,000 characters); stops accidental pastes.
MAX_TEXT = 20_000
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})
# Characters no library setting may hold: C0 controls, DEL and C1 controls (invisible on the page;
# NUL cannot even be stored in PostgreSQL's text columns), and what text that was not valid UTF-8
# turns into on its way in: U+FFFD replacement characters and lone surrogates (U+D800–U+DFFF).
# Multi-line texts may keep tab, line feed and carriage return; one-line values have none of them.
_REFUSED_IN_TEXTS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\ud800-\udfff]")
_REFUSED_IN_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\ufffd\ud800-\udfff]")
# An HTML tag (`<p>`, `</strong>`, `<a href="…">`, `<br/>`). Texts are Markdown with raw HTML off,
# so a tag would be shown to citizens as the characters it is: refused, with the Markdown to use.
# `a < b` or `<3` are no tags: the name must follow `<` or `</` directly and the tag must close.
_HTML_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)(?:\s[^<>]*)?/?>")

# The address of a Markdown link, `[words](address)`. Only https:// and mailto: addresses reach
# citizens as links: the renderer drops `javascript:` and relative ones silently, and an http://
# link would leave the portal's https pages for an unencrypted one. Refused, with the form to use.
_LINK_ADDRESS = re.compile(r"\]\(\s*<?([^\s)>]*)")


class RuleError(ValueError):
    """A value breaks a rule. `code` is machine-readable, e.g. "date" or "kodelinje.check_digit"."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check_characters(text: str, multiline: bool) -> str:
    """`text` unchanged, or RuleError "characters" naming the first character that cannot be stored.

    `multiline`: a library text, which may hold tabs and line breaks; one-line values (name,
    cut-off date, kodelinje, link) may not. Checked before a field's own rule, on every way in.
    """
    found = (_REFUSED_IN_TEXTS if multiline else _REFUSED_IN_ONE_LINE).search(text)
    if found is None:
        return text
    char = found.group()
    if char == "\ufffd":
        what, why = "a replacement character", ", left where text was not valid UTF-8"
    elif "\ud800" <= char <= "\udfff":
        what, why = "half of a broken character", ", left where text was not valid UTF-8"
    elif char in "\t\n\r":
        what, why = "a tab or line break", ", which a one-line value cannot have"
    else:
        what, why = "a control character", ""
    where = f"(U+{ord(char):04X}) at position {found.start() + 1}"
    raise RuleError("characters", f"contains {what} {where}{why}; remove it")


def check_name(name: str) -> str:
    """The name without surrounding spaces; 1–MAX_NAME characters."""
    name = name.strip()
    if not name:
        raise RuleError("required", f"must be 1–{MAX_NAME} characters")
    if len(name) > MAX_NAME:
        raise RuleError("too_long", f"must be 1–{MAX_NAME} characters")
    return name


def parse_iso_date(text: str) -> date:
    """A `YYYY-MM-DD` date; other spellings are refused rather than guessed at."""
    if ISO_DATE.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass  # e.g. 2021-02-30: falls through to the same refusal
    raise RuleError("date", f"expected a date like 2021-06-15, got {text!r}")


def canonical_kodelinje(text: str) -> str:
    """The code line in its canonical spelling; the code names the broken rule."""
    try:
        return parse_kodelinje(text).text
    except KodelinjeError as exc:
        raise RuleError(f"kodelinje.{exc.code}", str(exc)) from None


def check_payment_overview_url(url: str) -> str:
    """An https:// URL (http:// only on loopback, for development) without user or password."""
    if len(url) > MAX_URL:
        raise RuleError("too_long", f"must be at most {MAX_URL} characters")
    parts = urlsplit(url)
    secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)
    if not secure or not parts.hostname:
        raise RuleError("url", f"{url!r} is not an https:// URL (http:// only for localhost/127.0.0.1)")
    if parts.username is not None or parts.password is not None:
        raise RuleError("url", "must not contain a user name or password")
    return url


MAX_EMBED_ORIGINS = 20
_DEFAULT_PORTS = {"https": 443, "http": 80}


def canonical_origin(text: str) -> str:
    """A web site's origin as browsers send it ("https://www.lyngbybib.dk"), from an origin or a URL of its front page.

    https only (http only on loopback, for development); host lower-cased, the default port
    dropped, no path beyond "/", no query, fragment, user or wildcard: a CSP frame-ancestors
    source and a postMessage origin must be exactly one site.
    """
    value = text.strip()
    if len(value) > MAX_URL:
        raise RuleError("too_long", f"must be at most {MAX_URL} characters")
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError:
        port = -1
    secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)
    plain = parts.path in ("", "/") and not parts.query and not parts.fragment and "?" not in value and "#" not in value
    host = parts.hostname or ""
    if not secure or not host or not plain or port == -1 or "*" in value or parts.username or parts.password:
        raise RuleError("origin", f"{value!r} is not a web site's address like https://www.example.dk (no path, no *)")
    shown_port = "" if port in (None, _DEFAULT_PORTS[parts.scheme]) else f":{port}"
    return f"{parts.scheme}://{host}{shown_port}"


def check_embed_origins(text: str) -> str | None:
    """The sites allowed to embed the page, one per line (spaces or commas also separate); None for none."""
    origins: list[str] = []
    for item in text.replace(",", " ").split():
        origin = canonical_origin(item)
        if origin not in origins:
            origins.append(origin)
    if len(origins) > MAX_EMBED_ORIGINS:
        raise RuleError("too_many", f"at most {MAX_EMBED_ORIGINS} sites")
    return "\n".join(origins) or None


def check_phone(phone: str) -> str:
    """A phone number of digits, single spaces and a leading +, spaces tidied; 8–15 digits."""
    phone = " ".join(phone.split())
    if len(phone) > MAX_PHONE:
        raise RuleError("too_long", f"must be at most {MAX_PHONE} characters")
    digits = sum(char.isdigit() for char in phone)
    if not _PHONE.match(phone) or not _PHONE_DIGITS[0] <= digits <= _PHONE_DIGITS[1]:
        raise RuleError("phone", f"{phone!r} is not a phone number: use 8–15 digits, spaces and a leading +")
    return phone


def check_email(email: str) -> str:
    """An e-mail address like bibliotek@example.dk (no name part, no spaces)."""
    email = email.strip()
    if len(email) > MAX_EMAIL:
        raise RuleError("too_long", f"must be at most {MAX_EMAIL} characters")
    if not _EMAIL.match(email):
        raise RuleError("email", f"{email!r} is not an e-mail address like bibliotek@example.dk")
    return email


def check_contact_text(text: str) -> str:
    """One line naming a contact (e.g. the municipality's payment office), 1–MAX_CONTACT_TEXT characters."""
    text = " ".join(text.split())
    if not text:
        raise RuleError("required", f"must be 1–{MAX_CONTACT_TEXT} characters")
    if len(text) > MAX_CONTACT_TEXT:
        raise RuleError("too_long", f"must be at most {MAX_CONTACT_TEXT} characters")
    return text


def _check_link_address(address: str) -> None:
    """A text's link: mailto:, or an address the URL fields would take (https://; http:// on loopback)."""
    if address.lower().startswith("mailto:"):
        return
    try:
        check_payment_overview_url(address)
    except RuleError:
        raise RuleError("link", f"the link address {address!r} does not start with https:// or mailto:") from None


def check_text(text: str) -> None:
    """A library text may use only known placeholders and must not be absurdly long."""
    if len(text) > MAX_TEXT:
        raise RuleError("too_long", f"must be at most {MAX_TEXT} characters")
    try:
        check_template(text)
    except TextTemplateError as exc:
        raise RuleError("placeholder", str(exc)) from None
    for address in _LINK_ADDRESS.findall(text):
        _check_link_address(address)
    tag = _HTML_TAG.search(text)
    if tag:
        raise RuleError(
            "html",
            f"contains the HTML tag {tag[0]!r}, which citizens would see as text: texts are Markdown. "
            "Write a blank line between paragraphs, **bold**, [link text](https://…) and '- ' before list items",
        )


def clean_text(text: str) -> str | None:
    """An editor's text checked for storing; None when nothing is left (= default).

    Texts are Markdown and stored as written (only CRLF line breaks, as browsers send them,
    become LF, and surrounding blank space goes): sanitising happens when it is rendered, since
    HTML-sanitising Markdown would turn `&` and `>` into entities the editor never typed.
    """
    check_text(text)
    cleaned = text.replace("\r\n", "\n").strip()
    return cleaned or None
