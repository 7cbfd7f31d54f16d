"""The portal starts under `flask run` and gunicorn, configured only by environment variables."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from portal.devtools.demo import DEMO_LIBRARIES_FILE, DEV_IDP_ISSUER, PORTAL_URL, loopback_direct
from portal.devtools.fbs_sim import SimState, create_fbs_sim_app
from portal.devtools.idp import IdpClient, create_idp_app
from tests.support.live import LiveServer, start_live_server
from tests.support.login import http_login
from tests.support.settings import REQUIRED

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(url: str, process: subprocess.Popen[str], seconds: float = 30) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}: {process.stderr.read() if process.stderr else ''}")
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"{url} did not answer within {seconds} s")


@pytest.fixture(scope="module")
def upstreams() -> Iterator[tuple[LiveServer, LiveServer]]:
    idp, fbs = start_live_server(), start_live_server()
    fbs.set_app(create_fbs_sim_app(SimState()))
    idp.set_app(create_idp_app(idp.url, [IdpClient("c", "s", ["http://127.0.0.1/auth/callback"], [])]))
    yield idp, fbs
    idp.stop()
    fbs.stop()


class Served:
    """A server process; `stderr` holds what it printed once the block ends."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
        self.process = subprocess.Popen(
            command, env={**clean, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        self.stderr = ""

    def __enter__(self) -> subprocess.Popen[str]:
        return self.process

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        _, self.stderr = self.process.communicate(timeout=15)


@pytest.mark.parametrize("server", ["gunicorn", "flask"])
def test_serves_with_environment_configuration(
    server: str, upstreams: tuple[LiveServer, LiveServer], tmp_path: Path
) -> None:
    idp, fbs = upstreams
    port = free_port()
    env = {
        **REQUIRED,
        "PORTAL_OIDC_ISSUER": idp.url,
        "PORTAL_FBS_BASE_URL": fbs.url,
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite3'}",
        "PORTAL_OIDC_CLIENT_ID": "c",
        "PORTAL_OIDC_CLIENT_SECRET": "s",
        "PORTAL_LIBRARIES_FILE": str(DEMO_LIBRARIES_FILE),
    }
    command = (
        [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "portal:create_app()"]
        if server == "gunicorn"
        else [str(BIN / "flask"), "--app", "portal", "run", "--port", str(port)]
    )
    with Served(command, env) as process:
        page = wait_for(f"http://127.0.0.1:{port}/lyngby/", process)
        assert page.status_code == 200
        assert "Lyngby-Taarbæk Bibliotekerne" in page.text
        login = httpx.get(f"http://127.0.0.1:{port}/lyngby/login")
        assert login.status_code == 302 and login.headers["location"].startswith(idp.url + "/")


def test_the_demo_needs_no_variables_at_all(tmp_path: Path) -> None:
    """`make run`'s command alone: demo libraries, dev IdP and both simulators included."""
    port = free_port()
    served = Served(
        [str(BIN / "flask"), "--app", "portal.devtools.demo:create_demo_app()", "run", "--port", str(port)],
        {"PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}"},
    )
    with served as process:
        page = wait_for(f"http://127.0.0.1:{port}/", process)
        assert page.status_code == 200 and "/lyngby/" in page.text and "/rodovre/" in page.text
        discovery = httpx.get(f"{DEV_IDP_ISSUER}/.well-known/openid-configuration", timeout=5)
        assert discovery.json()["issuer"] == DEV_IDP_ISSUER
    assert "Anne Andersen" in served.stderr, "the demo banner tells how to sign in"


def test_the_demo_reaches_its_dev_services_on_a_machine_with_a_proxy(tmp_path: Path) -> None:
    """A developer's proxy variables, set for the rest of the machine, do not take the demo's calls.

    Nothing listens at the proxy's address: any call sent there fails, and the sign-in with it.
    """
    # The demo's own port: the dev IdP sends the browser back to PORTAL_URL.
    port, dead_proxy = urlsplit(PORTAL_URL).port, f"http://127.0.0.1:{free_port()}"
    served = Served(
        [str(BIN / "flask"), "--app", "portal.devtools.demo:create_demo_app()", "run", "--port", str(port)],
        {
            "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
            "HTTP_PROXY": dead_proxy,
            "HTTPS_PROXY": dead_proxy,
            "no_proxy": "intranet.kommune.dk",  # read before NO_PROXY, by the portal and by requests alike
        },
    )
    with served as process:
        wait_for(f"http://127.0.0.1:{port}/", process)
        with httpx.Client(timeout=15, trust_env=False) as client:
            # The IdP's discovery and token calls (requests), FBS and the debtor system (the portal's client).
            page = http_login(client, f"http://127.0.0.1:{port}", "demo-anne")
        assert page.status_code == 200 and "469,75" in page.text


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ({}, {"NO_PROXY": "127.0.0.1,localhost,::1"}),
        ({"NO_PROXY": " .kommune.dk, localhost"}, {"NO_PROXY": ".kommune.dk,localhost,127.0.0.1,::1"}),
        (
            {"no_proxy": "a", "NO_PROXY": "b"},
            {"no_proxy": "a,127.0.0.1,localhost,::1", "NO_PROXY": "b,127.0.0.1,localhost,::1"},
        ),
        ({"NO_PROXY": "127.0.0.1,localhost,::1"}, {"NO_PROXY": "127.0.0.1,localhost,::1"}),
    ],
)
def test_the_demo_names_loopback_in_no_proxy(before: dict[str, str], after: dict[str, str]) -> None:
    environ = {"HTTPS_PROXY": "http://proxy.kommune.dk:3128", **before}
    loopback_direct(environ)
    assert environ == {"HTTPS_PROXY": "http://proxy.kommune.dk:3128", **after}
