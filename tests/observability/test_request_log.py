"""The one line per request, and the shortcuts that make it cheap (portal/observability/logs.py).

The formatter renders structlog's own events (the request line) without structlog's copy of the
record; the scrubber takes plain text and numbers first. Each shortcut is compared here with the
way it replaces — `ProcessorFormatter` itself, the scrubber written plainly — on the same input,
CPR-shaped values included, so the lines are the same and still scrubbed.
"""

from __future__ import annotations

import enum
import io
import json
import logging
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import structlog

from portal import create_app
from portal.devtools.demo import DEMO_LIBRARIES_FILE
from portal.observability.logs import (
    CPR_PATTERN,
    CPR_REPLACEMENT,
    configure_logging,
    make_formatter,
    scrub_personal_data,
)
from portal.observability.request_id import HEADER
from tests.support.settings import test_settings

FIELDS = ["method", "route", "status", "duration_ms", "event", "level", "logger", "request_id", "timestamp"]


@pytest.fixture
def written() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    yield buffer
    configure_logging("console", "INFO")


def test_each_request_ends_with_one_line_of_its_fields(tmp_path: Path, written: io.StringIO) -> None:
    settings = test_settings(
        PORTAL_DATABASE_URL=f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        PORTAL_LIBRARIES_FILE=str(DEMO_LIBRARIES_FILE),
    )
    client = create_app(settings).test_client()
    configure_logging("json", "DEBUG", stream=written)  # after create_app, which sets up its own
    assert client.get("/lyngby/", headers={HEADER: "trace-page-0001"}).status_code == 200
    assert client.get("/healthz", headers={HEADER: "trace-probe-0001"}).status_code == 200
    lines = [json.loads(line) for line in written.getvalue().splitlines()]
    requests = {line["request_id"]: line for line in lines if line["event"] == "request"}
    page, probe = requests["trace-page-0001"], requests["trace-probe-0001"]
    assert list(page) == FIELDS
    assert (page["method"], page["route"], str(page["status"])) == ("GET", "/<slug:slug>/", "200")
    assert (page["level"], page["logger"]) == ("info", "portal.observability.setup")
    assert isinstance(page["duration_ms"], float)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z", page["timestamp"])
    assert (probe["route"], probe["level"]) == ("/healthz", "debug")  # probes only at DEBUG


def _structlog_records() -> list[logging.LogRecord]:
    """Records as structlog hands them to logging: the request line, CPR-shaped values, a traceback."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    configure_logging("json", "INFO", stream=io.StringIO())
    keep = Keep()
    stdlib = logging.getLogger("tests.request_log")
    stdlib.addHandler(keep)
    stdlib.propagate = False  # untouched by any formatter until the test's own
    log = structlog.get_logger("tests.request_log")
    try:
        log.info("request", method="GET", route="/<slug:slug>/", status=200, duration_ms=1.3)
        log.warning("request", method="GET", route="/0101901111/", status=404, duration_ms=0.4)
        log.info("looked up", patron=101901111, ids=["010190-1111", 7], extra={"cpr": "0101901111"})
        try:
            raise ValueError("patron 0202852222 unknown")
        except ValueError as error:  # the exception itself: the records are formatted after `except`
            log.error("failed", exc_info=error)
    finally:
        stdlib.removeHandler(keep)
        stdlib.propagate = True
    return records


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_structlog_events_render_as_processor_formatter_renders_them(log_format: str, written: io.StringIO) -> None:
    records = _structlog_records()
    assert len(records) == 4 and all(isinstance(record.msg, dict) for record in records)
    ours = make_formatter(log_format)
    assert isinstance(ours, structlog.stdlib.ProcessorFormatter)
    theirs = structlog.stdlib.ProcessorFormatter(foreign_pre_chain=ours.foreign_pre_chain, processors=ours.processors)
    for record in records:
        line = ours.format(record)
        assert line == theirs.format(record)
        assert not CPR_PATTERN.search(line) and "101901111" not in line
    assert CPR_REPLACEMENT in ours.format(records[1])  # the request line is scrubbed too


def test_formatting_leaves_the_record_as_other_handlers_get_it(written: io.StringIO) -> None:
    record = _structlog_records()[1]
    before = dict(record.__dict__)
    assert isinstance(record.msg, dict)
    event = dict(record.msg)
    first = make_formatter("json").format(record)
    assert record.__dict__ == before
    assert record.msg == event  # not scrubbed, rendered or marked in place
    assert make_formatter("json").format(record) == first


def _scrubbed_plainly(value: Any) -> Any:
    """The scrubber written plainly, without its fast paths for plain text and numbers."""
    if isinstance(value, str):
        return CPR_PATTERN.sub(CPR_REPLACEMENT, value)
    if isinstance(value, Mapping):
        return {key: _scrubbed_plainly(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrubbed_plainly(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
        if not CPR_PATTERN.fullmatch(text.zfill(10)):
            return value
        return CPR_PATTERN.sub(CPR_REPLACEMENT, text.zfill(10) if len(text) == 9 else text)
    return value


class Tag(str):
    pass


class Code(enum.IntEnum):
    OK = 200


@pytest.mark.parametrize(
    "value",
    [
        "0101901111",
        "010190-1111 and 0202852222",
        "123456789012",
        "/<slug:slug>/",
        "",
        Tag("0101901111"),
        200,
        0,
        -101901111,
        101901111,
        1010190111,
        12345678901,
        Code.OK,
        True,
        1.3,
        None,
        b"0101901111",
        {"cpr": "0101901111", "n": 101901111, "deep": {"x": ["010190-1111"]}},
        ("0101901111", 3),
        ["a", 2.5, None],
    ],
)
def test_the_scrubber_answers_as_written_plainly(value: Any) -> None:
    expected = _scrubbed_plainly(value)
    got = scrub_personal_data(None, "info", {"value": value})["value"]
    assert (got, type(got)) == (expected, type(expected))


@pytest.mark.parametrize(
    ("value", "expected"),
    [(101901111, CPR_REPLACEMENT), (1010190111, CPR_REPLACEMENT), (200, "200"), (12345678901, 12345678901)],
)
def test_a_cpr_number_as_an_int_is_removed_with_its_leading_zero_lost_too(value: int, expected: Any) -> None:
    # 0101901111 as an int is 101901111: nine digits, which the text pattern alone does not see.
    assert scrub_personal_data(None, "info", {"value": value}) == {"value": expected}


def test_the_traceback_of_a_structlog_event_is_scrubbed(written: io.StringIO) -> None:
    line = make_formatter("json").format(_structlog_records()[-1])
    assert "0202852222" not in line
    assert "ValueError: patron [cpr removed] unknown" in json.loads(line)["exception"]
