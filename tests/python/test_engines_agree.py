"""The same models on PostgreSQL and Spark: every dbt test passes there, and every mart (dimensions, facts
and KPI marts, as the dbt manifest lists them, matched on their declared grain) holds, row by row, the
numbers of the DuckDB build of the same data (keys equal, money to the cent, rates 1e-9)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pandas as pd
import pytest

from compare import compare_frames, format_problems
from conftest import Warehouse
from crm_kpi import dbt_invoke
from crm_kpi.loaders import PostgresSettings
from crm_kpi.manifest import Mart
from crm_kpi.paths import project_root
from crm_kpi.settings import BuildSettings
from engines import postgres_environment, spark_available, throwaway_postgres

pytestmark = pytest.mark.slow


def _compare_every_mart(engine: str, duckdb_build: Warehouse, other: dict[str, pd.DataFrame]) -> list[str]:
    problems = []
    for name, mart in sorted(duckdb_build.marts().items()):
        if name not in other:
            problems.append(f"{name}: not built on {engine}")
            continue
        problems += compare_frames(
            f"{name} ({engine} vs duckdb)", duckdb_build.frame(name), other[name], mart.grain, mart.money_columns
        )
    return problems


def test_every_mart_has_a_grain(parsed_marts: dict[str, Mart]) -> None:
    """Each mart declares its grain (a uniqueness test), the key the cross-engine comparison matches rows on."""
    assert not [name for name, mart in parsed_marts.items() if not mart.grain]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresSettings]:
    with throwaway_postgres() as settings:
        yield settings


@pytest.fixture(scope="session")
def postgres_marts(
    postgres_server: PostgresSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, pd.DataFrame]]:
    """The demo data COPY-loaded into PostgreSQL and built there with every dbt test."""
    workdir = tmp_path_factory.mktemp("postgres_build")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in postgres_environment(postgres_server).items():
            patch.setenv(key, value)
        dbt_invoke.build(
            BuildSettings(db_path=workdir / "unused.duckdb", target="postgres", artifacts_dir=workdir, quiet=True)
        )
    connection = postgres_server.connect()
    try:
        marts = {}
        with connection.cursor() as cursor:
            cursor.execute("select table_name from information_schema.tables where table_schema = 'marts'")
            names = [str(row[0]) for row in cursor.fetchall()]
        for mart in names:
            with connection.cursor() as cursor:
                cursor.execute(f"select * from marts.{mart}")
                columns = [description[0] for description in cursor.description]
                marts[mart] = pd.DataFrame(cursor.fetchall(), columns=columns)
        yield marts
    finally:
        connection.close()


@pytest.fixture(scope="session")
def spark_marts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    """The demo data read by Spark's CSV reader into a local Spark warehouse and built there: the models
    only. The data and unit tests run on DuckDB and PostgreSQL; on Spark each costs a job (about 0.35 s a
    data test, 4 s a unit test: 10 minutes in all), and every mart equal to the tested DuckDB build's, row
    for row, is the proof that the same SQL gives the same numbers on Spark."""
    spark_available()
    workdir = tmp_path_factory.mktemp("spark_build")
    settings = BuildSettings(
        db_path=workdir / "unused.duckdb",
        target="spark",
        artifacts_dir=workdir,
        quiet=True,
        unit_tests=False,
        data_tests=False,
    )
    dbt_invoke.build(settings)
    exported = workdir / "exported"
    subprocess.run(
        [sys.executable, "-m", "crm_kpi.spark_load", "--export", str(exported)],
        cwd=settings.spark_dir,
        env={**os.environ, **settings.environment()},
        check=True,
    )
    return {path.stem: pd.read_parquet(path) for path in sorted(exported.glob("*.parquet"))}


@pytest.mark.postgres
def test_postgres_marts_equal_duckdb(demo_warehouse: Warehouse, postgres_marts: dict[str, pd.DataFrame]) -> None:
    problems = _compare_every_mart("postgres", demo_warehouse, postgres_marts)
    assert not problems, format_problems(problems)


@pytest.mark.spark
def test_spark_marts_equal_duckdb(demo_warehouse: Warehouse, spark_marts: dict[str, pd.DataFrame]) -> None:
    problems = _compare_every_mart("spark", demo_warehouse, spark_marts)
    assert not problems, format_problems(problems)


# Functions that exist on one or two of DuckDB, PostgreSQL and Spark only (called unqualified; the
# dispatched macros crm_kpi.* and dbt's cross-database dbt.* are the portable way).
ENGINE_ONLY_FUNCTIONS = (
    "try_cast", "timezone", "quantile", "quantile_cont", "strftime", "strptime", "date_diff", "list_value",
    "list_extract", "epoch", "regexp_matches", "percentile_cont", "generate_series", "to_char", "date_part", "age",
    "percentile", "to_utc_timestamp", "date_format", "datediff", "explode", "collect_list", "array_agg",
)  # fmt: skip
ENGINE_ONLY = re.compile(r"(?<![\w.])(" + "|".join(ENGINE_ONLY_FUNCTIONS) + r")\s*\(|::|\bilike\b")


def test_models_call_no_engine_only_function() -> None:
    """Engine-specific SQL lives only in dispatched macros (macros/portable); models, tests and analyses
    use those or dbt's cross-database macros. (CI also builds every model on all three engines.)"""
    offenders = []
    for folder in ("models", "tests", "analyses"):
        for path in sorted((project_root() / folder).rglob("*.sql")):
            if "generic" in path.parts:
                continue
            text = path.read_text(encoding="utf-8").lower()
            relative = path.relative_to(project_root())
            offenders += [f"{relative}: {match.group(0)}" for match in ENGINE_ONLY.finditer(text)]
    assert not offenders, "engine-only functions outside dispatched macros:\n" + "\n".join(offenders)
