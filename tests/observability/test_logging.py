"""Structured log lines: the request id in every line of a request, in the answer and sent upstream; no CPR."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx
import pytest

from portal.devtools.demo_data import CITIZENS
from portal.observability.logs import WithoutQueryString, configure_logging, make_formatter
from portal.observability.request_id import HEADER, accept_or_new
from tests.support.login import http_login
from tests.support.stack import Stack


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Every log line of the servers, as production writes it (PORTAL_LOG_FORMAT=json), at DEBUG.

    The test's own HTTP client logs too (httpx), in the main thread; the servers answer in theirs.
    """
    buffer = io.StringIO()
    handler = configure_logging("json", "DEBUG", stream=buffer)
    main = threading.main_thread().ident
    handler.addFilter(lambda record: record.thread != main)
    yield buffer
    configure_logging("console", "INFO")


def _lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


class Recorder:
    """A WSGI wrapper that remembers the X-Request-ID of every request to an upstream simulator."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.ids: list[str | None] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        self.ids.append(environ.get("HTTP_X_REQUEST_ID"))
        return self.app(environ, start_response)


def test_the_request_id_is_in_every_line_the_header_and_every_upstream_call(
    stack: Stack, json_log: io.StringIO
) -> None:
    assert stack.debtor is not None
    fbs, debtor = Recorder(stack.fbs.deferred.app), Recorder(stack.debtor.deferred.app)  # type: ignore[arg-type]
    stack.fbs.set_app(fbs)
    stack.debtor.set_app(debtor)
    try:
        with httpx.Client(timeout=10) as client:
            http_login(client, stack.url, CITIZENS[0].sub)
            stack.app.extensions["portal.upstreams"].cache.forget_patrons({"DK-717300": 1001})
            json_log.truncate(0)
            json_log.seek(0)
            fbs.ids.clear()
            debtor.ids.clear()
            page = client.get(f"{stack.url}/lyngby/", headers={HEADER: "lb-trace-0001"})
    finally:
        stack.fbs.set_app(fbs.app)
        stack.debtor.set_app(debtor.app)
    assert page.status_code == 200
    assert page.headers[HEADER] == "lb-trace-0001"
    lines = _lines(json_log)
    # stdlib records of the existing code (httpx's request lines among them) and structlog's own.
    assert any(line.get("logger") == "httpx" for line in lines)
    assert any(line["event"] == "request" and line["route"] == "/<slug:slug>/" for line in lines)
    assert lines and all(line.get("request_id") == "lb-trace-0001" for line in lines), lines
    assert fbs.ids and all(rid == "lb-trace-0001" for rid in fbs.ids)
    # The debtor system is asked from a background thread: the id goes along.
    assert debtor.ids == ["lb-trace-0001"]


def test_every_request_gets_its_own_id(stack: Stack) -> None:
    first, second = httpx.get(f"{stack.url}/healthz"), httpx.get(f"{stack.url}/healthz")
    assert first.headers[HEADER] != second.headers[HEADER]
    assert len(first.headers[HEADER]) == 16


@pytest.mark.parametrize(
    "incoming",
    ["short", "x" * 65, "has space in it", "0101901111", "trace-010190-1111", "new\nline-injected", "ünïcode-id"],
)
def test_an_unsafe_incoming_id_is_replaced_never_echoed(incoming: str) -> None:
    assert accept_or_new(incoming) != incoming


def test_a_safe_incoming_id_is_kept() -> None:
    assert accept_or_new("0f8fad5b-d9cb-469f-a165-70867728950e") == "0f8fad5b-d9cb-469f-a165-70867728950e"


def _formatted(record: logging.LogRecord, log_format: str = "json") -> str:
    return make_formatter(log_format).format(record)


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_cpr_numbers_are_scrubbed_from_every_line(log_format: str) -> None:
    record = logging.LogRecord(
        "portal.x",
        logging.WARNING,
        __file__,
        1,
        "looked up %s and %s, order %s",
        ("0101901111", "010190-1111", "123456789012"),
        None,
    )
    try:
        raise ValueError("patron 0202852222 unknown")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    line = _formatted(record, log_format)
    assert "0101901111" not in line
    assert "010190-1111" not in line
    assert "0202852222" not in line
    assert "[cpr removed]" in line
    assert "123456789012" in line  # twelve digits are no CPR number


def test_json_lines_carry_level_logger_and_time() -> None:
    record = logging.LogRecord("portal.x", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    line = json.loads(_formatted(record))
    assert line["event"] == "hello world"
    assert line["level"] == "info"
    assert line["logger"] == "portal.x"
    assert "timestamp" in line


def test_werkzeug_access_lines_in_colour_lose_their_query_string_too() -> None:
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '127.0.0.1 - - [date] "%s" %s %s',
        ("\x1b[32mGET /auth/callback?code=secret-code&state=s1 HTTP/1.1\x1b[0m", "302", "-"),
        None,
    )
    assert WithoutQueryString().filter(record)
    assert "secret-code" not in record.getMessage()
    assert "/auth/callback HTTP/1.1" in record.getMessage()


def test_werkzeug_access_lines_lose_their_query_string() -> None:
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '127.0.0.1 - - [date] "%s" %s %s',
        ("GET /auth/callback?code=secret-code&state=s1 HTTP/1.1", "302", "-"),
        None,
    )
    assert WithoutQueryString().filter(record)
    assert record.getMessage() == '127.0.0.1 - - [date] "GET /auth/callback HTTP/1.1" 302 -'
