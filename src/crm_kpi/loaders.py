"""Bulk loaders: the raw export (demo CSVs or a user's CSV/Parquet folder) into the `raw` schema of a
server engine, every column as text like the DuckDB path reads it. PostgreSQL through COPY, Spark
through its CSV/Parquet reader. `dbt seed` inserts row by row there and is not used for raw data.

Every table of the raw contract is created; a file that is absent (or zero bytes) gives an empty
table, so the optional KPIs come out empty rather than failing the build. Each raw row gets its
1-based position in the file, `source_row_number` (as the DuckDB path reads it), so a quarantined
row can be found in the file. Columns beyond the contract's are loaded as text and ignored.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crm_kpi.contract import TABLES, Table

Progress = Callable[[str], None]


@dataclass(frozen=True)
class PostgresSettings:
    """Connection settings, from the same environment variables as profiles.yml."""

    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    password: str = ""
    dbname: str = "crm_kpi"

    @classmethod
    def from_environment(cls) -> PostgresSettings:
        return cls(
            host=os.environ.get("CRM_KPI_PG_HOST", cls.host),
            port=int(os.environ.get("CRM_KPI_PG_PORT", cls.port)),
            user=os.environ.get("CRM_KPI_PG_USER", cls.user),
            password=os.environ.get("CRM_KPI_PG_PASSWORD", cls.password),
            dbname=os.environ.get("CRM_KPI_PG_DATABASE", cls.dbname),
        )

    def connect(self, dbname: str | None = None) -> Any:
        import psycopg2

        return psycopg2.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=dbname or self.dbname,
            connect_timeout=10,
        )

    def sqlalchemy_url(self) -> str:
        password = f":{self.password}" if self.password else ""
        return f"postgresql+psycopg2://{self.user}{password}@{self.host}:{self.port}/{self.dbname}"


def _raw_file(raw_path: Path, table: Table, raw_format: str) -> Path | None:
    path = raw_path / f"{table.name}.{raw_format}"
    return path if path.is_file() and path.stat().st_size > 0 else None


def _csv_stream(path: Path, raw_format: str) -> tuple[list[str], io.TextIOBase]:
    """The file's header and a text stream of CSV rows (Parquet is converted to CSV on the fly)."""
    if raw_format == "parquet":
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        table = table.cast(__import__("pyarrow").schema([(name, "string") for name in table.column_names]))
        buffer = io.BytesIO()
        pacsv.write_csv(table, buffer)
        text = io.StringIO(buffer.getvalue().decode("utf-8"))
    else:
        text = io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")
    header = [name.strip() for name in next(csv.reader([text.readline()]))]
    return contract_spelling(header), text


def contract_spelling(header: list[str]) -> list[str]:
    """A header's names as the raw contract spells them where they match it case-insensitively (DuckDB
    binds `Channel` to `channel`; the loaders of the other engines do the same). Two names that match
    one column are refused before (crm_kpi.preflight)."""
    contract = {column.name.lower(): column.name for table in TABLES for column in table.columns}
    return [contract.get(name.lower(), name) for name in header]


def ensure_postgres_database(settings: PostgresSettings) -> None:
    """Create the database when the server does not have it yet."""
    connection = settings.connect(dbname="postgres")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("select 1 from pg_database where datname = %s", (settings.dbname,))
            if cursor.fetchone() is None:
                cursor.execute(f'create database "{settings.dbname}"')
    finally:
        connection.close()


def load_postgres(
    raw_path: Path, raw_format: str, settings: PostgresSettings, schema: str = "raw", progress: Progress = print
) -> dict[str, int]:
    """COPY every raw table into `schema` (text columns); returns rows loaded per table."""
    ensure_postgres_database(settings)
    connection = settings.connect()
    loaded: dict[str, int] = {}
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(f'create schema if not exists "{schema}"')
            for table in TABLES:
                path = _raw_file(raw_path, table, raw_format)
                header, stream = _csv_stream(path, raw_format) if path else ([], io.StringIO())
                extra = [name for name in dict.fromkeys(header) if name not in table.column_names]
                # The row's position in the file: COPY inserts the rows in file order.
                columns = ", ".join(
                    ["source_row_number bigint generated always as identity"]
                    + [f'"{name}" text' for name in table.column_names + extra]
                )
                cursor.execute(f'drop table if exists "{schema}"."{table.name}" cascade')
                cursor.execute(f'create table "{schema}"."{table.name}" ({columns})')
                if path is None:
                    loaded[table.name] = 0
                    continue
                column_list = ", ".join(f'"{name}"' for name in header)
                cursor.copy_expert(
                    f'copy "{schema}"."{table.name}" ({column_list}) from stdin with (format csv)', stream
                )
                loaded[table.name] = cursor.rowcount
                progress(f"loaded {table.name}: {cursor.rowcount} rows")
    finally:
        connection.close()
    return loaded


def load_spark(
    raw_path: Path, raw_format: str, spark: Any, schema: str = "raw", progress: Progress = print
) -> dict[str, int]:
    """Read every raw table with Spark's reader and save it as a table in `schema` (string columns)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as spark_functions
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    spark.sql(f"create database if not exists {schema}")
    loaded: dict[str, int] = {}
    for table in TABLES:
        path = _raw_file(raw_path, table, raw_format)
        string_schema = StructType(
            [StructField("source_row_number", LongType(), True)]
            + [StructField(name, StringType(), True) for name in table.column_names]
        )
        if path is None:
            frame = spark.createDataFrame([], string_schema)
        elif raw_format == "parquet":
            frame = spark.read.parquet(str(path))
            frame = frame.select([spark_functions.col(name).cast("string") for name in frame.columns])
        else:
            frame = spark.read.csv(str(path), header=True, inferSchema=False, multiLine=True, escape='"')
        if path is not None:
            frame = frame.toDF(*contract_spelling([name.strip() for name in frame.columns]))
            # The row's position in the file: the reader's partitions come in file order, and
            # monotonically_increasing_id grows within and across them.
            in_file_order = Window.orderBy(spark_functions.monotonically_increasing_id())
            frame = frame.select(
                [spark_functions.row_number().over(in_file_order).cast("long").alias("source_row_number")]
                + [
                    spark_functions.col(name)
                    if name in frame.columns
                    else spark_functions.lit(None).cast("string").alias(name)
                    for name in table.column_names
                ]
            )
        frame.write.mode("overwrite").format("parquet").saveAsTable(f"{schema}.{table.name}")
        loaded[table.name] = spark.table(f"{schema}.{table.name}").count()
        progress(f"loaded {table.name}: {loaded[table.name]} rows")
    return loaded
