"""The load generator of `make bench`: runs wrk and reads its report.

wrk (Debian's package, installed by `make bench-packages`) is a C load generator with its own event loop,
so the numbers are the server's, not a Python client's. Its report is text; `parse_wrk_output` reads the
parts the benchmark uses: requests per second, the latency percentiles of `--latency`, the non-2xx/3xx
count, socket errors, and the per-status counts `status_counts.lua` prints after the report (all
answers, and those whose body holds a marker).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

STATUS_SCRIPT = Path(__file__).with_name("status_counts.lua")
PERCENTILES = (50, 75, 90, 99)
# wrk prints durations with these units (its format_time_us).
_UNIT_MS = {"us": Decimal("0.001"), "ms": Decimal(1), "s": Decimal(1000), "m": Decimal(60_000), "h": Decimal(3_600_000)}
_DURATION = r"([\d.]+)(us|ms|s|m|h)"
_PERCENTILE = re.compile(rf"^\s*(\d+(?:\.\d+)?)%\s+{_DURATION}\s*$", re.MULTILINE)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)\s*$", re.MULTILINE)
_TOTAL = re.compile(rf"^\s*(\d+) requests in {_DURATION},", re.MULTILINE)
_NON_2XX = re.compile(r"^\s*Non-2xx or 3xx responses:\s+(\d+)\s*$", re.MULTILINE)
_SOCKET = re.compile(
    r"^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)\s*$",
    re.MULTILINE,
)
_STATUS = re.compile(r"^status (\d{3}) (\d+)\s*$", re.MULTILINE)
_MARKED = re.compile(r"^marked (\d{3}) (\d+)\s*$", re.MULTILINE)


class WrkOutputError(ValueError):
    """wrk's output lacks a part the benchmark needs (a failed run, or another wrk version)."""


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: Decimal
    requests: int
    seconds: Decimal
    latency_ms: dict[int, Decimal]  # percentile -> milliseconds
    non_2xx_3xx: int = 0
    socket_errors: dict[str, int] = field(default_factory=dict)  # connect, read, write, timeout
    statuses: dict[int, int] = field(default_factory=dict)  # only with status_counts.lua
    marked: dict[int, int] = field(default_factory=dict)  # of those, answers holding the marker, by status

    def count(self, predicate: Callable[[int], bool] = lambda _: True) -> int:
        """Answers counted by status_counts.lua whose status satisfies `predicate` (all by default)."""
        return sum(n for status, n in self.statuses.items() if predicate(status))


def _milliseconds(value: str, unit: str) -> Decimal:
    return Decimal(value) * _UNIT_MS[unit]


def parse_wrk_output(text: str) -> WrkResult:
    """The figures of one wrk report (run with `--latency`); raises WrkOutputError when a part is missing."""
    rate = _RATE.search(text)
    total = _TOTAL.search(text)
    if rate is None or total is None:
        raise WrkOutputError("no 'Requests/sec' or 'N requests in' line in wrk's output")
    latency = {int(Decimal(p)): _milliseconds(v, u) for p, v, u in _PERCENTILE.findall(text)}
    missing = [p for p in PERCENTILES if p not in latency]
    if missing:
        raise WrkOutputError(f"no latency percentiles {missing} in wrk's output (run it with --latency)")
    non_2xx = _NON_2XX.search(text)
    socket = _SOCKET.search(text)
    errors = (
        dict(zip(("connect", "read", "write", "timeout"), map(int, socket.groups()), strict=True)) if socket else {}
    )
    return WrkResult(
        requests_per_second=Decimal(rate[1]),
        requests=int(total[1]),
        seconds=_milliseconds(total[2], total[3]) / 1000,
        latency_ms=latency,
        non_2xx_3xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=errors,
        statuses={int(code): int(n) for code, n in _STATUS.findall(text)},
        marked={int(code): int(n) for code, n in _MARKED.findall(text)},
    )


@dataclass(frozen=True)
class Load:
    """One wrk run: `connections` open connections for `seconds` against `url`."""

    url: str
    seconds: int
    connections: int = 50
    threads: int = 2
    headers: tuple[str, ...] = ()
    cookie_file: Path | None = None  # rotate these cookies and count statuses (status_counts.lua)
    marker: str | None = None  # with a cookie file: also count the answers whose body holds this text

    def command(self, wrk: str = "wrk") -> list[str]:
        args = [
            wrk,
            f"-t{self.threads}",
            f"-c{self.connections}",
            f"-d{self.seconds}s",
            "--latency",
            "--timeout",
            "10s",
        ]
        for header in self.headers:
            args += ["-H", header]
        if self.cookie_file is not None:
            marker = [self.marker] if self.marker else []
            return [*args, "-s", str(STATUS_SCRIPT), self.url, "--", str(self.cookie_file), *marker]
        return [*args, self.url]


def run_wrk(load: Load) -> WrkResult:
    """Run wrk to the end and read its report (wrk stops itself after `load.seconds`)."""
    binary = shutil.which("wrk")
    if binary is None:
        raise SystemExit("wrk is not installed: run `make bench`, which installs it")
    done = subprocess.run(load.command(binary), capture_output=True, text=True, timeout=load.seconds + 60, check=False)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    return parse_wrk_output(done.stdout)
