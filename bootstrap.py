#!/usr/bin/env python3
"""Set up the project's virtual environment (.venv, pinned by requirements.lock) and run a crm-kpi command.

    python3 bootstrap.py run     # set up, then build the demo warehouse, validate it, print a summary
    python3 bootstrap.py test    # set up, then run the whole test suite

Needs only Python 3.11 and the package index. Re-running skips the install when nothing changed.
Any arguments after the command go to `crm-kpi` (see `.venv/bin/crm-kpi --help`).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
LOCK = ROOT / "requirements.lock"
STAMP = VENV / ".crm-kpi-installed"


def _bin(name: str) -> Path:
    return VENV / ("Scripts" if os.name == "nt" else "bin") / name


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for path in (LOCK, ROOT / "pyproject.toml"):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_environment() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - bootstrap runs under any python3
        sys.exit(f"Python 3.11 or newer is needed, this is {sys.version.split()[0]}")
    if not _bin("python").exists():
        print(f"[bootstrap] creating the virtual environment {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if STAMP.exists() and STAMP.read_text() == _fingerprint():
        return
    python = str(_bin("python"))
    print("[bootstrap] installing pinned dependencies from requirements.lock (a minute or two)", flush=True)
    pip = [python, "-m", "pip", "--disable-pip-version-check"]
    subprocess.check_call([*pip, "install", "--quiet", "-r", str(LOCK)])
    subprocess.check_call([*pip, "install", "--quiet", "--no-deps", "-e", str(ROOT)])
    STAMP.write_text(_fingerprint())


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0 if argv else 2
    ensure_environment()
    return subprocess.call([str(_bin("crm-kpi")), *argv], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
