"""Session fixtures: the demo data built once into temporary DuckDB files (seeds, and the same CSVs
read in place as an external export), shared by the end-to-end tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from crm_kpi import dbt_invoke, manifest, powerbi
from crm_kpi.paths import project_root
from crm_kpi.settings import BuildSettings

# One salt of lead_person_key for every build of the suite (unset, each warehouse gets its own random salt,
# so that builds compared with one another, across engines or full and incremental, would differ in it).
os.environ.setdefault("CRM_KPI_PII_SALT", "the test suite's salt, not a secret")


@dataclass(frozen=True)
class Warehouse:
    db_path: Path
    raw_dir: Path
    as_of: date
    artifacts_dir: Path

    def marts(self) -> dict[str, manifest.Mart]:
        """Every mart of the build, by name, as its dbt manifest declares it."""
        built = manifest.load(manifest.manifest_path(self.artifacts_dir / "target"))
        return {mart.name: mart for mart in manifest.marts(built)}

    def kpi_marts(self) -> dict[str, manifest.Mart]:
        return {name: mart for name, mart in self.marts().items() if mart.is_kpi}

    def frame(self, mart: str) -> pd.DataFrame:
        with duckdb.connect(str(self.db_path), read_only=True) as connection:
            return connection.execute(f"select * from marts.{mart}").df()


def build_warehouse(
    workdir: Path, raw_path: Path | None, raw_format: str = "csv", unit_tests: bool = False
) -> Warehouse:
    """A build with every data test; the unit tests (fixed rows, the same for every export) only where asked:
    the demo seeds' build runs them, the other builds of the suite test the data."""
    settings = BuildSettings(
        db_path=workdir / "warehouse.duckdb",
        raw_path=raw_path,
        raw_format=raw_format,
        artifacts_dir=workdir,
        quiet=True,
        unit_tests=unit_tests,
    )
    dbt_invoke.build(settings)
    with duckdb.connect(str(settings.db_path), read_only=True) as connection:
        row = connection.execute("select as_of_date from intermediate.int_as_of_dates").fetchone()
    assert row is not None
    return Warehouse(settings.db_path, raw_path or project_root() / "seeds" / "demo", row[0], workdir)


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """The committed demo set loaded with dbt seed and built with every dbt test, unit tests included."""
    yield build_warehouse(tmp_path_factory.mktemp("demo_seeds"), raw_path=None, unit_tests=True)


@pytest.fixture(scope="session")
def external_demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """The same demo CSVs read in place (CRM_KPI_RAW_PATH), no dbt seed."""
    yield build_warehouse(tmp_path_factory.mktemp("demo_external"), raw_path=project_root() / "seeds" / "demo")


@pytest.fixture(scope="session")
def demo_parquet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed demo CSVs as a Parquet export (every column text, as the CSVs are read)."""
    from crm_kpi.floor import raw_reader

    csv_dir, parquet_dir = project_root() / "seeds" / "demo", tmp_path_factory.mktemp("demo_parquet")
    with duckdb.connect() as connection:
        for csv_path in sorted(csv_dir.glob("*.csv")):
            target = str(parquet_dir / f"{csv_path.stem}.parquet").replace("'", "''")
            connection.execute(
                f"copy (select * from {raw_reader(csv_dir, 'csv', csv_path.stem)}) to '{target}' (format parquet)"
            )
    return parquet_dir


@pytest.fixture(scope="session")
def parsed_marts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, manifest.Mart]:
    """Every mart as `dbt parse` declares it (no build): for the tests of the project's declarations."""
    workdir = tmp_path_factory.mktemp("parsed")
    settings = BuildSettings(db_path=workdir / "unused.duckdb", artifacts_dir=workdir, quiet=True)
    dbt_invoke.run_dbt(settings, ["parse"])
    return {mart.name: mart for mart in manifest.built_marts(settings.target_dir)}


@pytest.fixture(scope="session")
def powerbi_project(parsed_marts: dict[str, manifest.Mart], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Power BI Project `crm-kpi powerbi` writes, from the parsed marts (test_powerbi*.py read it back)."""
    out = tmp_path_factory.mktemp("powerbi")
    powerbi.write_project(powerbi.build_model(list(parsed_marts.values())), out)
    return out


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest test files first (the Spark and PostgreSQL builds, then the write-audit-publish and
    incremental runs): with `crm-kpi test`'s workers (pytest-xdist, whole files per worker), the Spark
    build then runs beside the DuckDB tests instead of alone at the end. The order within a file is kept."""
    first = ("test_engines_agree.py", "test_publish_postgres.py", "test_incremental.py", "test_publish.py")

    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return first.index(name) if name in first else len(first)

    items.sort(key=rank)  # stable: files keep their order otherwise
