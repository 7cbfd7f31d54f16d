"""Review reasons as codes: each one's English sentence, and what the `review` column may hold.

`SAMPLES` has one reason per code; a code added without a sample fails the first test, so every
code is checked here for a sentence that formats and a stored form that reads back.
"""

from __future__ import annotations

from typing import Any

import pytest

from portal.payments import reasons
from portal.payments.reasons import Code, Reason, from_stored

FAILED = reasons.upstream_failed("fbs", "HTTP 503")
SAMPLES: dict[Code, Reason] = {
    Code.PAYMENTS_UNCONFIGURED: Reason(Code.PAYMENTS_UNCONFIGURED),
    Code.UPSTREAM_FAILED: FAILED,
    Code.UNEXPECTED_ERROR: Reason(Code.UNEXPECTED_ERROR),
    Code.GAVE_UP: reasons.gave_up(FAILED, 7),
    Code.GATEWAY_SILENT: reasons.gateway_silent(reasons.upstream_failed("nexi", "timed out")),
    Code.LIBRARY_REMOVED: Reason(Code.LIBRARY_REMOVED),
    Code.CHARGED_BEFORE_FBS: Reason(Code.CHARGED_BEFORE_FBS, {"charged_ore": 2500}),
    Code.RESERVATION_CHANGED: Reason(Code.RESERVATION_CHANGED, {"held_ore": 1000, "total_ore": 5100}),
    Code.TOKEN_EXPIRED: Reason(Code.TOKEN_EXPIRED, {"message": "401 token expired"}),
    Code.TOKEN_UNREADABLE: Reason(Code.TOKEN_UNREADABLE),
    Code.CHARGE_DIFFERS: Reason(Code.CHARGE_DIFFERS, {"message": "over", "charged_ore": 1, "charge_ore": 2500}),
    Code.CHARGE_REFUSED: Reason(Code.CHARGE_REFUSED, {"message": "declined"}),
    Code.RELEASE_REFUSED: Reason(Code.RELEASE_REFUSED, {"amount_ore": 2600, "message": "refused"}),
    Code.CANCELLED_AFTER_REGISTERED: Reason(Code.CANCELLED_AFTER_REGISTERED),
}


def test_every_code_has_a_sample_and_an_english_sentence() -> None:
    assert set(SAMPLES) == set(Code) == set(reasons.ENGLISH)


@pytest.mark.parametrize("code", list(Code))
def test_a_stored_reason_reads_back_as_itself(code: Code) -> None:
    reason = SAMPLES[code]
    assert from_stored(reason.stored()) == reason
    assert "{" not in reason.english()  # every placeholder was filled


def test_the_english_sentence_is_what_the_history_and_log_said_before_codes() -> None:
    assert reasons.gave_up(FAILED, 7).english() == "fbs failed: HTTP 503 (gave up after 7 attempts)"
    assert SAMPLES[Code.GATEWAY_SILENT].english() == (
        "nexi failed: timed out (the gateway could not be asked since the checkout ended)"
    )
    assert SAMPLES[Code.RELEASE_REFUSED].english() == "releasing 2600 øre was refused: refused"


def test_the_stored_form_is_plain_json_with_the_cause_nested() -> None:
    assert reasons.gave_up(FAILED, 7).stored() == {
        "code": "gave_up",
        "params": {"attempts": 7},
        "cause": {"code": "upstream_failed", "params": {"provider": "fbs", "message": "HTTP 503"}},
    }


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "gave_up",
        [],
        {},
        {"code": "from_a_later_version", "params": {}},  # a rollback: shown by its English sentence
        {"code": "charge_refused", "params": {}},  # its sentence names a message
        {"code": "charge_refused", "params": {"message": ["not", "text"]}},
        {"code": "charge_refused", "params": "declined"},
        {"code": "gave_up", "params": {"attempts": 7}},  # no cause
        {"code": "library_removed", "params": {}, "cause": {"code": "unexpected_error", "params": {}}},
        {"code": "gave_up", "params": {"attempts": 7}, "cause": {"code": "nonsense"}},
    ],
)
def test_a_column_this_version_cannot_read_gives_no_reason(stored: Any) -> None:
    assert from_stored(stored) is None


def test_a_cause_goes_only_with_the_codes_that_wrap_one() -> None:
    with pytest.raises(ValueError):
        Reason(Code.GAVE_UP, {"attempts": 7})
    with pytest.raises(ValueError):
        Reason(Code.LIBRARY_REMOVED, {}, FAILED)
