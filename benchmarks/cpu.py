"""The CPU time a server's processes use, from /proc: the portal's own cost per request, in absolute terms.

Throughput depends on everything else the machine runs at the time (the load generator, Redis,
other work on a shared machine); the CPU a process was given for the requests it served much
less so. So each throughput run also reads the server's CPU seconds (user and system, of
gunicorn's master and its workers, reaped workers included) before and after, and the report
gives the CPU per request beside the requests per second. Linux only, like the rest of the
benchmark.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["process_cpu_seconds", "tree_cpu_seconds"]

_PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK")
# Fields of /proc/<pid>/stat after the command name's closing parenthesis, counted from 0:
# 1 parent pid, 11 utime, 12 stime, 13 cutime, 14 cstime (children waited for), in clock ticks.
_PARENT, _UTIME, _STIME, _CUTIME, _CSTIME = 1, 11, 12, 13, 14


def _stat(pid: int) -> list[str] | None:
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None  # gone meanwhile
    # The command name may hold spaces and parentheses: the fields start after its last ")".
    return text.rsplit(")", 1)[1].split()


def process_cpu_seconds(pid: int, *, with_reaped_children: bool = False) -> float:
    """User and system CPU seconds of `pid` so far (and of its children it has waited for); 0.0 if gone."""
    fields = _stat(pid)
    return 0.0 if fields is None else _seconds(fields, with_reaped_children)


def _seconds(fields: list[str], with_reaped_children: bool) -> float:
    used = (_UTIME, _STIME, _CUTIME, _CSTIME) if with_reaped_children else (_UTIME, _STIME)
    return sum(int(fields[i]) for i in used) / _TICKS


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of `pid` and all its descendants, living or reaped (a gunicorn master and its workers)."""
    # One pass over /proc: every process's fields, then the tree is walked in memory.
    stats = {int(entry.name): _stat(int(entry.name)) for entry in _PROC.iterdir() if entry.name.isdigit()}
    children: dict[int, list[int]] = {}
    for child, fields in stats.items():
        if fields is not None:
            children.setdefault(int(fields[_PARENT]), []).append(child)
    total, waiting = 0.0, [pid]
    while waiting:
        fields = stats.get(current := waiting.pop())
        if fields is not None:
            # Each one's reaped children too: their CPU moved there when they were waited for.
            total += _seconds(fields, with_reaped_children=True)
            waiting.extend(children.get(current, ()))
    return total
