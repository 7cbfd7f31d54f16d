"""fbs_parse: FBS JSON -> domain objects; anything malformed -> UpstreamBadResponse."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from portal.devtools import demo_data
from portal.domain.fees import BlockReason, Fee, FeeType, Material
from portal.domain.money import MAX_AMOUNT
from portal.providers.errors import UpstreamBadResponse
from portal.providers.fbs_parse import (
    loads,
    parse_authenticated_patron,
    parse_fees,
    parse_patron,
)

GOOD_FEE: dict[str, Any] = {
    "feeId": 7,
    "type": "fee",
    "reasonMessage": "Gebyr (for sent)",
    "amount": 30,
    "creationDate": "2021-03-02",
    "dueDate": "2021-03-30",
    "payableByClient": True,
    "materials": [
        {
            "recordId": "29830092",
            "materialItemNumber": "3846990827",
            "materialGroup": {"name": "standard", "description": "Standard materiale"},
        }
    ],
}


DROP = object()


def fee_with(**changes: Any) -> dict[str, Any]:
    """GOOD_FEE with fields replaced; a value of DROP removes the field."""
    fee = copy.deepcopy(GOOD_FEE)
    for key, value in changes.items():
        if value is DROP:
            fee.pop(key, None)
        else:
            fee[key] = value
    return fee


def one_fee(raw_fee: dict[str, Any]) -> Fee:
    [fee] = parse_fees(json.dumps([raw_fee]))
    return fee


# -- the demo data: every quirk FBS is known for ------------------------------


def demo_fees(patron_id: int) -> dict[int, Fee]:
    # Through JSON text, as over the wire: 249.5 must not become a binary float.
    return {fee.fee_id: fee for fee in parse_fees(json.dumps(demo_data.FEES[patron_id]))}


def test_demo_fees_parse_into_domain_objects() -> None:
    fees = demo_fees(1001)
    assert sorted(fees) == [501, 502, 503, 504, 505, 506, 507, 508]
    late = fees[501]
    assert late.type is FeeType.FEE
    assert late.reason == "Gebyr (for sent)"
    assert late.amount == Decimal("30.00") and isinstance(late.amount, Decimal)
    assert late.created == date(2021, 3, 2) and late.due == date(2021, 3, 30)
    assert late.payable_by_client is True and late.paid is None
    assert late.materials == (Material("29830092", "3846990827", "standard"),)


def test_oere_amounts_are_exact_decimals() -> None:
    fees = demo_fees(1001)
    assert str(fees[502].amount) == "249.50"  # JSON number 249.5
    assert str(fees[503].amount) == "15.25"  # JSON string "15.25"
    assert str(demo_fees(1005)[552].amount) == "45.75"
    assert sum(f.amount for f in fees.values() if not f.is_paid) == Decimal("803.75")


def test_fee_without_materials_and_due_date() -> None:
    fee = demo_fees(1001)[503]
    assert fee.materials == ()
    assert fee.due is None


def test_unknown_type_is_other() -> None:
    fee = demo_fees(1001)[504]
    assert fee.type is FeeType.OTHER


def test_compensation_with_two_materials() -> None:
    fee = demo_fees(1001)[502]
    assert fee.type is FeeType.COMPENSATION
    assert [m.item_number for m in fee.materials] == ["3846661520", "3850133211"]


def test_paid_and_handed_over_fees() -> None:
    fees = demo_fees(1001)
    assert fees[508].paid == date(2020, 9, 2) and fees[508].is_paid
    assert fees[505].payable_by_client is False


def test_empty_fee_list() -> None:
    assert parse_fees("[]") == []


# -- amounts -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30", "30.00"),
        ("0", "0.00"),
        ("0.29", "0.29"),
        ("249.5", "249.50"),
        ('"15.25"', "15.25"),
        ('"30"', "30.00"),
        ("1e2", "100.00"),
        ("30.000", "30.00"),
        ("-0", "0.00"),
        ("1000000", "1000000.00"),  # the plausibility bound itself
        ('"1000000.00"', "1000000.00"),
    ],
)
def test_amounts(text: str, expected: str) -> None:
    body = json.dumps([fee_with(amount="PLACEHOLDER")]).replace('"PLACEHOLDER"', text)
    [fee] = parse_fees(body)
    assert str(fee.amount) == expected


def test_loads_never_makes_floats() -> None:
    value = loads('{"a": 0.1, "b": [2.675]}')
    assert value == {"a": Decimal("0.1"), "b": [Decimal("2.675")]}
    assert type(value["a"]) is Decimal


@pytest.mark.parametrize(
    "text",
    [
        "-1",
        '"-1"',
        "-0.01",
        "1.234",
        '"1.234"',
        "0.001",
        '"abc"',
        '"1e3"',
        '" 15.25"',
        '"15,25"',
        '"NaN"',
        '"Infinity"',
        "NaN",
        "Infinity",
        "-Infinity",
        "true",
        "null",
        "[]",
        "{}",
        '""',
        "1" + "0" * 40,
    ],
)
def test_bad_amounts(text: str) -> None:
    body = json.dumps([fee_with(amount="PLACEHOLDER")]).replace('"PLACEHOLDER"', text)
    with pytest.raises(UpstreamBadResponse) as info:
        parse_fees(body)
    assert "amount" in info.value.message or "JSON" in info.value.message


@pytest.mark.parametrize(
    "text",
    [
        "1000000.01",  # one øre above the bound
        '"1000000.01"',
        "100000000000000000000",  # 10^20 kr. as a JSON number
        "1e20",
        '"100000000000000000000"',
        "12345678901234.99",
    ],
)
def test_implausible_amounts_are_refused_naming_the_field(text: str) -> None:
    body = json.dumps([fee_with(amount="PLACEHOLDER")]).replace('"PLACEHOLDER"', text)
    with pytest.raises(UpstreamBadResponse) as info:
        parse_fees(body)
    assert info.value.message == "fee 7: amount is above the plausible maximum of 1000000.00 kr."
    digits = text.strip('"')
    assert digits not in str(info.value)  # the field is named, not the value
    # The same answer with a plausible amount is accepted: the amount is the cause.
    assert one_fee(fee_with(amount=30)).amount == Decimal("30.00")


def test_the_bound_is_the_shared_one() -> None:
    assert MAX_AMOUNT == Decimal("1000000.00")
    assert one_fee(fee_with(amount=str(MAX_AMOUNT))).amount == MAX_AMOUNT
    with pytest.raises(UpstreamBadResponse, match="plausible maximum"):
        one_fee(fee_with(amount=str(MAX_AMOUNT + Decimal("0.01"))))


def test_negative_amount_says_so() -> None:
    with pytest.raises(UpstreamBadResponse, match="negative"):
        parse_fees(json.dumps([fee_with(amount=-30)]))


def test_amount_decoded_as_float_is_refused() -> None:
    # Someone decoded with plain json.loads: 249.5 is a float now.
    with pytest.raises(UpstreamBadResponse, match="float"):
        parse_fees([fee_with(amount=249.5)])


def test_already_decoded_input_is_accepted() -> None:
    [fee] = parse_fees(loads(json.dumps([fee_with(amount="15.25")])))
    assert fee.amount == Decimal("15.25")


# -- every other field ------------------------------------------------------------


def test_optional_fields() -> None:
    fee = one_fee(fee_with(dueDate=None, paidDate=None, materials=DROP))
    assert (fee.due, fee.paid, fee.materials) == (None, None, ())
    fee = one_fee(fee_with(dueDate=DROP, materials=None, paidDate="2021-04-01"))
    assert (fee.due, fee.paid, fee.materials) == (None, date(2021, 4, 1), ())


def test_material_fields() -> None:
    fee = one_fee(
        fee_with(
            materials=[
                {"recordId": "1", "materialItemNumber": "2", "periodical": {"displayText": "Nr. 3, 2021"}},
                {},
            ]
        )
    )
    assert fee.materials == (Material("1", "2", None, "Nr. 3, 2021"), Material(None, None))


@pytest.mark.parametrize(
    "raw",
    [
        {},
        3,
        None,
        True,
        {"fees": []},
        '"fees"',
        "{}",
        "null",
        b"3",
    ],
)
def test_fees_answer_not_a_list(raw: Any) -> None:
    with pytest.raises(UpstreamBadResponse, match="not a list"):
        parse_fees(raw)


@pytest.mark.parametrize(
    "changes",
    [
        {"feeId": DROP},
        {"feeId": "7"},
        {"feeId": True},
        {"feeId": None},
        {"type": DROP},
        {"type": 3},
        {"type": None},
        {"reasonMessage": DROP},
        {"reasonMessage": None},
        {"reasonMessage": ["x"]},
        {"amount": DROP},
        {"creationDate": DROP},
        {"creationDate": None},
        {"creationDate": "2021-02-30"},
        {"creationDate": "2021/03/02"},
        {"creationDate": "20210302"},
        {"creationDate": "02-03-2021"},
        {"creationDate": "2021-03-02T10:00:00"},
        {"creationDate": 20210302},
        {"creationDate": ""},
        {"dueDate": "soon"},
        {"dueDate": 5},
        {"dueDate": "2021-13-01"},
        {"paidDate": "2021-00-10"},
        {"paidDate": False},
        {"payableByClient": DROP},
        {"payableByClient": "true"},
        {"payableByClient": 1},
        {"payableByClient": None},
        {"materials": "none"},
        {"materials": {}},
        {"materials": [1]},
        {"materials": [None]},
        {"materials": [{"recordId": 29830092}]},
        {"materials": [{"materialItemNumber": 1}]},
        {"materials": [{"materialGroup": "standard"}]},
        {"materials": [{"materialGroup": {"name": 5}}]},
        {"materials": [{"periodical": "Nr. 3"}]},
    ],
)
def test_malformed_fee(changes: dict[str, Any]) -> None:
    field = next(iter(changes))
    with pytest.raises(UpstreamBadResponse) as info:
        parse_fees(json.dumps([fee_with(**changes)]))
    assert info.value.provider == "fbs"
    assert field in info.value.message or "material" in info.value.message


@pytest.mark.parametrize("item", [1, "fee", None, [], True])
def test_fee_not_an_object(item: Any) -> None:
    with pytest.raises(UpstreamBadResponse, match="not an object"):
        parse_fees(json.dumps([GOOD_FEE, item]))


def test_duplicate_fee_ids() -> None:
    with pytest.raises(UpstreamBadResponse, match="twice"):
        parse_fees(json.dumps([GOOD_FEE, fee_with(amount=10)]))


@pytest.mark.parametrize(
    "body",
    [
        "",
        "[",
        "[{]",
        "not json",
        b"\xff\xfe",
        '[{"feeId": 1,}]',
        "[1] [2]",
        "[" * 100_000,
    ],
)
def test_invalid_json(body: str | bytes) -> None:
    with pytest.raises(UpstreamBadResponse, match="not valid JSON"):
        parse_fees(body)


def test_messages_contain_no_values() -> None:
    """Operators read these; values may be personal data, so only field names appear."""
    secret = "Anne Andersen 0101901111"
    cases: list[Any] = [
        lambda: parse_fees(json.dumps([fee_with(reasonMessage=[secret])])),
        lambda: parse_fees(json.dumps([fee_with(creationDate=secret)])),
        lambda: parse_fees(json.dumps([fee_with(amount=secret)])),
        lambda: parse_patron(json.dumps({"patron": {"patronId": secret, "name": secret}})),
        lambda: parse_authenticated_patron(json.dumps({"patron": {"patronId": secret}})),
    ]
    for case in cases:
        with pytest.raises(UpstreamBadResponse) as info:
            case()
        assert "Anne" not in str(info.value) and "0101901111" not in str(info.value)


# -- patrons -----------------------------------------------------------------------


def patron_answer(**patron: Any) -> str:
    return json.dumps({"authenticateStatus": "VALID", "patron": {"patronId": 1002, **patron}})


def test_patron_with_blocks() -> None:
    patron = parse_patron(
        patron_answer(
            name="Bent Berg",
            blockStatus=[
                *demo_data.BLOCKS[1002],
                {"blockedReason": "Q", "blockedSince": None},
                {"blockedReason": "O"},
            ],
        )
    )
    assert patron.patron_id == 1002 and patron.name == "Bent Berg"
    assert [(b.reason, b.code) for b in patron.blocks] == [
        (BlockReason.DEBT_LIMIT, "E"),
        (BlockReason.OTHER, "Q"),
        (BlockReason.CARD_STOLEN, "O"),
    ]
    assert patron.blocks[0].since == date(2024, 3, 12)
    assert patron.blocks[0].message == "Maksimalt gældsbeløb overskredet"
    assert patron.blocks[1].since is None and patron.blocks[1].message == ""
    assert patron.blocked_for_fees


@pytest.mark.parametrize("extra", [{}, {"blockStatus": None}, {"blockStatus": []}])
def test_patron_without_blocks(extra: dict[str, Any]) -> None:
    patron = parse_patron(patron_answer(**extra))
    assert patron.blocks == () and patron.name is None and not patron.blocked_for_fees


@pytest.mark.parametrize(
    "body",
    [
        "[]",
        '"x"',
        "{}",
        '{"patron": null}',
        '{"patron": []}',
        '{"patron": {}}',
        '{"patron": {"patronId": "1002"}}',
        '{"patron": {"patronId": 1002, "name": 5}}',
        '{"patron": {"patronId": 1002, "blockStatus": {}}}',
        '{"patron": {"patronId": 1002, "blockStatus": ["E"]}}',
        '{"patron": {"patronId": 1002, "blockStatus": [{}]}}',
        '{"patron": {"patronId": 1002, "blockStatus": [{"blockedReason": 5}]}}',
        '{"patron": {"patronId": 1002, "blockStatus": [{"blockedReason": "E", "blockedSince": "x"}]}}',
        '{"patron": {"patronId": 1002, "blockStatus": [{"blockedReason": "E", "message": 1}]}}',
        "{",
    ],
)
def test_malformed_patron(body: str) -> None:
    with pytest.raises(UpstreamBadResponse):
        parse_patron(body)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"authenticateStatus": "VALID", "patron": {"patronId": 1001, "name": "A"}}', 1001),
        ('{"authenticateStatus": "INVALID", "patron": null}', None),
        ('{"authenticateStatus": "INVALID"}', None),
    ],
)
def test_authenticated_patron(body: str, expected: int | None) -> None:
    assert parse_authenticated_patron(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "[]",
        "null",
        '"1001"',
        '{"patron": []}',
        '{"patron": {}}',
        '{"patron": {"patronId": "1001"}}',
        '{"patron": {"patronId": 1001.0}}',
        '{"patron": {"patronId": false}}',
        "garbage",
    ],
)
def test_malformed_authenticated_patron(body: str) -> None:
    with pytest.raises(UpstreamBadResponse):
        parse_authenticated_patron(body)
