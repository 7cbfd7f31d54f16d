"""The throughput rows come from hello-world and the warm overview measured in turns: the median round stands."""

from __future__ import annotations

from decimal import Decimal

from benchmarks.__main__ import Measured
from benchmarks.wrk import WrkResult


def run(rps: int, p99: int) -> WrkResult:
    return WrkResult(Decimal(rps), rps * 10, Decimal(10), {50: Decimal(p99 // 2), 99: Decimal(p99)})


def test_the_round_with_the_median_ratio_stands_for_the_throughput() -> None:
    measured = Measured()
    # A slow moment of the machine (round 2) slows both runs of that round alike.
    measured.rounds = [(run(3000, 40), run(1200, 90)), (run(1500, 80), run(450, 200)), (run(2800, 45), run(1260, 85))]
    assert measured.ratios == [Decimal("0.40"), Decimal("0.30"), Decimal("0.45")]
    hello, overview = measured.median_round
    assert (hello.requests_per_second, overview.requests_per_second) == (Decimal(3000), Decimal(1200))


def test_one_round_is_its_own_median() -> None:
    measured = Measured()
    measured.rounds = [(run(2000, 50), run(1000, 100))]
    assert measured.ratios == [Decimal("0.50")] and measured.median_round == measured.rounds[0]


def test_the_cpu_row_is_the_median_round_s() -> None:
    measured = Measured()
    measured.rounds = [(run(3000, 40), run(1200, 90)), (run(1500, 80), run(450, 200)), (run(2800, 45), run(1260, 85))]
    measured.cpu = [(0.0006, 0.0031), (0.0009, 0.0050), (0.0007, 0.0029)]
    assert measured.median_index == 0 and measured.cpu[measured.median_index] == (0.0006, 0.0031)
