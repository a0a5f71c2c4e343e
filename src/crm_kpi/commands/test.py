"""`crm-kpi test`: the whole test suite as CI runs it: ruff, mypy, sqlfluff, the house rules (dbt parse and
dbt-bouncer), then pytest (whose summary line closes the output)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from crm_kpi.commands import add_command
from crm_kpi.console import say
from crm_kpi.paths import project_root


def add_parser(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "test",
        "run the whole test suite (what CI runs)",
        "Lint and type checks (ruff, mypy, sqlfluff), the house rules (dbt parse, dbt-bouncer), then pytest with "
        "a worker per core ($CRM_KPI_TEST_WORKERS; 1: none). Arguments after `test` go to pytest.",
    )
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER, help="extra arguments for pytest")
    parser.set_defaults(func=run)


def _house_rules_steps(root: Path, scratch: Path) -> list[tuple[str, list[str], dict[str, str]]]:
    """`dbt parse` into the scratch folder (not the project's target/), then dbt-bouncer and dbt-score on that manifest.

    dbt-bouncer.yml holds the house rules; dbt-bouncer reads the artifacts from $DBT_PROJECT_DIR/target. A macro
    argument documented in YAML that does not match the macro's signature fails the parse: dbt's flag
    validate_macro_args (dbt_project.yml) makes it a warning, made an error here.
    """
    bin_dir = Path(sys.executable).parent
    parse = [str(bin_dir / "dbt"), "--quiet", "--warn-error-options", '{"error": ["InvalidMacroAnnotation"]}']
    parse += ["parse", "--project-dir", str(root), "--profiles-dir", str(root)]
    parse += ["--target-path", str(scratch / "target"), "--log-path", str(scratch / "logs")]
    bouncer = [str(bin_dir / "dbt-bouncer"), "run", "--config-file", str(root / "dbt-bouncer.yml")]
    score = [str(bin_dir / "dbt-score"), "lint", "--manifest", str(scratch / "target" / "manifest.json")]
    return [
        ("dbt parse", parse, {}),
        ("dbt-bouncer", bouncer, {"DBT_PROJECT_DIR": str(scratch)}),
        ("dbt-score", score, {}),  # thresholds and rules: pyproject.toml [tool.dbt-score]
    ]


def _workers(pytest_args: list[str]) -> list[str]:
    """pytest-xdist: one worker per core (CRM_KPI_TEST_WORKERS; 1: none), whole files per worker (a file's
    session fixtures, such as the Spark build, are built once); unless the arguments say otherwise."""
    workers = os.environ.get("CRM_KPI_TEST_WORKERS", str(os.cpu_count() or 1))
    if any(arg == "-n" or arg.startswith(("-n", "--numprocesses")) for arg in pytest_args) or workers == "1":
        return pytest_args
    return ["-n", workers, "--dist", "loadfile", *pytest_args]


def run(args: argparse.Namespace) -> int:
    """Lint and type checks, the house rules (dbt-bouncer), then pytest (whose summary line closes the output)."""
    root = project_root()
    with tempfile.TemporaryDirectory(prefix="crm_kpi_lint_") as scratch:
        sqlfluff = [sys.executable, "-m", "sqlfluff", "lint", "models", "analyses", "--disable-progress-bar"]
        steps: list[tuple[str, list[str], dict[str, str]]] = [
            ("ruff", [sys.executable, "-m", "ruff", "check", "src", "tests/python", "bootstrap.py"], {}),
            (
                "ruff format",
                [sys.executable, "-m", "ruff", "format", "--check", "src", "tests/python", "bootstrap.py"],
                {},
            ),
            ("mypy", [sys.executable, "-m", "mypy"], {}),
            # One process per core: its dbt templater compiles every model (minutes on one core).
            ("sqlfluff", [*sqlfluff, "--processes", str(os.cpu_count() or 1)], {}),
            *_house_rules_steps(root, Path(scratch)),
        ]
        # sqlfluff's dbt templater opens the profile's DuckDB file (is_incremental() asks it whether the
        # table exists): a scratch file, so that linting neither needs nor touches the user's warehouse.
        # It compiles stg_crm__leads, whose key needs a salt: a stand-in, when the environment has none.
        env = {"CRM_KPI_PII_SALT": "a stand-in salt for linting", **os.environ}
        env["CRM_KPI_DUCKDB_PATH"] = str(Path(scratch) / "lint.duckdb")
        for name, command, extra_env in steps:
            say(f"{name}: {' '.join(command[1:])}")
            started = time.perf_counter()
            if subprocess.call(command, cwd=root, env={**env, **extra_env}) != 0:
                say(f"{name} failed")
                return 1
            say(f"{name} passed in {time.perf_counter() - started:.1f} s")
    say("pytest")
    return subprocess.call([sys.executable, "-m", "pytest", *_workers(args.pytest_args)], cwd=root)
