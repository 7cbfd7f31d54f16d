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
    if fields is None:
        return 0.0
    used = (_UTIME, _STIME, _CUTIME, _CSTIME) if with_reaped_children else (_UTIME, _STIME)
    return sum(int(fields[i]) for i in used) / _TICKS


def _children(pid: int) -> list[int]:
    found = []
    for entry in _PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and int(fields[_PARENT]) == pid:
                found.append(int(entry.name))
    return found


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of `pid` and all its descendants, living or reaped (a gunicorn master and its workers)."""
    return process_cpu_seconds(pid, with_reaped_children=True) + sum(tree_cpu_seconds(c) for c in _children(pid))
