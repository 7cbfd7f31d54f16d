"""`make bench` reads wrk's text report: on output captured from real wrk 4.1 runs (wrk_samples/), no timing asserted.

- hello.txt: the hello-world under gunicorn, 50 connections, `--latency`;
- not-found.txt: every answer a 404 (wrk's "Non-2xx or 3xx responses" line);
- status-counts.txt: with benchmarks/status_counts.lua (marker `data-stale`) against a server answering
  some 503s and 500s, a quarter of its bodies holding the marker, and some requests held past `--timeout`
  (wrk's "Socket errors" line, then the script's status and marked lines).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from benchmarks.wrk import STATUS_SCRIPT, Load, WrkOutputError, parse_wrk_output

SAMPLES = Path(__file__).with_name("wrk_samples")


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


def test_requests_per_second_count_and_duration() -> None:
    result = parse_wrk_output(sample("hello.txt"))
    assert result.requests_per_second == Decimal("2501.53")
    assert result.requests == 7543
    assert result.seconds == Decimal("3.02")


def test_the_latency_percentiles_in_milliseconds() -> None:
    result = parse_wrk_output(sample("hello.txt"))
    assert result.latency_ms == {50: Decimal("18.24"), 75: Decimal("24.00"), 90: Decimal("29.74"), 99: Decimal("39.14")}


def test_a_run_of_only_good_answers_has_no_errors() -> None:
    result = parse_wrk_output(sample("hello.txt"))
    assert result.non_2xx_3xx == 0
    assert result.socket_errors == {}
    assert result.statuses == {}  # no status_counts.lua in that run


def test_non_2xx_answers_are_counted() -> None:
    result = parse_wrk_output(sample("not-found.txt"))
    assert result.non_2xx_3xx == 5493 == result.requests


def test_socket_errors_and_the_scripts_status_counts() -> None:
    result = parse_wrk_output(sample("status-counts.txt"))
    assert result.socket_errors == {"connect": 0, "read": 0, "write": 0, "timeout": 6}
    assert result.statuses == {200: 606, 503: 69, 500: 7}
    assert result.non_2xx_3xx == 76 == result.count(lambda s: s >= 400)
    assert result.count() == 682 == result.requests
    assert result.count(lambda s: s == 503) == 69


def test_answers_holding_the_marker_are_counted_apart() -> None:
    assert parse_wrk_output(sample("status-counts.txt")).marked == {200: 134, 503: 34, 500: 1}
    assert parse_wrk_output(sample("hello.txt")).marked == {}


@pytest.mark.parametrize(
    ("printed", "milliseconds"),
    [
        ("850.12us", Decimal("0.85012")),
        ("43.97ms", Decimal("43.97")),
        ("1.20s", Decimal("1200")),
        ("1.50m", Decimal(90_000)),
    ],
)
def test_every_unit_wrk_prints_a_duration_in(printed: str, milliseconds: Decimal) -> None:
    text = sample("hello.txt").replace("     99%   39.14ms", f"     99%   {printed}")
    assert parse_wrk_output(text).latency_ms[99] == milliseconds


def test_a_run_without_latency_distribution_is_refused() -> None:
    text = "\n".join(line for line in sample("hello.txt").splitlines() if "%   " not in line)
    with pytest.raises(WrkOutputError, match="--latency"):
        parse_wrk_output(text)


def test_output_of_a_failed_run_is_refused() -> None:
    with pytest.raises(WrkOutputError):
        parse_wrk_output("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_the_command_asks_for_percentiles_and_counts_statuses_with_a_cookie_file(tmp_path: Path) -> None:
    plain = Load("http://127.0.0.1:1/lyngby/", seconds=20, headers=("Cookie: a=b",)).command("wrk")
    assert plain[:5] == ["wrk", "-t2", "-c50", "-d20s", "--latency"]
    assert plain[-3:] == ["-H", "Cookie: a=b", "http://127.0.0.1:1/lyngby/"]
    cookies = tmp_path / "cookies.txt"
    scripted = Load("http://127.0.0.1:1/lyngby/", seconds=60, cookie_file=cookies).command("wrk")
    assert scripted[-5:] == ["-s", str(STATUS_SCRIPT), "http://127.0.0.1:1/lyngby/", "--", str(cookies)]
    marked = Load("http://127.0.0.1:1/", seconds=60, cookie_file=cookies, marker="data-stale").command("wrk")
    assert marked[-3:] == ["--", str(cookies), "data-stale"]
    assert STATUS_SCRIPT.is_file()
