"""The same models on PostgreSQL and Spark: every dbt test passes there, and every mart holds, row by
row, the numbers of the DuckDB build of the same data (keys equal, money to the cent, rates 1e-9)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator

import duckdb
import pandas as pd
import pytest

from compare import compare_frames, format_problems
from conftest import Warehouse
from crm_kpi import runner
from crm_kpi.loaders import PostgresSettings
from crm_kpi.paths import project_root
from engines import postgres_environment, spark_available, throwaway_postgres
from test_marts_match_oracle import MARTS

pytestmark = pytest.mark.slow


def _duckdb_mart(warehouse: Warehouse, mart: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse.db_path), read_only=True) as connection:
        return connection.execute(f"select * from marts.{mart}").df()


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
        runner.build(
            runner.BuildSettings(
                db_path=workdir / "unused.duckdb", target="postgres", artifacts_dir=workdir, quiet=True
            )
        )
    connection = postgres_server.connect()
    try:
        marts = {}
        for mart in MARTS:
            with connection.cursor() as cursor:
                cursor.execute(f"select * from marts.{mart}")
                columns = [description[0] for description in cursor.description]
                marts[mart] = pd.DataFrame(cursor.fetchall(), columns=columns)
        yield marts
    finally:
        connection.close()


@pytest.fixture(scope="session")
def spark_marts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    """The demo data read by Spark's CSV reader into a local Spark warehouse and built there."""
    spark_available()
    workdir = tmp_path_factory.mktemp("spark_build")
    settings = runner.BuildSettings(
        db_path=workdir / "unused.duckdb", target="spark", artifacts_dir=workdir, quiet=True
    )
    runner.build(settings)
    exported = workdir / "exported"
    subprocess.run(
        [sys.executable, "-m", "crm_kpi.spark_load", "--export", str(exported)],
        cwd=settings.spark_dir,
        env={**os.environ, **settings.environment()},
        check=True,
    )
    return {mart: pd.read_parquet(exported / f"{mart}.parquet") for mart in MARTS}


@pytest.mark.postgres
@pytest.mark.parametrize("mart", sorted(MARTS))
def test_postgres_mart_equals_duckdb(
    mart: str, demo_warehouse: Warehouse, postgres_marts: dict[str, pd.DataFrame]
) -> None:
    keys, money = MARTS[mart]
    problems = compare_frames(
        f"{mart} (postgres vs duckdb)", _duckdb_mart(demo_warehouse, mart), postgres_marts[mart], keys, money_cols=money
    )
    assert not problems, format_problems(problems)


@pytest.mark.spark
@pytest.mark.parametrize("mart", sorted(MARTS))
def test_spark_mart_equals_duckdb(mart: str, demo_warehouse: Warehouse, spark_marts: dict[str, pd.DataFrame]) -> None:
    keys, money = MARTS[mart]
    problems = compare_frames(
        f"{mart} (spark vs duckdb)", _duckdb_mart(demo_warehouse, mart), spark_marts[mart], keys, money_cols=money
    )
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
