"""Code line parsing: the bank rejects a wrong line, so the portal must reject it first."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.domain.kodelinje import (
    ERROR_CODES,
    Account,
    BankField,
    Kodelinje,
    KodelinjeError,
    luhn_check_digit,
    parse_kodelinje,
    with_payment_id,
)

SEED = "+73< +86836084<"
PUBLIC_71 = "+71< 000000067097535+85799665<"


def error_code(text: str) -> str:
    with pytest.raises(KodelinjeError) as caught:
        parse_kodelinje(text)
    return caught.value.code


# --- Luhn ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "check_digit"),
    [("1", 8), ("2", 6), ("00000006709753", 5), ("6709753", 5), ("0", 0), ("5", 9)],
)
def test_luhn_worked_examples(data: str, check_digit: int) -> None:
    assert luhn_check_digit(data) == check_digit


@pytest.mark.parametrize("data", ["", "12a", " 1", "-1", "١٢"])
def test_luhn_rejects_non_digits(data: str) -> None:
    with pytest.raises(ValueError, match="digits"):
        luhn_check_digit(data)


@given(st.text(alphabet="0123456789", min_size=1, max_size=20), st.data())
def test_luhn_detects_every_single_digit_change(data: str, draw: st.DataObject) -> None:
    position = draw.draw(st.integers(0, len(data) - 1))
    replacement = draw.draw(st.sampled_from([d for d in "0123456789" if d != data[position]]))
    changed = data[:position] + replacement + data[position + 1 :]
    assert luhn_check_digit(changed) != luhn_check_digit(data)


# --- valid lines --------------------------------------------------------------------------


def test_seed_line() -> None:
    line = parse_kodelinje(SEED)
    assert (line.card_type, line.payment_id, line.account) == ("73", None, "86836084")
    assert line.text == SEED
    assert str(line) == SEED
    assert line.needs_message is True
    assert line.account_kind is Account.CREDITOR


def test_public_71_line() -> None:
    line = parse_kodelinje(PUBLIC_71)
    assert (line.card_type, line.payment_id, line.account) == ("71", "000000067097535", "85799665")
    assert line.text == PUBLIC_71
    assert line.needs_message is False


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("+73<+86836084<", SEED),
        ("  +73 <   + 86836084 <  ", SEED),
        ("+73<\u00a0+86836084<", SEED),  # non-breaking space, as pasted from a PDF
        ("+73<\n+86836084<\n", SEED),
        ("+71<000000067097535+85799665<", PUBLIC_71),
        ("+71 <  000000067097535  +  85799665<", PUBLIC_71),
    ],
)
def test_whitespace_between_parts_is_tolerated(text: str, canonical: str) -> None:
    assert parse_kodelinje(text).text == canonical


@pytest.mark.parametrize(
    ("text", "kind", "needs_message"),
    [
        ("+75< 0000000000000018+85799665<", Account.CREDITOR, False),
        ("+01< +1234567<", Account.GIRO, True),
        ("+01< +12345678<", Account.GIRO, True),
        ("+04< 1+1234567<", Account.GIRO, False),
        ("+04< 1234567890123456+1234567<", Account.GIRO, False),
        ("+15< 42+12345678<", Account.GIRO, False),
    ],
)
def test_other_supported_card_types(text: str, kind: Account, needs_message: bool) -> None:
    line = parse_kodelinje(text)
    assert line.text == text
    assert line.account_kind is kind
    assert line.needs_message is needs_message


def test_a_line_is_frozen() -> None:
    line = parse_kodelinje(SEED)
    with pytest.raises(dataclasses.FrozenInstanceError):
        line.account = "81111111"  # type: ignore[misc]


def test_constructing_directly_validates_too() -> None:
    with pytest.raises(KodelinjeError) as caught:
        Kodelinje(card_type="71", payment_id="000000067097536", account="85799665")
    assert caught.value.code == "check_digit"


# --- invalid lines, by error code ---------------------------------------------------------


@pytest.mark.parametrize("wrong", "012346789")
def test_wrong_check_digit(wrong: str) -> None:
    text = f"+71< 00000006709753{wrong}+85799665<"
    with pytest.raises(KodelinjeError) as caught:
        parse_kodelinje(text)
    assert caught.value.code == "check_digit"
    assert "should end in 5" in str(caught.value)


def test_wrong_check_digit_75() -> None:
    assert error_code("+75< 0000000000000017+85799665<") == "check_digit"


@pytest.mark.parametrize(
    "text",
    [
        "+73< +76836084<",  # does not start with 8
        "+73< +8683608<",  # 7 digits
        "+73< +868360841<",  # 9 digits
        "+71< 000000067097535+05799665<",
        "+75< 0000000000000018+8579966<",
    ],
)
def test_wrong_creditor_number(text: str) -> None:
    assert error_code(text) == "creditor"


@pytest.mark.parametrize("text", ["+01< +123456<", "+01< +123456789<", "+04< 1+123456<"])
def test_wrong_giro_number(text: str) -> None:
    assert error_code(text) == "giro"


@pytest.mark.parametrize("text", ["+72< +86836084<", "+7< +86836084<", "+073< +86836084<", "+1< +1234567<"])
def test_unsupported_card_type(text: str) -> None:
    assert error_code(text) == "card_type"


@pytest.mark.parametrize(
    "text",
    [
        "+73< 1+86836084<",  # +73 carries no payment id
        "+01< 1+1234567<",
        "+71< 00000067097535+85799665<",  # 14 digits
        "+71< 0000000067097535+85799665<",  # 16 digits
        "+75< 000000000000018+85799665<",  # 15 digits
        "+04< +1234567<",
        "+15< 12345678901234567+1234567<",  # 17 digits
    ],
)
def test_wrong_payment_id(text: str) -> None:
    assert error_code(text) == "payment_id"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "hello",
        "73< +86836084<",  # no leading +
        "+73 +86836084<",  # no < after the card type
        "+73< +86836084",  # no closing <
        "+73< 86836084<",  # no + before the account
        "+73< +86836084< extra",
        "x+73< +86836084<",
        "+73<< +86836084<",
        "+73< +8683 6084<",  # space inside a number
        "+71< 0000-0006-7097-535+85799665<",
        "+73< +٨٦٨٣٦٠٨٤<",  # Arabic-Indic digits are digits to Python, not to a bank
        "+73< +86836084<+73< +86836084<",
    ],
)
def test_garbage_is_a_form_error(text: str) -> None:
    assert error_code(text) == "form"


def test_errors_are_value_errors_with_known_codes_and_a_message() -> None:
    samples = [
        "nonsense",
        "+72< +86836084<",
        "+71< 12345+85799665<",
        "+71< 000000067097536+85799665<",
        "+73< +76836084<",
        "+01< +1<",
    ]
    codes = set()
    for text in samples:
        with pytest.raises(ValueError) as caught:
            parse_kodelinje(text)
        assert isinstance(caught.value, KodelinjeError)
        assert caught.value.message == str(caught.value) != ""
        codes.add(caught.value.code)
    assert codes == ERROR_CODES


# --- per-borrower payment ids -------------------------------------------------------------


def test_with_payment_id_71_pads_and_adds_check_digit() -> None:
    line = with_payment_id(parse_kodelinje("+71< 000000000000018+85799665<"), "6709753")
    assert line.text == PUBLIC_71
    assert line.needs_message is False


def test_with_payment_id_75() -> None:
    line = with_payment_id(parse_kodelinje("+75< 0000000000000018+85799665<"), "1002")
    # By hand, from the right: 2*2=4, 0*1=0, 0*2=0, 1*1=1 -> sum 5 -> check digit 10-5 = 5.
    assert line.payment_id == "0000000000010025"


def test_with_payment_id_needs_a_check_digit_card() -> None:
    with pytest.raises(KodelinjeError) as caught:
        with_payment_id(parse_kodelinje(SEED), "1001")
    assert caught.value.code == "card_type"


@pytest.mark.parametrize("data", ["", "12a", "123456789012345"])  # the last one: 15 > 14 digits
def test_with_payment_id_rejects_bad_data(data: str) -> None:
    with pytest.raises(KodelinjeError) as caught:
        with_payment_id(parse_kodelinje(PUBLIC_71), data)
    assert caught.value.code == "payment_id"


@given(st.integers(min_value=0, max_value=10**14 - 1))
def test_generated_ids_round_trip_and_reject_any_typo(patron_id: int) -> None:
    line = with_payment_id(parse_kodelinje(PUBLIC_71), str(patron_id))
    assert parse_kodelinje(line.text) == line
    assert int(line.payment_id[:-1]) == patron_id  # type: ignore[index]
    # A typo in any one digit of the id must be caught before the bank sees it.
    digits = line.payment_id
    assert digits is not None
    for position, char in enumerate(digits):
        typo = digits[:position] + str((int(char) + 1) % 10) + digits[position + 1 :]
        assert error_code(f"+71< {typo}+85799665<") == "check_digit"


# --- The fields a net bank asks for (issue 9) ---------------------------------------------


def test_bank_fields_of_a_73_line_have_no_payment_id() -> None:
    line = parse_kodelinje(SEED)
    assert line.type_code == "+73"
    assert line.bank_fields() == (BankField("card_type", "+73"), BankField("creditor_number", "86836084"))


def test_bank_fields_of_a_71_line_carry_the_payment_id() -> None:
    assert parse_kodelinje(PUBLIC_71).bank_fields() == (
        BankField("card_type", "+71"),
        BankField("payment_id", "000000067097535"),
        BankField("creditor_number", "85799665"),
    )


def test_bank_fields_of_a_75_line() -> None:
    line = with_payment_id(parse_kodelinje("+75< 0000000000000018+85799665<"), "2")
    assert [field.name for field in line.bank_fields()] == ["card_type", "payment_id", "creditor_number"]
    assert line.bank_fields()[1].value == line.payment_id


def test_bank_fields_of_a_giro_line_name_the_giro_number() -> None:
    line = parse_kodelinje("+04< 1234+1234567<")
    assert line.bank_fields() == (
        BankField("card_type", "+04"),
        BankField("payment_id", "1234"),
        BankField("giro_number", "1234567"),
    )


@given(st.text(alphabet="0123456789", min_size=1, max_size=14))
def test_bank_fields_put_together_give_the_line_back(data: str) -> None:
    line = with_payment_id(parse_kodelinje(PUBLIC_71), data)
    values = {field.name: field.value for field in line.bank_fields()}
    rebuilt = f"{values['card_type']}< {values.get('payment_id', '')}+{values['creditor_number']}<"
    assert rebuilt == line.text


# -- +71/+75 without a payment id: each borrower's own ---------------------------------------------


@pytest.mark.parametrize("text", ["+71< +86021447<", "+75< +86021447<"])
def test_a_71_or_75_line_without_a_payment_id_is_per_borrower(text: str) -> None:
    line = parse_kodelinje(text)
    assert line.per_borrower and not line.needs_message
    assert line.text == text


def test_each_borrower_gets_their_own_payment_id_with_its_check_digit() -> None:
    line = parse_kodelinje("+71< +85799665<")
    # The public example: data 6709753, padded to 14 digits, check digit 5.
    assert line.for_patron(6709753).text == "+71< 000000067097535+85799665<"
    assert line.for_patron(1).payment_id == "000000000000018"
    assert line.for_patron(1) != line.for_patron(2)
    assert not line.for_patron(1).per_borrower and not line.for_patron(1).needs_message
    assert parse_kodelinje("+75< +85799665<").for_patron(1002).payment_id == "0000000000010025"


@pytest.mark.parametrize("text", ["+73< +86836084<", "+71< 000000067097535+85799665<", "+04< 12+1234567<"])
def test_a_line_with_its_own_payment_id_or_none_is_the_same_for_every_borrower(text: str) -> None:
    line = parse_kodelinje(text)
    assert not line.per_borrower
    assert line.for_patron(1) == line.for_patron(2) == line


def test_a_borrower_number_longer_than_the_payment_id_is_refused() -> None:
    line = parse_kodelinje("+71< +85799665<")
    assert line.for_patron(10**14 - 1).payment_id is not None  # 14 digits fit
    with pytest.raises(KodelinjeError) as refused:
        line.for_patron(10**14)
    assert refused.value.code == "payment_id"


@pytest.mark.parametrize("text", ["+73< +86836084<", "+01< +1234567<"])
def test_a_card_without_payment_ids_still_needs_the_message(text: str) -> None:
    line = parse_kodelinje(text)
    assert line.needs_message and not line.per_borrower
