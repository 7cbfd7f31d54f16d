"""Structured logs (structlog): JSON lines in production, readable lines in `make run`.

One formatter on the root logger (structlog's `ProcessorFormatter`) renders both structlog's
events and every stdlib `logging` record of the existing code (`log = logging.getLogger(__name__)`),
so all lines share one format and all carry the request id (`portal.observability.request_id`).
structlog's own events are the request line, written on every request: the formatter renders
them without the base class's copy of the record, and the scrubber takes plain values first —
the same lines, at less cost (`_Formatter`, `_scrub`).

Why structlog: it renders stdlib records and its own events through one processor chain, so
the request id and the CPR scrubber apply to every line without rewriting the existing
`logging` calls, and JSON output is one renderer away.

Personal data: the code never logs a CPR number, token or session id; `scrub_personal_data` is
the last defence, removing anything shaped like a CPR number from every line (message,
fields, traceback). Werkzeug's access log (the dev server of `make run`) prints the request
line with its query string — `/auth/callback?code=…&state=…` carries a sign-in code —, so
`WithoutQueryString` cuts query strings off those lines; SQLAlchemy's statement log (off
unless asked for by name) shows bound parameters, so `WithoutCpr` scrubs those.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from portal.observability.request_id import current_request_id

# DDMMYY-XXXX or DDMMYYXXXX, not inside a longer run of digits (a 12-digit number is no CPR).
CPR_PATTERN = re.compile(r"(?<!\d)\d{6}-?\d{4}(?!\d)")
CPR_REPLACEMENT = "[cpr removed]"
_HANDLER_MARK = "_portal_observability"


def scrub_text(text: str) -> str:
    """`text` with every CPR-shaped number replaced."""
    return CPR_PATTERN.sub(CPR_REPLACEMENT, text)


_sub_cpr = CPR_PATTERN.sub


def _scrub(value: Any) -> Any:
    # Exact types first: every line's fields are plain str, int and float, and this runs for each
    # field of each line. The general cases below give the same answers, only slower.
    kind = type(value)
    if kind is str:
        return _sub_cpr(CPR_REPLACEMENT, value)
    if kind is float or value is None:
        return value
    if kind is int:
        return _scrub_int(value)
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        return {key: _scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return _scrub_int(value)
    return value


def _scrub_int(value: int) -> Any:
    # A CPR number may also arrive as an int (leading zero lost: 9 or 10 digits), which the text
    # pattern only sees with its zero back. Any other int of up to ten digits comes out as its text
    # (`"status": "200"`): what the lines have always said.
    text = str(value)
    if not CPR_PATTERN.fullmatch(text.zfill(10)):
        return value
    return CPR_REPLACEMENT if len(text) == 9 else _sub_cpr(CPR_REPLACEMENT, text)


def scrub_personal_data(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    """structlog processor: anything that looks like a CPR number goes, in every field of the event."""
    return {key: _scrub(value) for key, value in event_dict.items()}


def add_request_id(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    """structlog processor: the current request's id, when there is one."""
    request_id = current_request_id()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


class WithoutQueryString(logging.Filter):
    """Cuts the query string off werkzeug's access-log request lines (they may carry codes or tokens),
    and CPR-shaped numbers out of their paths (anyone may ask for `/0101901111/`).

    On the logger itself, so every handler (a test runner's too) gets the cleaned line.
    """

    # Up to the space before "HTTP/1.1", the closing quote or the ANSI colour code werkzeug adds.
    _QUERY = re.compile(r"\?[^\s\"\x1b]*")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub_text(self._QUERY.sub("", message))
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is now (test runners swap it), like logging's last resort."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def _shared_processors() -> list[Processor]:
    return [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        add_request_id,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


class _Formatter(structlog.stdlib.ProcessorFormatter):
    """`ProcessorFormatter`, without its two extra passes over structlog's own events (the request line).

    For such a record the base class copies the `LogRecord` (so its changes stay off the one other
    handlers see) and then runs `logging.Formatter.format` over the rendered line, which with the
    format `%(message)s` and no traceback on the record gives that line back unchanged. Here the
    record is neither copied nor changed: the same processors render the same event to the same
    line (tests/observability/test_request_log.py compares both). Anything else — stdlib records,
    a record with a traceback or stack of its own — takes the base class's way.
    """

    def format(self, record: logging.LogRecord) -> str:
        event = record.msg
        logger = getattr(record, "_logger", None)
        name = getattr(record, "_name", None)
        if (
            type(event) is not dict
            or logger is None
            or name is None
            or self.logger is not None
            or self._fmt != "%(message)s"
            or record.exc_info
            or record.stack_info
        ):
            return super().format(record)
        event_dict: Any = {**event, "_record": record, "_from_structlog": True}
        for processor in self.processors:
            event_dict = processor(logger, name, event_dict)
        # A renderer that gave no text: the base class's way, which warns about it.
        return event_dict if type(event_dict) is str else super().format(record)


def _json_dumps(event_dict: EventDict, *, default: Callable[[Any], Any]) -> str:
    """`json.dumps(event_dict, default=default)`, the same text, without building an encoder per line."""
    return _json_encoder(default).encode(event_dict)


@functools.cache
def _json_encoder(default: Callable[[Any], Any]) -> json.JSONEncoder:
    # What json.dumps builds for a `default` of its own; an encoder keeps no state between lines.
    return json.JSONEncoder(default=default)


def make_formatter(log_format: str) -> logging.Formatter:
    """The formatter of every log line: `json` (one JSON object a line) or `console` (readable)."""
    renderer: Processor = (
        structlog.processors.JSONRenderer(serializer=_json_dumps)
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
    )
    return _Formatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # The traceback becomes text before the scrubber, so a CPR number in an exception's
            # message is removed from it too.
            structlog.processors.format_exc_info,
            scrub_personal_data,
            renderer,
        ],
    )


def configure_logging(log_format: str, level: str, stream: TextIO | None = None) -> logging.Handler:
    """Route every log record through one structlog formatter on the root logger; returns its handler.

    Idempotent: a handler installed by an earlier call is replaced, others (a test runner's) are
    left alone. `stream` None: the current `sys.stderr`.
    """
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler: logging.Handler = _StderrHandler() if stream is None else logging.StreamHandler(stream)
    handler.setFormatter(make_formatter(log_format))
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    _clean_third_party_lines()
    return handler


class WithoutCpr(logging.Filter):
    """Removes CPR-shaped numbers from a record's message (SQLAlchemy's lines show bound parameters)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


# SQLAlchemy logs every statement and its parameters at INFO — the root's level here — and
# each pool check-out at DEBUG: wire-level traces, only when someone asks for them by name.
_QUIET_LOGGERS = ("sqlalchemy.engine", "sqlalchemy.pool")


def _clean_third_party_lines() -> None:
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # On the loggers that make the records (filters do not apply to a child's records), so every
    # handler gets the cleaned line, a test runner's too.
    for name, kind in (("werkzeug", WithoutQueryString), ("sqlalchemy.engine.Engine", WithoutCpr)):
        logger = logging.getLogger(name)
        if not any(isinstance(f, kind) for f in logger.filters):
            logger.addFilter(kind())
