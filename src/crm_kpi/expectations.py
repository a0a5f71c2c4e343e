"""Great Expectations suites for the KPI marts, and the runner that validates a built warehouse.

One suite per mart (`<mart>_suite`): its columns, a non-empty table, the grain (keys not null and
unique together), rates in [0, 1], counts and money >= 0, accepted values, and the invariants of the
definitions that GX can state (funnel counts never increase down the stages, active <= cohort size,
month-0 retention = 1, retained MRR <= starting MRR). The dbt tests check the same and more; this is
the second, independent line that BI users can read as HTML data docs.

DuckDB marts are read with duckdb into pandas and validated as dataframe batches (GX's SQL datasource
does not work on DuckDB); PostgreSQL marts are validated in the database through a GX SQL datasource.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RATES = {
    "kpi_funnel_conversion": ["mql_rate", "sql_rate", "opportunity_rate", "win_rate", "lead_to_customer_rate"],
    "kpi_campaign_cac": [],
    "kpi_campaign_cac_monthly": [],
    "kpi_churn_by_cohort": ["logo_retention", "logo_churn", "gross_revenue_retention"],
    "kpi_revenue_per_rep": ["win_rate", "amount_win_rate"],
}
NON_NEGATIVE = {
    "kpi_funnel_conversion": ["leads", "mqls", "sqls", "opportunities", "customers", "leads_previous_month"],
    "kpi_campaign_cac": ["spend", "leads", "mqls", "new_customers", "attributed_revenue", "cost_per_lead", "cac"],
    "kpi_campaign_cac_monthly": [
        "spend", "leads", "mqls", "new_customers", "attributed_revenue", "cost_per_lead", "cac",
    ],
    "kpi_churn_by_cohort": [
        "months_since_start", "cohort_size", "active_customers", "churned_customers", "starting_mrr", "mrr",
        "retained_mrr", "net_revenue_retention",
    ],
    "kpi_revenue_per_rep": ["bookings", "won_deals", "lost_deals", "lost_amount", "average_deal_size", "quota"],
}  # fmt: skip
KEYS = {
    "kpi_funnel_conversion": ["cohort_month", "channel"],
    "kpi_campaign_cac": ["campaign_id"],
    "kpi_campaign_cac_monthly": ["campaign_id", "month"],
    "kpi_churn_by_cohort": ["cohort_month", "months_since_start"],
    "kpi_revenue_per_rep": ["user_id", "month"],
}
# (larger, smaller): larger >= smaller on every row.
ORDERED_PAIRS = {
    "kpi_funnel_conversion": [
        ("leads", "mqls"),
        ("mqls", "sqls"),
        ("sqls", "opportunities"),
        ("opportunities", "customers"),
    ],
    "kpi_campaign_cac": [],
    "kpi_campaign_cac_monthly": [],
    "kpi_churn_by_cohort": [
        ("cohort_size", "active_customers"),
        ("starting_mrr", "retained_mrr"),
        ("mrr", "retained_mrr"),
    ],
    "kpi_revenue_per_rep": [],
}
CHANNELS = [
    "paid_search", "paid_social", "display", "email", "events", "content", "webinar", "referral", "partner",
    "outbound", "organic",
]  # fmt: skip
MARTS = tuple(KEYS)


@dataclass
class MartResult:
    mart: str
    success: bool
    evaluated: int
    failures: list[str] = field(default_factory=list)


class ExpectationsFailed(RuntimeError):
    """At least one expectation failed; the message names mart, column and expectation."""

    def __init__(self, results: list[MartResult]) -> None:
        self.results = results
        super().__init__(format_failures(results))


def format_failures(results: list[MartResult]) -> str:
    lines = [failure for result in results for failure in result.failures]
    return "Great Expectations failed:\n  " + "\n  ".join(lines) if lines else "all expectations passed"


def build_suite(mart: str, columns: list[str]) -> Any:
    """The expectation suite of one mart (`columns`: the mart's columns, in order)."""
    import great_expectations as gx
    from great_expectations import expectations as gxe

    suite = gx.ExpectationSuite(name=f"{mart}_suite")
    add = suite.add_expectation
    add(gxe.ExpectTableColumnsToMatchSet(column_set=columns, exact_match=True))
    add(gxe.ExpectTableRowCountToBeBetween(min_value=1))
    keys = KEYS[mart]
    for key in keys:
        add(gxe.ExpectColumnValuesToNotBeNull(column=key))
    if len(keys) == 1:
        add(gxe.ExpectColumnValuesToBeUnique(column=keys[0]))
    else:
        add(gxe.ExpectCompoundColumnsToBeUnique(column_list=keys))
    for rate in RATES[mart]:
        add(gxe.ExpectColumnValuesToBeBetween(column=rate, min_value=0, max_value=1))
    for column in NON_NEGATIVE[mart]:
        add(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0))
    for larger, smaller in ORDERED_PAIRS[mart]:
        add(gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A=larger, column_B=smaller, or_equal=True))
    if "channel" in columns and mart == "kpi_funnel_conversion":
        add(gxe.ExpectColumnValuesToBeInSet(column="channel", value_set=CHANNELS))
    if "attribution_rule" in columns:
        add(gxe.ExpectColumnValuesToBeInSet(column="attribution_rule", value_set=["first_touch"]))
    if mart in ("kpi_campaign_cac", "kpi_campaign_cac_monthly"):
        add(gxe.ExpectColumnValuesToBeBetween(column="roi", min_value=-1))
    if mart == "kpi_funnel_conversion":
        add(gxe.ExpectColumnValuesToBeBetween(column="leads_growth_rate", min_value=-1))
    if mart == "kpi_churn_by_cohort":
        from great_expectations.expectations.row_conditions import Column

        month_zero = Column("months_since_start") == 0
        add(
            gxe.ExpectColumnValuesToBeBetween(
                column="logo_retention", min_value=1, max_value=1, row_condition=month_zero
            )
        )
    return suite


def _quiet() -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("TQDM_DISABLE", "1")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="great_expectations")


def _context(docs_dir: Path) -> tuple[Any, Path]:
    """A throwaway file context whose data docs site writes into docs_dir."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    project = Path(tempfile.mkdtemp(prefix="crm_kpi_gx_"))
    context = gx.get_context(mode="file", project_root_dir=str(project))
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    shutil.rmtree(docs_dir, ignore_errors=True)
    docs_dir.mkdir(parents=True, exist_ok=True)
    context.add_data_docs_site(
        site_name="crm_kpi",
        site_config={
            "class_name": "SiteBuilder",
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir.resolve())},
        },
    )
    return context, project


def _describe(mart: str, result: Any) -> str:
    config = result.expectation_config
    kwargs = config.kwargs
    column = kwargs.get("column") or kwargs.get("column_A") or ",".join(kwargs.get("column_list") or []) or "(table)"
    details = result.result or {}
    observed = details.get("partial_unexpected_list") or details.get("observed_value")
    count = details.get("unexpected_count")
    summary = f"{count} unexpected, e.g. {observed}" if count else f"observed {observed}"
    return f"{mart}.{column}: {config.type} ({summary})"


def _run(
    context: Any, mart: str, batch_definition: Any, columns: list[str], batch_parameters: dict[str, Any] | None
) -> MartResult:
    import great_expectations as gx

    suite = context.suites.add(build_suite(mart, columns))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{mart}_validation", data=batch_definition, suite=suite)
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=f"{mart}_checkpoint",
            validation_definitions=[definition],
            actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=["crm_kpi"])],
            result_format={"result_format": "SUMMARY"},
        )
    )
    outcome = checkpoint.run(batch_parameters=batch_parameters)
    results = [item for run in outcome.run_results.values() for item in run.results]
    failures = [_describe(mart, item) for item in results if not item.success]
    return MartResult(mart, not failures, len(results), failures)


def validate_duckdb(db_path: Path, docs_dir: Path, schema: str = "marts") -> list[MartResult]:
    """Validate every KPI mart of a DuckDB warehouse as pandas batches; data docs into docs_dir."""
    import duckdb

    _quiet()
    context, project = _context(docs_dir)
    try:
        source = context.data_sources.add_pandas("duckdb_marts")
        results = []
        with duckdb.connect(str(db_path), read_only=True) as connection:
            for mart in MARTS:
                frame = connection.execute(f"select * from {schema}.{mart}").df()
                batch = source.add_dataframe_asset(name=mart).add_batch_definition_whole_dataframe("whole_table")
                results.append(_run(context, mart, batch, list(frame.columns), {"dataframe": frame}))
        return results
    finally:
        shutil.rmtree(project, ignore_errors=True)


def validate_postgres(connection_string: str, docs_dir: Path, schema: str = "marts") -> list[MartResult]:
    """Validate every KPI mart in PostgreSQL through a GX SQL datasource; data docs into docs_dir."""
    import sqlalchemy

    _quiet()
    engine = sqlalchemy.create_engine(connection_string)
    context, project = _context(docs_dir)
    try:
        source = context.data_sources.add_postgres("postgres_marts", connection_string=connection_string)
        results = []
        for mart in MARTS:
            columns = [column["name"] for column in sqlalchemy.inspect(engine).get_columns(mart, schema=schema)]
            asset = source.add_table_asset(name=mart, table_name=mart, schema_name=schema)
            results.append(_run(context, mart, asset.add_batch_definition_whole_table("whole_table"), columns, None))
        return results
    finally:
        engine.dispose()
        shutil.rmtree(project, ignore_errors=True)


def _raise_on_failure(results: list[MartResult]) -> list[MartResult]:
    if not all(result.success for result in results):
        raise ExpectationsFailed(results)
    return results


def run_expectations(db_path: Path, docs_dir: Path) -> list[MartResult]:
    """Validate a DuckDB warehouse; raise ExpectationsFailed naming mart, column and expectation."""
    return _raise_on_failure(validate_duckdb(db_path, docs_dir))


def run_expectations_postgres(connection_string: str, docs_dir: Path) -> list[MartResult]:
    """Validate the PostgreSQL marts; raise ExpectationsFailed naming mart, column and expectation."""
    return _raise_on_failure(validate_postgres(connection_string, docs_dir))
