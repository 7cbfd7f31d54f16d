"""Structured logs (structlog): JSON lines in production, readable lines in `make run`.

One formatter on the root logger (structlog's `ProcessorFormatter`) renders both structlog's
events and every stdlib `logging` record of the existing code (`log = logging.getLogger(__name__)`),
so all lines share one format and all carry the request id (`portal.observability.request_id`).

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

import logging
import re
import sys
from collections.abc import Mapping
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


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        return {key: _scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool):
        # A CPR number may also arrive as an int (leading zero lost: 9 or 10 digits).
        return scrub_text(str(value)) if CPR_PATTERN.fullmatch(str(value).zfill(10)) else value
    return value


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


def make_formatter(log_format: str) -> logging.Formatter:
    """The formatter of every log line: `json` (one JSON object a line) or `console` (readable)."""
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
    )
    return structlog.stdlib.ProcessorFormatter(
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
