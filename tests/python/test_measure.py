"""The benchmark's peak memory is the step's own process tree, not the benchmark process it was forked from."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crm_kpi.measure import PROC, _children, run_measured

CHILD = (
    "import subprocess, sys, time\n"
    "x = bytearray(150 * 1024 * 1024)\n"
    "for i in range(0, len(x), 4096): x[i] = 1\n"
    # a grandchild holding 100 MiB at the same time: the tree's peak is the sum
    "code = 'y = bytearray(100 * 1024 * 1024)\\nfor i in range(0, len(y), 4096): y[i] = 1\\n'\n"
    "code += 'import time; time.sleep(1)'\n"
    "subprocess.run([sys.executable, '-c', code], check=True)\n"
)


@pytest.mark.skipif(not PROC.is_dir(), reason="the peak is sampled from /proc")
def test_peak_is_the_childs_tree_not_the_parents() -> None:
    held = bytearray(600 * 1024 * 1024)  # the parent holds 600 MiB, as the benchmark holds its data
    for index in range(0, len(held), 4096):
        held[index] = 1
    returncode, seconds, peak_mib = run_measured([sys.executable, "-c", CHILD])
    assert returncode == 0 and seconds > 1
    assert 250 <= peak_mib < 450, peak_mib  # 150 + 100 MiB and two interpreters; not the parent's 600


def test_a_process_that_exits_while_its_tree_is_read_has_no_children(monkeypatch: pytest.MonkeyPatch) -> None:
    """/proc/<pid>/task can vanish between the existence check and the listing (the process exited): the
    sampler thread must not die of it, or the rest of the step goes unmeasured."""

    def vanished(self: Path, pattern: str) -> Iterator[Path]:
        raise FileNotFoundError(2, "No such file or directory", str(self))

    monkeypatch.setattr(Path, "glob", vanished)
    assert _children(1) == []
