"""What `make bench` runs: a real redis-server, the upstream simulators, and gunicorn processes.

The simulators (dev IdP, FBS, debtor system) are the tests' own (`portal.devtools`), served on loopback
in this process by `tests.support.live`, so the benchmark can change their state while it runs: delay every
answer by L, add borrowers, make 1 % of the answers fail. The portal and the hello-world run as gunicorn
subprocesses with the shipped `gunicorn.conf.py` (2 workers × 4 threads), configured only through the
environment, as a deployment is (README, "Configure a real deployment").
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from portal.devtools import debtor_sim
from portal.devtools.demo import DEMO_LIBRARIES_FILE, DEV_FBS_PASSWORD, DEV_FBS_USERNAME
from portal.devtools.demo_data import CITIZENS, LYNGBY, DemoCitizen
from portal.devtools.fbs_sim import SimState, create_fbs_sim_app
from portal.devtools.idp import IdpClient, create_idp_app
from portal.services.preview_debts import fee_json, material_json
from tests.support.live import LiveServer, start_live_server
from tests.support.redis_server import free_port
from tests.support.stack import CLIENT_ID, CLIENT_SECRET, DEBTOR_API_KEY

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = ROOT / "gunicorn.conf.py"
PORTAL_APP = "portal:create_app()"
HELLO_APP = "benchmarks.hello:create_app()"
FLOOR_APP = "benchmarks.floor:create_app()"
START_LIMIT = 60.0  # seconds a gunicorn process may take to answer; a bound for a broken set-up only


# -- borrowers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Borrower:
    """A borrower of Lyngby the benchmark adds to the IdP and the FBS simulator."""

    sub: str
    cpr: str
    patron_id: int
    fees: int  # how many fees FBS holds


def bench_borrowers(prefix: str, count: int, fees: int, first_patron: int) -> list[Borrower]:
    """`count` borrowers with `fees` fees each; CPR numbers of a made-up birth date no demo citizen has."""
    return [
        Borrower(f"bench-{prefix}-{i}", f"1501{first_patron + i:06d}", first_patron + i, fees) for i in range(count)
    ]


def generated_fees(patron_id: int, count: int) -> list[dict[str, Any]]:
    """`count` FBS fees (raw FeeV2), half from before Lyngby's cut-off (paid here), half handed over."""
    fees = []
    for i in range(count):
        before_cutoff = i % 2 == 0
        created = f"{2019 if before_cutoff else 2023}-{i % 12 + 1:02d}-{i % 28 + 1:02d}"
        item = f"{3847000000 + patron_id * 10_000 + i}"
        amount = Decimal(20 + i % 9 * 5)
        fees.append(
            fee_json(
                patron_id * 10_000 + i,
                "fee",
                "Overskredet lånetid",
                str(amount),
                created,
                before_cutoff,
                created,
                [material_json(f"{51000000 + i}", item)],
            )
        )
    return fees


# -- upstream faults -----------------------------------------------------------------------------


class FaultInjection:
    """WSGI wrapper of the upstream simulators: while armed, every `every`-th answer is a 500.

    One counter across all upstreams it wraps, so "1 %" is of all upstream answers; counted, not
    random, so no run of failures in a row opens a circuit breaker by chance.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._every = 0
        self.calls = 0
        self.failed = 0

    def arm(self, every: int) -> None:
        with self._lock:
            self._every, self.calls, self.failed = every, 0, 0

    def disarm(self) -> None:
        with self._lock:
            self._every = 0

    def _fails(self) -> bool:
        with self._lock:
            if not self._every:
                return False
            self.calls += 1
            if self.calls % self._every:
                return False
            self.failed += 1
            return True

    def wrap(self, app: Callable[..., Any]) -> Callable[..., Any]:
        def faulty(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if self._fails():
                start_response("500 Internal Server Error", [("Content-Type", "application/json")])
                return [b'{"message": "injected failure (make bench)"}']
            result: Iterable[bytes] = app(environ, start_response)
            return result

        return faulty


# -- simulators ----------------------------------------------------------------------------------


@dataclass
class Simulators:
    idp: LiveServer
    fbs: LiveServer
    fbs_state: SimState
    debtor: LiveServer
    debtor_state: debtor_sim.SimState
    faults: FaultInjection

    def delay_answers(self, seconds: float) -> None:
        """Every FBS and debtor answer waits `seconds` (the upstream latency L)."""
        self.fbs_state.delay_answers(seconds)
        self.debtor_state.delay_answers(seconds)

    def fees_calls(self) -> int:
        return self.fbs_state.call_count("fees")

    def stop(self) -> None:
        for state in (self.fbs_state, self.debtor_state):
            state.wake.set()  # delayed answers stop waiting
        for server in (self.idp, self.fbs, self.debtor):
            server.stop()


def start_simulators(portal_urls: Sequence[str], borrowers: Sequence[Borrower]) -> Simulators:
    """The dev IdP (one client for all `portal_urls`), FBS and debtor simulators: the demo citizens and `borrowers`."""
    idp, fbs, debtor = start_live_server(), start_live_server(), start_live_server()
    fbs_state = SimState()
    debtor_state = debtor_sim.SimState(api_key=DEBTOR_API_KEY)
    citizens = list(CITIZENS)
    for borrower in borrowers:
        citizens.append(
            DemoCitizen(borrower.sub, "Bo Benchmark", borrower.cpr, "make bench", {LYNGBY: borrower.patron_id})
        )
        fbs_state.patrons_by_cpr[borrower.cpr] = {LYNGBY: borrower.patron_id}
        fbs_state.names[borrower.patron_id] = "Bo Benchmark"
        fbs_state.fees[borrower.patron_id] = generated_fees(borrower.patron_id, borrower.fees)
    faults = FaultInjection()
    fbs.set_app(faults.wrap(create_fbs_sim_app(fbs_state)))
    debtor.set_app(faults.wrap(debtor_sim.create_debtor_sim_app(debtor_state)))
    clients = [
        IdpClient(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            redirect_uris=[f"{url}/auth/callback" for url in portal_urls],
            post_logout_redirect_uris=[f"{url}/lyngby/" for url in portal_urls],
        )
    ]
    idp.set_app(create_idp_app(idp.url, clients, citizens))
    return Simulators(idp, fbs, fbs_state, debtor, debtor_state, faults)


# -- gunicorn ------------------------------------------------------------------------------------


@dataclass
class Gunicorn:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def portal_environment(port: int, tmp: Path, simulators: Simulators, redis_url: str, **env: str) -> dict[str, str]:
    """The variables of a deployment, pointing at Redis, the simulators and a fresh SQLite database."""
    return {
        "PORTAL_SECRET_KEY": secrets.token_urlsafe(32),
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        "PORTAL_DATABASE_URL": f"sqlite:///{tmp / 'portal.sqlite3'}",
        "PORTAL_CACHE_URL": redis_url,
        "PORTAL_QUEUE_URL": redis_url,
        # No card payment in the benchmark, so no payment worker in the web processes (as deployed).
        "PORTAL_QUEUE_WORKER": "external",
        "PORTAL_OIDC_ISSUER": simulators.idp.url,
        "PORTAL_OIDC_CLIENT_ID": CLIENT_ID,
        "PORTAL_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "PORTAL_FBS_BASE_URL": simulators.fbs.url,
        "PORTAL_FBS_USERNAME": DEV_FBS_USERNAME,
        "PORTAL_FBS_PASSWORD": DEV_FBS_PASSWORD,
        "PORTAL_DEBTOR_BASE_URL": simulators.debtor.url,
        "PORTAL_DEBTOR_API_KEY": DEBTOR_API_KEY,
        "PORTAL_LIBRARIES_FILE": str(DEMO_LIBRARIES_FILE),
        # The benchmark signs in more often than a person could; the limiter itself stays on.
        "PORTAL_RATE_LIMIT_SIGN_IN": "10000 per minute",
        "PORTAL_LOG_FORMAT": "json",
        **env,
    }


def _clean_environment() -> dict[str, str]:
    """This process's environment without settings of its own for the portal, gunicorn or a proxy."""
    prefixes = ("PORTAL_", "GUNICORN_", "WEB_CONCURRENCY", "PROMETHEUS_MULTIPROC_DIR")
    # Nor a proxy of this machine's: the simulators are on loopback (portal.providers.proxies).
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes) and not k.lower().endswith("_proxy")}


@contextmanager
def gunicorn(app: str, tmp: Path, env: dict[str, str] | None = None, port: int | None = None) -> Iterator[Gunicorn]:
    """`gunicorn -c gunicorn.conf.py <app>` on 127.0.0.1, ready (answers HTTP) when yielded; stopped afterwards."""
    port = port or free_port()
    tmp.mkdir(parents=True, exist_ok=True)
    log = tmp / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), app]
    environment = {**_clean_environment(), **(env or {}), "GUNICORN_BIND": f"127.0.0.1:{port}"}
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT)
    server = Gunicorn(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_until_serving(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_serving(server: Gunicorn) -> None:
    deadline = time.monotonic() + START_LIMIT
    with httpx.Client(timeout=5, trust_env=False) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise SystemExit(f"gunicorn stopped at start-up:\n{server.log_tail()}")
            try:
                client.get(f"{server.url}/")
                return
            except httpx.TransportError:
                time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer within {START_LIMIT:.0f} s:\n{server.log_tail()}")
