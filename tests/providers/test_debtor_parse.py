"""debtor_parse: debtor-status API JSON -> Claims; anything off-spec -> UpstreamBadResponse."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from portal.devtools import demo_data
from portal.domain.claims import ClaimStatus
from portal.domain.fees import FeeType
from portal.domain.money import MAX_AMOUNT
from portal.providers.debtor_parse import parse_claims
from portal.providers.errors import UpstreamBadResponse

AGENCY = "DK-717300"
GOOD: dict[str, Any] = {
    "claimId": "LTK-1",
    "feeId": 505,
    "type": "fee",
    "description": "Gebyr (for sent)",
    "createdDate": "2021-06-16",
    "originalAmount": "60.00",
    "outstandingAmount": "60.00",
    "status": "reminder_sent",
    "dueDate": "2021-07-13",
    "paidAmount": "0.00",
    "paidDate": None,
}
DROP = object()


def claim_with(**changes: Any) -> dict[str, Any]:
    claim = copy.deepcopy(GOOD)
    for key, value in changes.items():
        if value is DROP:
            claim.pop(key, None)
        else:
            claim[key] = value
    return claim


def answer(*claims: dict[str, Any], agency: str = AGENCY) -> str:
    return json.dumps({"agencyId": agency, "claims": list(claims)})


def test_a_library_claim() -> None:
    [claim] = parse_claims(answer(GOOD), AGENCY)
    assert (claim.claim_id, claim.fee_id, claim.origin_claim_id, claim.type) == ("LTK-1", 505, None, FeeType.FEE)
    assert (claim.original_amount, claim.outstanding, claim.paid_amount) == (
        Decimal("60.00"),
        Decimal("60.00"),
        Decimal("0.00"),
    )
    assert (claim.status, claim.created, claim.due, claim.paid) == (
        ClaimStatus.REMINDER_SENT,
        date(2021, 6, 16),
        date(2021, 7, 13),
        None,
    )
    assert not claim.added_by_municipality and not claim.is_paid


def test_a_reminder_fee_added_by_the_municipality_and_paid() -> None:
    raw = claim_with(
        claimId="LTK-1-R1",
        feeId=DROP,
        originClaimId="LTK-1",
        description="Rykkergebyr",
        outstandingAmount="0",
        paidAmount="65.00",
        paidDate="2024-05-09",
        type=DROP,
        dueDate=DROP,
    )
    [claim] = parse_claims(answer(raw), AGENCY)
    assert claim.added_by_municipality and claim.origin_claim_id == "LTK-1" and claim.fee_id is None
    assert claim.is_paid and claim.paid == date(2024, 5, 9) and claim.outstanding == Decimal("0.00")
    assert claim.type is FeeType.OTHER and claim.due is None


def test_the_demo_claims_parse() -> None:
    for patron_id, claims in demo_data.debtor_claims(date(2024, 5, 10)).items():
        parsed = parse_claims(answer(*claims), AGENCY)
        assert len(parsed) == len(claims), patron_id


def test_empty_list_is_an_answer() -> None:
    assert parse_claims(answer(), AGENCY) == []


@pytest.mark.parametrize(
    "changes",
    [
        {"claimId": DROP},
        {"claimId": ""},
        {"claimId": 5},
        {"claimId": "has space"},
        {"claimId": "x" * 65},
        {"description": DROP},
        {"description": " "},
        {"createdDate": DROP},
        {"createdDate": "16-06-2021"},
        {"createdDate": "2021-02-30"},
        {"dueDate": "soon"},
        {"paidDate": 20240509},
        {"status": "paid"},
        {"status": DROP},
        {"feeId": "505"},
        {"feeId": True},
        {"feeId": -1},
        {"originClaimId": "LTK-0"},  # both a fee id and an origin
        {"originClaimId": 7, "feeId": DROP},
        {"originalAmount": 60},
        {"outstandingAmount": 60.5},
        {"outstandingAmount": "60.005"},
        {"outstandingAmount": "-1.00"},
        {"outstandingAmount": "1e3"},
        {"outstandingAmount": "NaN"},
        {"paidAmount": 0},
        {"outstandingAmount": "0.00", "paidDate": None},  # zero left, but never paid
    ],
)
def test_off_spec_claims_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(UpstreamBadResponse) as info:
        parse_claims(answer(claim_with(**changes)), AGENCY)
    assert info.value.provider == "debtor"


@pytest.mark.parametrize(
    "body",
    [
        "",
        "{",
        "[]",
        '{"agencyId": "DK-717300"}',
        '{"agencyId": "DK-717300", "claims": {}}',
        '{"agencyId": "DK-717300", "claims": [1]}',
        '{"agencyId": "DK-717300", "claims": [], "x": NaN}',
    ],
)
def test_malformed_answers_are_refused(body: str) -> None:
    with pytest.raises(UpstreamBadResponse):
        parse_claims(body, AGENCY)


def test_another_librarys_claims_are_refused() -> None:
    with pytest.raises(UpstreamBadResponse, match="another agencyId"):
        parse_claims(answer(GOOD, agency="DK-717500"), AGENCY)


def test_a_claim_id_or_fee_id_twice_is_refused() -> None:
    with pytest.raises(UpstreamBadResponse, match="claimId twice"):
        parse_claims(answer(GOOD, claim_with(feeId=506)), AGENCY)
    with pytest.raises(UpstreamBadResponse, match="feeId twice"):
        parse_claims(answer(GOOD, claim_with(claimId="LTK-2")), AGENCY)


def test_amount_without_decimals_gets_two() -> None:
    [claim] = parse_claims(answer(claim_with(originalAmount="60", outstandingAmount="59.5")), AGENCY)
    assert str(claim.original_amount) == "60.00" and str(claim.outstanding) == "59.50"


@pytest.mark.parametrize("key", ["originalAmount", "outstandingAmount", "paidAmount"])
def test_the_plausibility_bound_itself_is_accepted(key: str) -> None:
    [claim] = parse_claims(answer(claim_with(**{key: "1000000.00"})), AGENCY)
    amounts = {
        "originalAmount": claim.original_amount,
        "outstandingAmount": claim.outstanding,
        "paidAmount": claim.paid_amount,
    }
    assert amounts[key] == MAX_AMOUNT == Decimal("1000000.00")


@pytest.mark.parametrize("key", ["originalAmount", "outstandingAmount", "paidAmount"])
@pytest.mark.parametrize(
    "value",
    [
        "1000000.01",  # one øre above the bound
        "999999999.99",  # what the digit limit alone let through
        "100000000000000000000",  # 10^20 kr.
        100000000000000000000,  # the same as a JSON number
    ],
)
def test_implausible_amounts_are_refused_naming_the_field(key: str, value: Any) -> None:
    with pytest.raises(UpstreamBadResponse) as info:
        parse_claims(answer(claim_with(**{key: value})), AGENCY)
    assert info.value.provider == "debtor"
    assert f"claim LTK-1: {key} is " in info.value.message
    if value in ("1000000.01", "999999999.99"):  # a well-formed amount, refused by the bound alone
        assert info.value.message == f"claim LTK-1: {key} is above the plausible maximum of 1000000.00 kr."
    assert str(value) not in str(info.value)  # the field is named, not the value
    # The same answer with a plausible amount is accepted: the amount is the cause.
    assert parse_claims(answer(claim_with(**{key: "60.00"})), AGENCY)


def test_messages_contain_no_values() -> None:
    secret = "Anne Andersen 0101901111"
    for changes in (
        {"description": [secret]},
        {"createdDate": secret},
        {"outstandingAmount": secret},
        {"status": secret},
        {"originalAmount": secret},
    ):
        with pytest.raises(UpstreamBadResponse) as info:
            parse_claims(answer(claim_with(**changes)), AGENCY)
        assert "Anne" not in str(info.value) and "0101901111" not in str(info.value)
