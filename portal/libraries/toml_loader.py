"""Read the libraries file (TOML) into `Library` objects, refusing anything doubtful.

Every refusal is a `LibraryFileError` naming the file, the library and the key,
so an operator can fix the file from the one line start-up prints. The whole
file is validated before anything is written (see repository.upsert_libraries).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, NoReturn

from portal.libraries.defaults import LANGUAGES, TEXT_KEYS
from portal.libraries.fields import CONTACT_FIELDS, split_values
from portal.libraries.library import (
    ADGANGSPLATFORMEN,
    FBS_ACCESS_MODES,
    FBS_DBC_ADAPTER,
    FBS_DIRECT,
    MITID,
    SIGN_IN_PROFILES,
    Library,
)
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
    check_text,
    parse_iso_date,
)

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
AGENCY_ID = re.compile(r"^DK-\d{6}$", re.ASCII)
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
# Keys that suggest someone pasted a credential into the file.
SECRET_KEY = re.compile(r"pass(word|wd)?|pwd|secret|token|api[-_]?key|credential|private", re.IGNORECASE)

REQUIRED_KEYS = ("slug", "name", "agency_id", "cutoff_date")
OPTIONAL_KEYS = (
    "kodelinje",
    "payment_overview_url",
    "fbs_username_env",
    "fbs_password_env",
    "nexi_secret_key_env",
    "payment_terms_url",
    *CONTACT_FIELDS,
    "embed_origins",
    "sign_in",
    "fbs_access",
    "texts",
)
# These name a variable; they hold no secret.
ALLOWED_SECRET_LIKE = frozenset({"fbs_password_env", "nexi_secret_key_env"})
MAX_ENV_NAME = 100


class LibraryFileError(ValueError):
    """The libraries file is unusable; the message names file, library and key."""

    def __init__(self, file: str, library: str | None, key: str | None, problem: str) -> None:
        self.file, self.library, self.key, self.problem = file, library, key, problem
        where = [file]
        if library is not None:
            where.append(f"library {library}")
        if key is not None:
            where.append(f"key {key!r}")
        super().__init__(f"{': '.join(where)}: {problem}")


def load_libraries_file(path: str | Path) -> list[Library]:
    """All libraries in the TOML file at `path`; LibraryFileError on the first problem."""
    file = str(path)
    document = _read_toml(file)
    _check_keys(file, None, "", document, ("library",))
    tables = document.get("library")
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        raise LibraryFileError(file, None, "library", "expected one or more [[library]] tables")
    libraries = [_LibraryReader(file, index, table).read() for index, table in enumerate(tables, 1)]
    _check_unique_slugs(file, libraries)
    return libraries


def _read_toml(file: str) -> dict[str, Any]:
    try:
        raw = Path(file).read_bytes()
    except OSError as exc:
        raise LibraryFileError(file, None, None, f"cannot read the file ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise LibraryFileError(file, None, None, "not UTF-8 text") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        library, key = _locate_syntax_error(text, str(exc))
        raise LibraryFileError(file, library, key, f"invalid TOML: {exc}") from None


def _locate_syntax_error(text: str, message: str) -> tuple[str | None, str | None]:
    """Best guess of the library (by position) and key (on the line) of a TOML syntax error."""
    found = re.search(r"at line (\d+)", message)
    if found is None:
        return None, None
    lines = text.splitlines()[: int(found.group(1))]
    headers = sum(1 for line in lines if line.strip().startswith("[[library]]"))
    key = re.match(r"\s*([A-Za-z0-9_-]+)\s*=", lines[-1]) if lines else None
    return (f"#{headers}" if headers else None), (key.group(1) if key else None)


def _check_keys(file: str, library: str | None, prefix: str, table: dict[str, Any], allowed: tuple[str, ...]) -> None:
    """Refuse secret-looking and unknown keys of one table; `prefix` dots nested keys."""
    for key in table:
        if SECRET_KEY.search(key) and key not in ALLOWED_SECRET_LIKE:
            raise LibraryFileError(
                file,
                library,
                prefix + key,
                "looks like a secret; secrets do not belong in this file — put them in an environment"
                " variable and name it with fbs_username_env / fbs_password_env / nexi_secret_key_env",
            )
        if key not in allowed:
            raise LibraryFileError(file, library, prefix + key, f"unknown key; expected one of: {', '.join(allowed)}")


def _check_unique_slugs(file: str, libraries: list[Library]) -> None:
    seen: set[str] = set()
    for index, library in enumerate(libraries, 1):
        if library.slug in seen:
            raise LibraryFileError(
                file, f"#{index} ({library.slug!r})", "slug", f"duplicate slug {library.slug!r}; slugs must be unique"
            )
        seen.add(library.slug)


class _LibraryReader:
    """Validates one [[library]] table; `fail` raises with file, library and key."""

    def __init__(self, file: str, index: int, table: dict[str, Any]) -> None:
        self.file, self.table = file, table
        slug = table.get("slug")
        # Name the library by its slug once that is trustworthy, else by its position.
        self.label = repr(slug) if isinstance(slug, str) and SLUG.match(slug) else f"#{index}"

    def fail(self, key: str, problem: str) -> NoReturn:
        raise LibraryFileError(self.file, self.label, key, problem)

    def read(self) -> Library:
        _check_keys(self.file, self.label, "", self.table, REQUIRED_KEYS + OPTIONAL_KEYS)
        for key in REQUIRED_KEYS:
            if key not in self.table:
                self.fail(key, "missing; required keys are " + ", ".join(REQUIRED_KEYS))
        username_env, password_env = self._env_names()
        nexi_secret_key_env, payment_terms_url = self._card_payment()
        sign_in = self._sign_in()
        fbs_access = self._choice("fbs_access", FBS_ACCESS_MODES) or FBS_DIRECT
        # The adapter reads FBS with the borrower's Adgangsplatformen token: no token without that sign-in.
        if fbs_access == FBS_DBC_ADAPTER and ADGANGSPLATFORMEN not in sign_in:
            self.fail(
                "fbs_access", 'dbc_adapter needs "adgangsplatformen" in sign_in: the adapter reads FBS with its token'
            )
        return Library(
            slug=self._slug(),
            name=self._name(),
            agency_id=self._agency_id(),
            cutoff_date=self._cutoff_date(),
            kodelinje=self._kodelinje(),
            payment_overview_url=self._payment_overview_url(),
            fbs_username_env=username_env,
            fbs_password_env=password_env,
            nexi_secret_key_env=nexi_secret_key_env,
            payment_terms_url=payment_terms_url,
            contact_phone=self._checked("contact_phone", check_phone),
            contact_email=self._checked("contact_email", check_email),
            contact_url=self._url("contact_url"),
            municipality_contact=self._checked("municipality_contact", check_contact_text),
            municipality_contact_url=self._url("municipality_contact_url"),
            read_more_url=self._url("read_more_url"),
            fee_rates_url=self._url("fee_rates_url"),
            embed_origins=self._embed_origins(),
            sign_in=sign_in,
            fbs_access=fbs_access,
            texts=self._texts(),
        )

    def _strings(self, key: str) -> list[str]:
        """An optional array of one-line strings (missing: empty)."""
        values = self.table.get(key, [])
        if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
            self.fail(key, f"expected an array of strings, got {_describe(values)}")
        for value in values:
            try:
                check_characters(value, multiline=False)
            except RuleError as exc:
                self.fail(key, exc.message)
        return values

    def _embed_origins(self) -> tuple[str, ...]:
        try:
            return split_values(check_embed_origins("\n".join(self._strings("embed_origins"))))
        except RuleError as exc:
            self.fail("embed_origins", exc.message)

    def _sign_in(self) -> tuple[str, ...]:
        profiles = self._strings("sign_in")
        if "sign_in" in self.table and not profiles:
            self.fail("sign_in", f"empty; borrowers need a way to sign in: {', '.join(SIGN_IN_PROFILES)}")
        for profile in profiles:
            if profile not in SIGN_IN_PROFILES:
                self.fail("sign_in", f"unknown profile {profile!r}; expected some of: {', '.join(SIGN_IN_PROFILES)}")
        if len(set(profiles)) != len(profiles):
            self.fail("sign_in", "names a profile twice")
        return tuple(profiles) or (MITID,)

    def _choice(self, key: str, allowed: tuple[str, ...]) -> str | None:
        value = self._string(key)
        if value is not None and value not in allowed:
            self.fail(key, f"{value!r} is not one of: {', '.join(allowed)}")
        return value

    def _string(self, key: str) -> str | None:
        value = self.table.get(key)
        if value is not None and not isinstance(value, str):
            self.fail(key, f"expected a string, got {_describe(value)}")
        if value is not None:
            # TOML escapes such as "\u0000" can put control characters in any string.
            try:
                check_characters(value, multiline=False)
            except RuleError as exc:
                self.fail(key, exc.message)
        return value

    def _slug(self) -> str:
        slug = self._string("slug") or ""
        if not SLUG.match(slug):
            self.fail(
                "slug",
                f"{slug!r} is not a slug: use 1–64 lower-case letters a–z, digits and"
                " hyphens, starting and ending with a letter or digit",
            )
        return slug

    def _name(self) -> str:
        try:
            return check_name(self._string("name") or "")
        except RuleError as exc:
            self.fail("name", exc.message)

    def _agency_id(self) -> str:
        agency_id = self._string("agency_id") or ""
        if not AGENCY_ID.match(agency_id):
            self.fail("agency_id", f"{agency_id!r} is not an ISIL agency id like 'DK-717300'")
        return agency_id

    def _cutoff_date(self) -> date:
        value = self.table["cutoff_date"]
        # datetime is a subclass of date, so it must be refused before dates are accepted.
        if isinstance(value, (datetime, time)):
            self.fail("cutoff_date", f"expected a date without a time, got {value.isoformat()!r}")
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return parse_iso_date(value)
            except RuleError:
                pass  # the message below also covers values that are not strings
        self.fail("cutoff_date", f"expected a date like 2021-06-15, got {_describe(value)}")

    def _kodelinje(self) -> str | None:
        text = self._string("kodelinje")
        if text is None:
            return None
        try:
            return canonical_kodelinje(text)
        except RuleError as exc:
            self.fail("kodelinje", exc.message)

    def _payment_overview_url(self) -> str | None:
        return self._url("payment_overview_url")

    def _url(self, key: str) -> str | None:
        return self._checked(key, check_payment_overview_url)

    def _checked(self, key: str, check: Callable[[str], str]) -> str | None:
        """The optional one-line string `key` through the editor's own rule `check`."""
        value = self._string(key)
        if value is None:
            return None
        try:
            return check(value)
        except RuleError as exc:
            self.fail(key, exc.message)

    def _env_name(self, key: str, example: str) -> str | None:
        name = self._string(key)
        if name is not None and (not ENV_NAME.match(name) or len(name) > MAX_ENV_NAME):
            self.fail(
                key,
                f"{name!r} is not an environment variable name (A–Z, 0–9, _),"
                f" e.g. {example!r}; the secret itself goes in that variable",
            )
        return name

    def _card_payment(self) -> tuple[str | None, str | None]:
        secret_key_env = self._env_name("nexi_secret_key_env", "LYNGBY_NEXI_SECRET_KEY")
        terms_url = self._url("payment_terms_url")
        # A citizen paying by card must be able to read the terms first.
        if secret_key_env is not None and terms_url is None:
            self.fail("payment_terms_url", "missing; nexi_secret_key_env is set, so card payment needs its terms")
        return secret_key_env, terms_url

    def _env_names(self) -> tuple[str | None, str | None]:
        names = {key: self._env_name(key, "LYNGBY_FBS_PASSWORD") for key in ("fbs_username_env", "fbs_password_env")}
        # The FBS client needs both or neither (then the deployment-wide credentials apply).
        for key, other in (("fbs_username_env", "fbs_password_env"), ("fbs_password_env", "fbs_username_env")):
            if names[key] is not None and names[other] is None:
                self.fail(other, f"missing; {key} is set, so {other} must be set too")
        return names["fbs_username_env"], names["fbs_password_env"]

    def _texts(self) -> dict[str, dict[str, str]]:
        texts = self.table.get("texts", {})
        if not isinstance(texts, dict):
            self.fail("texts", "expected [library.texts.da] / [library.texts.en] tables")
        _check_keys(self.file, self.label, "texts.", texts, LANGUAGES)
        return {language: self._language_texts(language, values) for language, values in texts.items()}

    def _language_texts(self, language: str, values: Any) -> dict[str, str]:
        prefix = f"texts.{language}."
        if not isinstance(values, dict):
            self.fail(prefix.rstrip("."), f"expected a [library.texts.{language}] table")
        _check_keys(self.file, self.label, prefix, values, TEXT_KEYS)
        for key, value in values.items():
            self._check_text(prefix + key, value)
        return dict(values)

    def _check_text(self, key: str, value: Any) -> None:
        if not isinstance(value, str):
            self.fail(key, f"expected a string, got {_describe(value)}")
        if not value.strip():
            self.fail(key, "empty; leave the key out to use the default text")
        try:
            check_characters(value, multiline=True)
            check_text(value)
        except RuleError as exc:
            self.fail(key, exc.message)


def _describe(value: Any) -> str:
    """A short description of a wrong value for an error message."""
    if isinstance(value, (dict, list)):
        return "a table" if isinstance(value, dict) else "an array"
    return f"{type(value).__name__} {value!r}"
