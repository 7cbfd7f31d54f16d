"""What `make bench` writes: the table (row, measured, target), the machine it ran on, and a latency plot.

Files go to `docs/benchmarks/<date>-<CPU model>-<N>-cores.md` and `.svg` beside it. The machine is
described by its CPU model and core count only: no host name, user or path goes into them.
"""

from __future__ import annotations

import html
import math
import os
import platform
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from benchmarks.wrk import PERCENTILES

OUTPUT_DIR = Path(__file__).resolve().parent.parent / "docs" / "benchmarks"


@dataclass(frozen=True)
class Row:
    name: str
    measured: str
    target: str  # "" for a row that only informs
    met: bool | None = None  # None: no target, or not measured


@dataclass(frozen=True)
class Series:
    """One curve of the latency plot: milliseconds by percentile."""

    name: str
    latency_ms: dict[int, Decimal]


def cpu_model(cpuinfo: str) -> str:
    """The first `model name` of /proc/cpuinfo's text, or the platform's processor name."""
    found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    name = found[1] if found else platform.processor() or platform.machine()
    return re.sub(r"\s+", " ", name.replace("(R)", "").replace("(TM)", "")).strip()


def machine_description() -> str:
    """E.g. "AMD EPYC, 2 cores": the CPU model and the cores this process may use."""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        cpuinfo = ""
    return f"{cpu_model(cpuinfo)}, {os.cpu_count() or 1} cores"


def file_stem(day: date, machine: str) -> str:
    """`2026-12-02-amd-epyc-2-cores`: the date and the machine, in characters safe in any file name."""
    slug = re.sub(r"[^a-z0-9]+", "-", machine.lower()).strip("-")
    return f"{day.isoformat()}-{slug}"


def text_table(rows: Sequence[Row]) -> str:
    """The table for the terminal."""
    widths = [
        max(len(getattr(r, col)) for r in [Row("row", "measured", "target"), *rows]) for col in ("name", "measured")
    ]
    lines = []
    for row in [Row("row", "measured", "target"), *rows]:
        mark = {True: "  ok", False: "  MISSED", None: ""}[row.met]
        lines.append(f"{row.name:<{widths[0]}}  {row.measured:>{widths[1]}}  {row.target}{mark}".rstrip())
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown(rows: Sequence[Row], facts: Sequence[tuple[str, str]], plot_name: str, notes: Sequence[str]) -> str:
    """The page written to docs/benchmarks/: facts of the run, the table, the plot."""
    lines = ["# `make bench`", ""]
    lines += [f"- **{_cell(name)}**: {_cell(value)}" for name, value in facts]
    lines += ["", "| row | measured | target | met |", "|---|---|---|---|"]
    for row in rows:
        met = {True: "yes", False: "**no**", None: ""}[row.met]
        lines.append(f"| {_cell(row.name)} | {_cell(row.measured)} | {_cell(row.target)} | {met} |")
    lines += ["", f"![latency percentiles]({plot_name})", ""]
    lines += [f"{note}" for note in notes]
    return "\n".join(lines).rstrip() + "\n"


# -- the plot ------------------------------------------------------------------------------------

_WIDTH, _HEIGHT = 640, 360
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 200, 36, 48
_COLOURS = ("#1f6fb2", "#c4401b", "#3a8f3a", "#7a4fa3")


def _nice_step(top: float) -> float:
    """A round tick step (1, 2 or 5 times a power of ten) giving at most eight ticks up to `top`."""
    magnitude = 10.0 ** math.floor(math.log10(top))
    return next(f * magnitude for f in (0.1, 0.2, 0.5, 1, 2, 5, 10) if top / (f * magnitude) <= 8)


def latency_svg(series: Sequence[Series], title: str) -> str:
    """A small line plot of latency (ms) by percentile, one line per series; plain SVG, no dependency."""
    top = max(float(v) for s in series for v in s.latency_ms.values()) * 1.1 or 1.0
    step = _nice_step(top)
    top = step * (int(top / step) + 1)
    plot_w, plot_h = _WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM

    def x(i: int) -> float:
        return _LEFT + plot_w * i / (len(PERCENTILES) - 1)

    def y(ms: float) -> float:
        return _TOP + plot_h * (1 - ms / top)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}" font-family="sans-serif" font-size="12">',
        f"<title>{html.escape(title)}</title>",
        f'<rect width="{_WIDTH}" height="{_HEIGHT}" fill="#fff"/>',
        f'<text x="{_LEFT}" y="20" font-size="14" font-weight="bold">{html.escape(title)}</text>',
    ]
    tick = 0.0
    while tick <= top + 1e-9:
        out.append(f'<line x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{_LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>')
        tick += step
    for i, percentile in enumerate(PERCENTILES):
        out.append(f'<text x="{x(i):.1f}" y="{_TOP + plot_h + 18}" text-anchor="middle">p{percentile}</text>')
    out.append(
        f'<text x="16" y="{_TOP + plot_h / 2:.1f}" transform="rotate(-90 16 {_TOP + plot_h / 2:.1f})" '
        'text-anchor="middle">latency (ms)</text>'
    )
    out.append(f'<text x="{_LEFT + plot_w / 2:.1f}" y="{_HEIGHT - 10}" text-anchor="middle">percentile</text>')
    for n, one in enumerate(series):
        colour = _COLOURS[n % len(_COLOURS)]
        points = [(x(i), y(float(one.latency_ms[p]))) for i, p in enumerate(PERCENTILES)]
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        out += [f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>' for px, py in points]
        legend_y = _TOP + 16 + n * 20
        out.append(
            f'<line x1="{_WIDTH - _RIGHT + 16}" x2="{_WIDTH - _RIGHT + 36}" y1="{legend_y - 4}" y2="{legend_y - 4}" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
        out.append(f'<text x="{_WIDTH - _RIGHT + 42}" y="{legend_y}">{html.escape(one.name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write_report(
    rows: Sequence[Row],
    facts: Sequence[tuple[str, str]],
    series: Sequence[Series],
    notes: Sequence[str],
    folder: Path,
    day: date,
    machine: str,
) -> Path:
    """Write `<stem>.md` and `<stem>.svg` into `folder`; returns the Markdown file's path."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = file_stem(day, machine)
    plot = folder / f"{stem}.svg"
    plot.write_text(latency_svg(series, f"Latency percentiles, 50 connections ({machine})"), encoding="utf-8")
    page = folder / f"{stem}.md"
    page.write_text(markdown(rows, facts, plot.name, notes), encoding="utf-8")
    return page
