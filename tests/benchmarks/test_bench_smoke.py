"""`BENCH_QUICK=1 python -m benchmarks` runs to the end and writes every row (a smoke test: no timing asserted).

Needs wrk, which `make test`'s set-up installs with the other system packages.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from benchmarks.servers import ROOT

ROWS = (
    "first view after sign-in, both upstreams at L",
    "view after the cache expired",
    "warm overview throughput / bare Flask hello-world (same gunicorn)",
    "warm overview p99 at 50 connections",
    "FBS fees calls for 100 concurrent first views of one borrower",
    "static JS+CSS sent, brotli / gzip",
    "requests on a first visit / a repeat visit",
    "1,000 fees / 100 fees render time",
    "portal's own 5xx, 50 connections for 5 s with 1 % upstream errors",
    "server CPU per request: warm overview / hello-world (the median round)",
    "warm views per second per core of server CPU",
    "the floor (one Redis MGET, a page from memory) / hello-world: the most any Redis-session page gets",
    "warm overview / the floor: what the portal's own code costs",
    "p99 at 50 connections: hello-world / the floor",
)


def test_a_quick_run_writes_the_table_and_the_plot(tmp_path: Path) -> None:
    env = {**os.environ, "BENCH_QUICK": "1", "BENCH_OUTPUT": str(tmp_path), "BENCH_LATENCY": "0.05"}
    # A bound for a hung run only; a quick run takes well under a minute.
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    [page] = tmp_path.glob("*.md")
    text = page.read_text()
    for row in ROWS:
        assert f"| {row} |" in text, row
        assert row in done.stdout, row
    assert "upstream latency L**: 50 ms" in text
    plot = ET.parse(page.with_suffix(".svg"))  # well-formed
    assert "the floor" in ET.tostring(plot.getroot(), encoding="unicode")  # its latency curve is drawn
