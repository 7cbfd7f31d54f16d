"""A database that cannot be reached: 503 with Retry-After and a page that says so, never a 500 or a figure.

The outage is real: the test's PostgreSQL database stops accepting connections and its open
ones are ended (as in a restart or failover), then accepts them again. Each refusal is paired
with the same request succeeding once the database is back, so the test shows the cause.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from sqlalchemy import create_engine, make_url, text

from portal import create_app
from tests.support.cms_page import libraries_with_embedding
from tests.support.portals import portal_settings_for

CMS = "https://www.lyngbybib.dk"
MakePortal = Callable[[], Flask]
TITLE = "Portalen er ikke tilgængelig lige nu"
LYNGBY_PHONE = "45 97 35 00"  # Lyngby's contact block (demo libraries file)


class Outage:
    """Switches the test's database between refusing and accepting connections."""

    def __init__(self, server_url: str, database_url: str) -> None:
        self._admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
        name = make_url(database_url).database
        assert name is not None
        self._name = name

    def start(self) -> None:
        with self._admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{self._name}" ALLOW_CONNECTIONS false'))
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                {"name": self._name},
            )

    def end(self) -> None:
        with self._admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{self._name}" ALLOW_CONNECTIONS true'))

    def close(self) -> None:
        self.end()
        self._admin.dispose()


@pytest.fixture
def outage(postgres: str, database_url: str) -> Iterator[Outage]:
    found = Outage(postgres, database_url)
    yield found
    found.close()


@pytest.fixture
def make_portal(database_url: str, apps: list[Flask], tmp_path: Path) -> MakePortal:
    libraries = libraries_with_embedding(tmp_path, [CMS])

    def make() -> Flask:
        settings = portal_settings_for(
            "http://127.0.0.1:9",
            database=tmp_path / "unused.sqlite3",
            libraries=libraries,
            secret_key="test-secret-key-" + "x" * 24,
            PORTAL_DATABASE_URL=database_url,
        )
        app = create_app(settings)
        apps.append(app)
        return app

    return make


def database_errors() -> float:
    return REGISTRY.get_sample_value("portal_database_errors_total") or 0.0


def page(client: FlaskClient, path: str) -> tuple[int, str, dict[str, str]]:
    answer = client.get(path, query_string={"parent": f"{CMS}/gebyrer"})
    return answer.status_code, answer.get_data(as_text=True), dict(answer.headers)


def test_the_citizen_page_answers_503_while_the_database_is_away(make_portal: MakePortal, outage: Outage) -> None:
    client = make_portal().test_client()
    assert page(client, "/lyngby/")[0] == 200  # read once: this process knows the library
    before = database_errors()
    outage.start()
    status, body, headers = page(client, "/lyngby/")
    assert status == 503 and headers["Retry-After"] == "30"
    assert TITLE in body and "Prøv igen om lidt" in body
    assert LYNGBY_PHONE in body  # whom to ask, from what this process read before the outage
    assert " kr" not in body
    assert database_errors() == before + 1
    outage.end()
    status, body, _ = page(client, "/lyngby/")
    assert status == 200 and TITLE not in body


def test_the_embedded_page_answers_503_inside_the_library_frame(make_portal: MakePortal, outage: Outage) -> None:
    client = make_portal().test_client()
    assert page(client, "/lyngby/embed")[0] == 200
    outage.start()
    status, body, headers = page(client, "/lyngby/embed")
    assert status == 503 and headers["Retry-After"] == "30"
    # Under the portal's own policy (frame-ancestors 'none') the CMS page would show an empty frame.
    assert f"frame-ancestors {CMS}" in headers["Content-Security-Policy"]
    assert 'class="gp-embedded"' in body and TITLE in body
    outage.end()
    assert page(client, "/lyngby/embed")[0] == 200


def test_the_api_and_the_library_list_answer_503(make_portal: MakePortal, outage: Outage) -> None:
    client = make_portal().test_client()
    normal_api = client.get("/api/v1/libraries/lyngby/total").status_code
    assert normal_api != 503 and page(client, "/")[0] == 200
    outage.start()
    api = client.get("/api/v1/libraries/lyngby/total")
    assert api.status_code == 503 and api.get_json()["error"] == "service_unavailable"
    assert api.headers["Retry-After"] == "30"
    status, body, _ = page(client, "/")
    assert status == 503 and TITLE in body
    outage.end()
    assert client.get("/api/v1/libraries/lyngby/total").status_code == normal_api
    assert page(client, "/")[0] == 200


def test_a_process_that_never_read_the_library_still_answers_503(make_portal: MakePortal, outage: Outage) -> None:
    make_portal()  # loads the libraries into the database
    client = make_portal().test_client()  # a second process: nothing read yet
    outage.start()
    status, body, _ = page(client, "/lyngby/")
    assert status == 503 and TITLE in body
    assert LYNGBY_PHONE not in body  # no contact it could vouch for (the first test: one it could)
    outage.end()
    status, body, _ = page(client, "/lyngby/")
    assert status == 200 and TITLE not in body
