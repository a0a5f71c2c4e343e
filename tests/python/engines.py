"""Throwaway engines for the cross-engine tests: a PostgreSQL server in a temporary folder on a free
loopback port, and a Spark build folder. They need the machine's PostgreSQL binaries and Java; CI
installs them (.ci/run) and sets CRM_KPI_REQUIRE_ENGINES=1 so that a missing engine fails instead of
skipping."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import pytest

from crm_kpi.loaders import PostgresSettings


def require(what: str, reason: str) -> NoReturn:
    if os.environ.get("CRM_KPI_REQUIRE_ENGINES") == "1":
        pytest.fail(f"{what} is required here (CRM_KPI_REQUIRE_ENGINES=1): {reason}")
    pytest.skip(f"{what} not available: {reason}")


def postgres_bin_dir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in [os.environ.get("CRM_KPI_PG_BIN", ""), *candidates]:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def throwaway_postgres() -> Iterator[PostgresSettings]:
    """initdb + pg_ctl start on 127.0.0.1:<free port>, trust auth, no durability (a test server)."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        require("PostgreSQL", "no initdb found (apt-get install postgresql)")
        raise AssertionError("unreachable")
    workdir = Path(tempfile.mkdtemp(prefix="crm_kpi_pg_"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root: run the server as the postgres user
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(workdir, user="postgres")
    data, port = workdir / "data", free_port()
    subprocess.run(
        [*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
    subprocess.run(
        [
            *as_user,
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(workdir / "server.log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    settings = PostgresSettings(host="127.0.0.1", port=port, user="postgres", password="", dbname="crm_kpi")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                settings.connect(dbname="postgres").close()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        yield settings
    finally:
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], check=False)
        shutil.rmtree(workdir, ignore_errors=True)


def postgres_environment(settings: PostgresSettings) -> dict[str, str]:
    return {
        "CRM_KPI_PG_HOST": settings.host,
        "CRM_KPI_PG_PORT": str(settings.port),
        "CRM_KPI_PG_USER": settings.user,
        "CRM_KPI_PG_PASSWORD": settings.password,
        "CRM_KPI_PG_DATABASE": settings.dbname,
    }


def spark_available() -> None:
    if shutil.which("java") is None:
        require("Spark", "no java on PATH (apt-get install openjdk-17-jre-headless)")
    try:
        import pyspark  # noqa: F401
    except ImportError:
        require("Spark", "pyspark is not installed (pip install -e '.[spark]')")
