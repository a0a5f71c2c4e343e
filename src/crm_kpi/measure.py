"""Run a command and measure it: exit code, wall seconds, and the peak resident memory of its process tree.

The peak is sampled from /proc (every `interval` seconds, the sum of VmRSS over the process and all of its
descendants), not taken from the kernel's ru_maxrss: a child forked from a large process (the benchmark,
holding the generated data) and then exec'ed inherits the parent's peak in ru_maxrss, so every step
reported the parent's ~2.4 GiB. Sampling misses a peak shorter than the interval; it is a measurement of
the step's own processes. Where /proc does not exist (macOS, Windows) the peak is 0.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import IO

PROC = Path("/proc")


def _rss_kib(pid: int) -> int:
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    """Direct children of pid, from /proc/<pid>/task/*/children; none once pid has exited (a process of the
    tree can exit between two reads: its /proc folder is gone)."""
    found: list[int] = []
    try:
        tasks = list((PROC / str(pid) / "task").glob("*/children"))
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(child) for child in task.read_text().split()]
        except (OSError, ValueError):
            continue
    return found


def tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and all of its descendants now, in KiB."""
    total, pending, seen = 0, [pid], set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        total += _rss_kib(current)
        pending += _children(current)
    return total


def run_measured(
    command: list[str],
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    interval: float = 0.1,
    output: Path | None = None,
) -> tuple[int, float, float]:
    """Run a command (its output appended to `output`, else on the terminal); return its exit code, wall seconds
    and its process tree's peak RSS in MiB."""
    with contextlib.ExitStack() as stack:
        sink = stack.enter_context(output.open("ab")) if output is not None else None
        return _run_measured(command, env, cwd, interval, sink)


def _run_measured(
    command: list[str], env: dict[str, str] | None, cwd: Path | None, interval: float, sink: IO[bytes] | None
) -> tuple[int, float, float]:
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=sink, stderr=sink)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_kib(process.pid))
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    if PROC.is_dir() and os.name == "posix":
        sampler.start()
    returncode = process.wait()
    done.set()
    if sampler.is_alive():
        sampler.join()
    return returncode, time.perf_counter() - started, peak / 1024
