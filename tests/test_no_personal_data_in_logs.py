"""No CPR number, session id or token in the logs of a full run: every demo borrower, every kind of page.

Representative flows run against the live stack (real OIDC sign-in at the dev IdP, real HTTP to
the FBS and debtor simulators) with every logger at DEBUG — werkzeug's access log included,
which prints each request line and, unless cut off, its query string (`/auth/callback?code=…`).
Both the raw records (what any handler would get) and the lines the portal writes
(`PORTAL_LOG_FORMAT=json`) are searched. The test's own HTTP client logs too (its DEBUG lines
print the portal's Set-Cookie); it runs in the main thread, and its records are left out.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from werkzeug.serving import WSGIRequestHandler

from portal.devtools.demo_data import CITIZENS, LIBRARY_LOGIN_USERS
from portal.observability.logs import configure_logging
from tests.support.login import http_login
from tests.support.stack import Stack, start_stack

COOKIE = "gebyrportal_session"
# What a redirect's query string carries that is a secret: the sign-in code, the state, the ID token.
SECRET_PARAMETERS = frozenset({"code", "state", "id_token_hint"})
CPR_NUMBERS = {c.cpr for c in CITIZENS if c.cpr} | {u.cpr for u in LIBRARY_LOGIN_USERS if u.cpr}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = start_stack(Path(tmp_path_factory.mktemp("no-personal-data")))
    stack.app.config["SESSION_COOKIE_SECURE"] = False  # httpx sends no Secure cookies to http://
    # The test stack serves quietly; here the portal gets werkzeug's own handler and its access log.
    stack.portal.server.RequestHandlerClass = WSGIRequestHandler
    yield stack
    stack.stop()


class Secrets:
    """Every session id, sign-in code, state and ID token the client saw."""

    def __init__(self) -> None:
        self.values: set[str] = set()

    def hook(self, response: httpx.Response) -> None:
        location = response.headers.get("location")
        if location:
            query = parse_qsl(urlsplit(location).query)
            self.values |= {value for key, value in query if key in SECRET_PARAMETERS}
        cookie = response.cookies.get(COOKIE)
        if cookie:
            self.values.add(cookie)


def _flows(stack: Stack, secrets: Secrets) -> None:
    assert stack.debtor is not None
    for citizen in CITIZENS:
        with httpx.Client(timeout=10, event_hooks={"response": [secrets.hook]}) as client:
            http_login(client, stack.url, citizen.sub)
            client.get(f"{stack.url}/lyngby/")
            client.get(f"{stack.url}/rodovre/?lang=en")
            client.get(f"{stack.url}/api/v1/libraries/lyngby/overview")
            client.get(f"{stack.url}/api/v1/libraries/lyngby/total")
            # Failing upstreams: FBS answers 500, the debtor system garbage, both fresh (no cache).
            stack.app.extensions["portal.upstreams"].cache.forget_patrons(citizen.patrons)
            stack.fbs_state.fail_next(1, status=500)
            client.get(f"{stack.url}/lyngby/")
            stack.debtor_state.fail_next(1)
            stack.app.extensions["portal.upstreams"].cache.forget_patrons(citizen.patrons)
            client.get(f"{stack.url}/lyngby/")
            # Someone puts a CPR number where it does not belong: in the path and the query.
            client.get(f"{stack.url}/{citizen.cpr or '0101901111'}/?cpr={citizen.cpr}")
            client.get(f"{stack.url}/lyngby/logout")
            client.post(f"{stack.url}/lyngby/logout", headers={"Origin": stack.url})
            client.get(f"{stack.url}/lyngby/")


def test_no_cpr_number_session_id_or_token_in_any_log_line(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    formatted = io.StringIO()
    handler = configure_logging("json", "DEBUG", stream=formatted)
    main = threading.main_thread().ident
    handler.addFilter(lambda record: record.thread != main)
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        logger = logging.getLogger(name)
        if logger.level > logging.DEBUG:
            caplog.set_level(logging.DEBUG, logger=name)
    secrets = Secrets()
    try:
        _flows(stack, secrets)
    finally:
        configure_logging("console", "INFO")
    raw = "\n".join(
        logging.Formatter("%(name)s %(message)s").format(record) for record in caplog.records if record.thread != main
    )
    written = formatted.getvalue()
    # The capture saw what it is meant to: access lines, upstream calls, the failures.
    assert '"GET /lyngby/ HTTP/1.1" 200' in raw
    assert "GET /auth/callback" in raw  # werkzeug colours redirects
    assert "httpx HTTP Request: POST" in raw
    assert "fbs:" in raw and "debtor" in raw
    assert len(secrets.values) > len(CITIZENS)
    for text in (raw, written):
        for cpr in CPR_NUMBERS:
            assert cpr not in text
            assert f"{cpr[:6]}-{cpr[6:]}" not in text
        for secret in secrets.values:
            assert secret not in text
