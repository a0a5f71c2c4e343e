#!/usr/bin/env python3
"""Set up the project's virtual environment (.venv, pinned by requirements.lock) and run a crm-kpi command.

    python3 bootstrap.py run     # set up, then build the demo warehouse, validate it, print a summary
    python3 bootstrap.py test    # set up, then run the whole test suite

Needs only Python 3.11 and the package index. Re-running skips the install when nothing changed. Where uv is
on the PATH it installs the pins (`uv pip sync`, many times faster than pip on the same lock); else pip does.
Any arguments after the command go to `crm-kpi` (see `.venv/bin/crm-kpi --help`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
# The runtime pins (`pip freeze` of `.[semantic]`: the warehouse and MetricFlow's `mf`), and the pins of
# everything the test suite needs on top (test tools, PostgreSQL and Spark adapters, PySpark): `test`
# installs the second, every other command the first.
RUNTIME_LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"


def _bin(name: str) -> Path:
    return VENV / ("Scripts" if os.name == "nt" else "bin") / name


def _fingerprint(lock: Path) -> str:
    digest = hashlib.sha256()
    for path in (lock, ROOT / "pyproject.toml"):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _stamp(lock: Path) -> Path:
    return VENV / f".installed-{lock.name}"


def _installed(lock: Path) -> bool:
    return _stamp(lock).exists() and _stamp(lock).read_text() == _fingerprint(lock)


def ensure_environment(lock: Path) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - bootstrap runs under any python3
        sys.exit(f"Python 3.11 or newer is needed, this is {sys.version.split()[0]}")
    if not _bin("python").exists():
        print(f"[bootstrap] creating the virtual environment {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if _installed(lock) or (lock == RUNTIME_LOCK and _installed(DEV_LOCK)):
        return
    python = str(_bin("python"))
    uv = shutil.which("uv")
    if uv:
        print(f"[bootstrap] installing the pinned dependencies of {lock.name} with uv", flush=True)
        # sync: exactly the lock (what another lock installed before is removed), then the project itself.
        subprocess.check_call([uv, "pip", "sync", "--quiet", "--python", python, str(lock)])
        subprocess.check_call([uv, "pip", "install", "--quiet", "--python", python, "--no-deps", "-e", str(ROOT)])
    else:
        print(f"[bootstrap] installing the pinned dependencies of {lock.name} (a minute or two)", flush=True)
        pip = [python, "-m", "pip", "--disable-pip-version-check"]
        subprocess.check_call([*pip, "install", "--quiet", "-r", str(lock)])
        subprocess.check_call([*pip, "install", "--quiet", "--no-deps", "-e", str(ROOT)])
    _stamp(lock).write_text(_fingerprint(lock))


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0 if argv else 2
    ensure_environment(DEV_LOCK if argv[0] == "test" else RUNTIME_LOCK)
    return subprocess.call([str(_bin("crm-kpi")), *argv], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
