"""What `make bench` writes (benchmarks/report.py) and its upstream fault injection (benchmarks/servers.py).

No server is started and nothing is timed: the files' content and names, and the counting of faults.
"""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks.report import Row, Series, cpu_model, file_stem, latency_svg, markdown, text_table, write_report
from benchmarks.servers import FaultInjection, bench_borrowers, generated_fees

CPUINFO = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC(TM)  7B13 64-Core Processor\n"
SERIES = [
    Series("hello-world", {50: Decimal("18.2"), 75: Decimal(24), 90: Decimal("29.7"), 99: Decimal("39.1")}),
    Series("warm overview", {50: Decimal(210), 75: Decimal(260), 90: Decimal(320), 99: Decimal(470)}),
]
ROWS = [
    Row("first view after sign-in, both upstreams at L", "1.11 × L", "≤ 1.2 × L", True),
    Row("warm overview p99 at 50 connections", "470.9 ms", "≤ 30 ms", False),
    Row("requests/s: warm overview / hello-world", "216 / 2230", ""),
]


def test_the_machine_is_its_cpu_model_and_the_file_name_says_nothing_else() -> None:
    assert cpu_model(CPUINFO) == "AMD EPYC 7B13 64-Core Processor"
    assert file_stem(date(2026, 12, 2), "AMD EPYC 7B13 64-Core Processor, 2 cores") == (
        "2026-12-02-amd-epyc-7b13-64-core-processor-2-cores"
    )


def test_the_page_has_every_row_with_its_target_and_whether_it_was_met() -> None:
    page = markdown(ROWS, [("upstream latency L", "150 ms")], "plot.svg", ["A note."])
    assert "| first view after sign-in, both upstreams at L | 1.11 × L | ≤ 1.2 × L | yes |" in page
    assert "| warm overview p99 at 50 connections | 470.9 ms | ≤ 30 ms | **no** |" in page
    assert "| requests/s: warm overview / hello-world | 216 / 2230 |  |  |" in page
    assert "- **upstream latency L**: 150 ms" in page and "![latency percentiles](plot.svg)" in page


def test_the_terminal_table_marks_missed_targets() -> None:
    table = text_table(ROWS).splitlines()
    assert table[0].startswith("row") and len(table) == 1 + len(ROWS)
    assert table[1].endswith("ok") and table[2].endswith("MISSED") and table[3].endswith("216 / 2230")


def test_the_plot_is_svg_with_a_line_and_a_legend_entry_per_series() -> None:
    root = ET.fromstring(latency_svg(SERIES, "Latency <percentiles>"))
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    lines = root.findall(f"{ns}polyline")
    assert len(lines) == 2
    assert all(len(line.attrib["points"].split()) == 4 for line in lines)  # p50, p75, p90, p99
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert {"hello-world", "warm overview", "p50", "p99", "Latency <percentiles>"} <= set(texts)
    # The slower series is drawn higher up (smaller y) at p99 than the faster one.
    p99_y = [float(line.attrib["points"].split()[-1].split(",")[1]) for line in lines]
    assert p99_y[1] < p99_y[0]


def test_the_files_hold_no_host_name_or_path(tmp_path: Path) -> None:
    page = write_report(ROWS, [("date", "2026-12-02")], SERIES, [], tmp_path, date(2026, 12, 2), "AMD EPYC, 2 cores")
    assert page.name == "2026-12-02-amd-epyc-2-cores.md"
    assert page.with_suffix(".svg").is_file()
    for written in (page, page.with_suffix(".svg")):
        text = written.read_text()
        assert socket.gethostname() not in text and str(tmp_path) not in text


def _call(app: Any) -> str:
    statuses: list[str] = []
    body = b"".join(app({"PATH_INFO": "/"}, lambda status, headers: statuses.append(status)))
    assert body
    return statuses[0]


def test_armed_faults_fail_exactly_every_nth_answer_of_all_wrapped_upstreams() -> None:
    faults = FaultInjection()

    def upstream(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [b"{}"]

    fbs, debtor = faults.wrap(upstream), faults.wrap(upstream)
    assert [_call(fbs) for _ in range(3)] == ["200 OK"] * 3  # disarmed: nothing fails, nothing counted
    faults.arm(4)
    statuses = [_call(fbs if i % 2 else debtor) for i in range(12)]
    assert [i for i, s in enumerate(statuses) if s.startswith("500")] == [3, 7, 11]
    assert (faults.calls, faults.failed) == (12, 3)
    faults.disarm()
    assert _call(fbs) == "200 OK" and faults.failed == 3


def test_generated_borrowers_and_fees_are_distinct_and_split_by_the_cutoff() -> None:
    borrowers = bench_borrowers("errors", 3, 6, 720_000)
    assert len({b.cpr for b in borrowers}) == 3 and all(len(b.cpr) == 10 and b.cpr.isdigit() for b in borrowers)
    fees = generated_fees(720_000, 100)
    assert len({fee["feeId"] for fee in fees}) == 100
    assert sum(fee["payableByClient"] for fee in fees) == 50
