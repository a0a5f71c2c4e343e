"""`python -m crm_kpi.spark_load RAW_PATH FORMAT`: load a raw export into Spark's `raw` database.
`python -m crm_kpi.spark_load --export OUT_DIR`: write every table of the `marts` database to
OUT_DIR/<table>.parquet (how the tests read a Spark build).

Runs in its own process (the Derby metastore admits one process at a time), in the folder where the
dbt Spark build runs next, with the same warehouse directory and session time zone as profiles.yml.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any


def main(argv: list[str]) -> int:
    from pyspark.sql import SparkSession

    from crm_kpi.loaders import load_spark

    spark = (
        SparkSession.builder.master("local[*]")
        .appName("crm-kpi-load")
        .config("spark.sql.warehouse.dir", os.environ.get("CRM_KPI_SPARK_WAREHOUSE", "spark-warehouse"))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", os.environ.get("CRM_KPI_SPARK_DRIVER_MEMORY", "4g"))
        .config("spark.ui.enabled", "false")
        .enableHiveSupport()
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        if argv[0] == "--export":
            export_marts(spark, Path(argv[1]))
        else:
            raw_path, raw_format = Path(argv[0]), argv[1] if len(argv) > 1 else "csv"
            load_spark(
                raw_path, raw_format, spark, progress=lambda message: print(f"[crm-kpi load] {message}", flush=True)
            )
    finally:
        spark.stop()
    return 0


def export_marts(spark: Any, out_dir: Path, schema: str = "marts") -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for row in spark.sql(f"show tables in {schema}").collect():
        table = row["tableName"]
        spark.table(f"{schema}.{table}").toPandas().to_parquet(out_dir / f"{table}.parquet")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
