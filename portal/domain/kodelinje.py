"""The bank payment code line ("kodelinje") a library shows for fees payable by bank transfer.

A code line reads ``+<card type>< <payment id>+<account><``, e.g. ``+73< +86836084<``.
Editors type it by hand (library TOML / admin), so everything here exists to reject a line the
bank would refuse *before* a citizen copies it into their net bank.

Rules (see ``shared/reference/kodelinje.md``):

====  ======================================  =========================================
card  payment id                              account
====  ======================================  =========================================
71    15 digits, last one a Luhn check digit   creditor number: 8 digits, first digit 8
73    none (payer writes a message)            creditor number
75    16 digits, last one a Luhn check digit   creditor number
01    none                                     giro number: 7-8 digits
04    1-16 digits                              giro number
15    1-16 digits                              giro number
====  ======================================  =========================================

A +71 or +75 line may leave the payment id out (``+71< +86021447<``): then each borrower pays with
their own, made from their borrower number with its check digit (`Kodelinje.for_patron`), so the
bank matches the payment to the borrower by itself — a payment id written into the library's line
would be the same for every borrower.

Errors carry a machine-readable ``code`` (see ``ERROR_CODES``) so the web layer can translate
them; the English message is for logs and the CLI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

__all__ = [
    "ERROR_CODES",
    "Account",
    "BankField",
    "Kodelinje",
    "KodelinjeError",
    "luhn_check_digit",
    "parse_kodelinje",
    "with_payment_id",
]

# Whitespace between the parts is tolerated (editors paste from PDFs, which adds non-breaking
# spaces and line breaks), so `\s` is deliberately Unicode-aware. Digits are spelled [0-9]:
# `\d` would also accept e.g. Arabic-Indic digits, which no bank accepts.
_FORM = re.compile(
    r"""\s*\+\s*(?P<card>[0-9]+)\s*<
        \s*(?P<payment_id>[0-9]*)
        \s*\+\s*(?P<account>[0-9]+)\s*<\s*""",
    re.VERBOSE,
)
_DIGITS = re.compile(r"[0-9]+")


class Account(str, Enum):
    """The kind of account a card type pays into; they have different number rules."""

    CREDITOR = "creditor"
    GIRO = "giro"


@dataclass(frozen=True)
class _CardRule:
    """What one card type requires; id lengths None mean the card carries no payment id."""

    account: Account
    min_id_length: int | None
    max_id_length: int | None
    check_digit: bool


_CARD_RULES: dict[str, _CardRule] = {
    "71": _CardRule(Account.CREDITOR, 15, 15, check_digit=True),
    "73": _CardRule(Account.CREDITOR, None, None, check_digit=False),
    "75": _CardRule(Account.CREDITOR, 16, 16, check_digit=True),
    "01": _CardRule(Account.GIRO, None, None, check_digit=False),
    # The reference says "up to 16 digits"; an empty id is not accepted, because a 04/15 card
    # without one is what card type 01 is for.
    "04": _CardRule(Account.GIRO, 1, 16, check_digit=False),
    "15": _CardRule(Account.GIRO, 1, 16, check_digit=False),
}

# Every value KodelinjeError.code can take (the web layer keeps one translation per code).
ERROR_CODES = frozenset({"form", "card_type", "payment_id", "check_digit", "creditor", "giro"})


class KodelinjeError(ValueError):
    """A code line the bank would reject. `code` is one of ERROR_CODES."""

    def __init__(self, code: str, message: str) -> None:
        assert code in ERROR_CODES, code  # a typo here would silently lose its translation
        super().__init__(message)
        self.code = code
        self.message = message


def luhn_check_digit(data: str) -> int:
    """Modulus-10 (Luhn) check digit for the data digits of a +71/+75 payment id.

    Weights 2,1,2,1,... from the rightmost data digit; the digits of each product are added;
    check digit = (10 - sum mod 10) mod 10. Examples: "1" -> 8, "2" -> 6.
    """
    if not _DIGITS.fullmatch(data):
        raise ValueError(f"Luhn data must be one or more digits 0-9, got {data!r}")
    total = 0
    for position, char in enumerate(reversed(data)):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


@dataclass(frozen=True)
class BankField:
    """One field a net bank's "indbetalingskort" form asks for, and what to type in it.

    `name` is one of "card_type", "payment_id", "creditor_number", "giro_number" (the web layer
    words it in the reader's language); `value` is exactly what the citizen types or copies.
    """

    name: str
    value: str


@dataclass(frozen=True)
class Kodelinje:
    """A validated code line. Constructing one validates it, so an invalid one cannot exist."""

    card_type: str
    payment_id: str | None
    account: str

    def __post_init__(self) -> None:
        _validate(self.card_type, self.payment_id, self.account)

    @property
    def text(self) -> str:
        """The canonical form, e.g. ``+73< +86836084<``, as the citizen should type it."""
        return f"+{self.card_type}< {self.payment_id or ''}+{self.account}<"

    @property
    def has_check_digit(self) -> bool:
        """A card (+71, +75) whose payment id ends in a check digit: one the portal can make per borrower."""
        return _CARD_RULES[self.card_type].check_digit

    @property
    def per_borrower(self) -> bool:
        """A +71/+75 line without a payment id: each borrower gets their own (`for_patron`)."""
        return self.payment_id is None and self.has_check_digit

    @property
    def needs_message(self) -> bool:
        """True when the bank cannot match a payment by itself: the payer must write a message."""
        return self.payment_id is None and not self.per_borrower

    def for_patron(self, patron_id: int) -> Kodelinje:
        """The line borrower `patron_id` pays with: theirs where the payment id is per borrower, else this one.

        KodelinjeError (`payment_id`) when the borrower number is longer than the card's payment id.
        """
        return with_payment_id(self, str(patron_id)) if self.per_borrower else self

    @property
    def account_kind(self) -> Account:
        return _CARD_RULES[self.card_type].account

    @property
    def type_code(self) -> str:
        """The card type as net banks list it, e.g. ``+73``."""
        return f"+{self.card_type}"

    def bank_fields(self) -> tuple[BankField, ...]:
        """The line split into the fields a net bank asks for, in the order banks ask for them.

        Banks do not take the line as one string: they ask for the card type, the payment id
        (only where the card has one) and the creditor (or giro) number separately.
        """
        account = "creditor_number" if self.account_kind is Account.CREDITOR else "giro_number"
        fields = [BankField("card_type", self.type_code)]
        if self.payment_id is not None:
            fields.append(BankField("payment_id", self.payment_id))
        fields.append(BankField(account, self.account))
        return tuple(fields)

    def __str__(self) -> str:
        return self.text


def parse_kodelinje(text: str) -> Kodelinje:
    """Parse and validate a hand-typed code line; KodelinjeError if the bank would refuse it."""
    match = _FORM.fullmatch(text)
    if match is None:
        raise KodelinjeError(
            "form",
            f"{text.strip()!r} is not a code line; expected the form '+71< <payment id>+<account><',"
            " e.g. '+73< +86836084<'",
        )
    return Kodelinje(
        card_type=match["card"],
        payment_id=match["payment_id"] or None,
        account=match["account"],
    )


def with_payment_id(kodelinje: Kodelinje, data_digits: str) -> Kodelinje:
    """The same +71/+75 line with a payment id built from `data_digits` plus its check digit.

    Meant for a per-borrower payment id (e.g. from the patron id) so the bank matches payments
    by itself. Short data is left-padded with zeros to the card's length, as banks print it
    (the public example `000000067097535` is the data `6709753` padded, plus check digit 5).
    """
    rule = _CARD_RULES[kodelinje.card_type]
    if not rule.check_digit or rule.max_id_length is None:
        raise KodelinjeError(
            "card_type",
            f"card type +{kodelinje.card_type} has no payment id with a check digit; use +71 or +75",
        )
    data_length = rule.max_id_length - 1
    if not _DIGITS.fullmatch(data_digits) or len(data_digits) > data_length:
        raise KodelinjeError(
            "payment_id",
            f"payment id data for +{kodelinje.card_type} must be 1 to {data_length} digits, got {data_digits!r}",
        )
    data = data_digits.zfill(data_length)
    return Kodelinje(kodelinje.card_type, f"{data}{luhn_check_digit(data)}", kodelinje.account)


def _validate(card_type: str, payment_id: str | None, account: str) -> None:
    rule = _CARD_RULES.get(card_type)
    if rule is None:
        supported = ", ".join(f"+{card}" for card in _CARD_RULES)
        raise KodelinjeError("card_type", f"card type +{card_type} is not supported; supported: {supported}")
    _validate_payment_id(card_type, rule, payment_id)
    _validate_account(card_type, rule, account)


def _validate_payment_id(card_type: str, rule: _CardRule, payment_id: str | None) -> None:
    if rule.min_id_length is None or rule.max_id_length is None:
        if payment_id is not None:
            raise KodelinjeError("payment_id", f"card type +{card_type} has no payment id, got {payment_id!r}")
        return
    if payment_id is None:
        if rule.check_digit:
            return  # each borrower's own, made from their borrower number (Kodelinje.for_patron)
        raise KodelinjeError("payment_id", f"card type +{card_type} needs a payment id")
    if not _DIGITS.fullmatch(payment_id) or not (rule.min_id_length <= len(payment_id) <= rule.max_id_length):
        length = (
            f"{rule.max_id_length}"
            if rule.min_id_length == rule.max_id_length
            else f"{rule.min_id_length} to {rule.max_id_length}"
        )
        raise KodelinjeError(
            "payment_id",
            f"the payment id of card type +{card_type} must be {length} digits, got {payment_id!r}",
        )
    if rule.check_digit:
        expected = luhn_check_digit(payment_id[:-1])
        if int(payment_id[-1]) != expected:
            raise KodelinjeError(
                "check_digit",
                f"the check digit of payment id {payment_id} is wrong: it should end in {expected}",
            )


def _validate_account(card_type: str, rule: _CardRule, account: str) -> None:
    if rule.account is Account.CREDITOR:
        if not (_DIGITS.fullmatch(account) and len(account) == 8 and account[0] == "8"):
            raise KodelinjeError(
                "creditor",
                f"the creditor number of card type +{card_type} must be 8 digits starting with 8, got {account!r}",
            )
    elif not (_DIGITS.fullmatch(account) and 7 <= len(account) <= 8):
        raise KodelinjeError(
            "giro",
            f"the giro number of card type +{card_type} must be 7 or 8 digits, got {account!r}",
        )
