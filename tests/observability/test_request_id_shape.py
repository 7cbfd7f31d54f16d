"""A new request id never looks like a CPR number, so the log's scrubber never cuts it apart."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from portal.observability import request_id
from portal.observability.logs import scrub_text


def test_an_id_with_ten_digits_in_a_row_is_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: Iterator[str] = iter(["f77e0101901111e3", "1234567890abcdef", "0f8fad5bd9cb469f"])
    monkeypatch.setattr(secrets, "token_hex", lambda _n: next(drawn))
    new = request_id.new_request_id()
    assert new == "0f8fad5bd9cb469f"
    assert scrub_text(new) == new


def test_new_ids_survive_the_scrubber() -> None:
    for _ in range(2000):
        new = request_id.new_request_id()
        assert scrub_text(new) == new and len(new) == 16
