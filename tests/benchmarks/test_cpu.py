"""The server CPU of a throughput run (`benchmarks.cpu`): a process's own, its children's, and reaped ones'."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from benchmarks.cpu import process_cpu_seconds, tree_cpu_seconds

# A child that uses 0.3 s of CPU, says so, and waits to be told to end (a line on stdin).
BURN = (
    "import sys, time\n"
    "t = time.process_time()\n"
    "while time.process_time() - t < 0.3: pass\n"
    "print('done', flush=True)\n"
    "sys.stdin.readline()\n"
)


def burn(seconds: float) -> None:
    started = time.process_time()
    while time.process_time() - started < seconds:
        pass


def test_a_process_s_cpu_grows_by_what_it_used() -> None:
    before = process_cpu_seconds(os.getpid())
    burn(0.3)
    # /proc counts in clock ticks (10 ms here): well within a tenth of a second of what was used.
    assert 0.2 <= process_cpu_seconds(os.getpid()) - before <= 1.0


def test_a_process_that_is_gone_counts_nothing() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert process_cpu_seconds(child.pid) == 0.0


def test_the_tree_counts_living_children_and_reaped_ones() -> None:
    # A parent that starts the burning child, says when it lives, and when it has been waited for.
    parent_code = (
        "import subprocess, sys\n"
        f"child = subprocess.Popen([sys.executable, '-c', {BURN!r}], stdin=subprocess.PIPE, stdout=subprocess.PIPE)\n"
        "child.stdout.readline()\n"
        "print('living', flush=True)\n"
        "sys.stdin.readline()\n"
        "child.communicate(b'end\\n')\n"
        "print('reaped', flush=True)\n"
        "sys.stdin.readline()\n"
    )
    command = [sys.executable, "-c", parent_code]
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as parent:
        assert parent.stdin is not None and parent.stdout is not None
        assert parent.stdout.readline().strip() == "living"
        own = process_cpu_seconds(parent.pid)
        living = tree_cpu_seconds(parent.pid)
        assert living - own >= 0.2  # the child's burn, counted while it runs
        parent.stdin.write("go\n")
        parent.stdin.flush()
        assert parent.stdout.readline().strip() == "reaped"
        assert process_cpu_seconds(parent.pid, with_reaped_children=True) - own >= 0.2  # now the parent's
        assert tree_cpu_seconds(parent.pid) >= living - 0.05  # the tree lost nothing on the way
        parent.stdin.write("end\n")
        parent.stdin.flush()
