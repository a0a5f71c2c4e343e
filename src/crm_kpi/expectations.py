"""Great Expectations suites for the KPI marts, and the runner that validates a built warehouse.

One suite per mart (`<mart>_suite`), declared in `MART_SPECS` and built by `build_suite`:

- the mart's columns (each exists, and the set matches the contract exactly) and a non-empty table;
- the grain: key columns not null and unique together;
- rates in [0, 1]; the unbounded ratios with their natural floor (roi >= -1, leads_growth_rate >= -1,
  net_revenue_retention >= 0); counts, money and durations >= 0;
- accepted values (channel in the 11 channels, attribution_rule = first_touch);
- "a ratio whose denominator is 0 is null": null where the denominator is 0, present where it is > 0;
- the invariants of the definitions GX can state per row: funnel counts never increase down the stages,
  active <= cohort size, month 0 has retention 1 and MRR = starting MRR, retained MRR <= starting and
  current MRR, a rep with no won deal has no bookings.

The dbt tests check the same and more (recomputation of every ratio, reconciliation with staging); this
is the second, independent line that BI users read as HTML data docs.

Where the marts are read from is a `MartSource`: on DuckDB each mart is read with duckdb into pandas and
validated as a dataframe batch (GX's SQL datasource does not work on DuckDB through SQLAlchemy); on
PostgreSQL each mart is a table asset of a GX SQL datasource and is validated in the database.
The GX project is a throwaway: an ephemeral context; only the data docs site is written, into docs_dir.
"""

from __future__ import annotations

import logging
import os
import shutil
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.expectations.expectation import Expectation

CHANNELS = (
    "paid_search", "paid_social", "display", "email", "events", "content", "webinar", "referral", "partner",
    "outbound", "organic",
)  # fmt: skip
ATTRIBUTION_RULES = ("first_touch",)
SITE_NAME = "crm_kpi"
_CAMPAIGN_COLUMNS = (
    "campaign_name", "channel", "attribution_rule", "spend", "leads", "mqls", "new_customers",
    "attributed_revenue", "cost_per_lead", "cost_per_mql", "cac", "roi",
)  # fmt: skip


@dataclass(frozen=True)
class MartSpec:
    """What one mart's suite checks (see the module docstring); every expectation has mostly = 1."""

    columns: tuple[str, ...]
    keys: tuple[str, ...]
    not_null: tuple[str, ...] = ()
    rates: tuple[str, ...] = ()  # in [0, 1]
    non_negative: tuple[str, ...] = ()
    lower_bounds: Mapping[str, float] = field(default_factory=dict)  # unbounded ratios: column >= bound
    accepted: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    ordered: tuple[tuple[str, str], ...] = ()  # (larger, smaller): larger >= smaller on every row
    ratios: tuple[tuple[str, str], ...] = ()  # (ratio, denominator): ratio null iff denominator = 0
    extra: Callable[[], list[Expectation]] | None = None  # mart-specific invariants


def _funnel_extra() -> list[Expectation]:
    from great_expectations import expectations as gxe

    # Same denominator (leads) and customers <= mqls; and opportunities <= leads.
    return [
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=rate, column_B="lead_to_customer_rate", or_equal=True, ignore_row_if="either_value_is_missing"
        )
        for rate in ("mql_rate", "win_rate")
    ]


def _churn_extra() -> list[Expectation]:
    from great_expectations import expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    month_zero = Column("months_since_start") == 0
    return [
        gxe.ExpectColumnValuesToBeBetween(column="logo_retention", min_value=1, max_value=1, row_condition=month_zero),
        gxe.ExpectColumnValuesToBeBetween(column="logo_churn", min_value=0, max_value=0, row_condition=month_zero),
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="active_customers", column_B="cohort_size", row_condition=month_zero
        ),
        gxe.ExpectColumnPairValuesToBeEqual(column_A="mrr", column_B="starting_mrr", row_condition=month_zero),
        gxe.ExpectColumnPairValuesToBeEqual(column_A="retained_mrr", column_B="starting_mrr", row_condition=month_zero),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="month", column_B="cohort_month", or_equal=True),
    ]  # fmt: skip


def _revenue_per_rep_extra() -> list[Expectation]:
    from great_expectations import expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    no_deal_closed = (Column("won_deals") == 0) & (Column("lost_deals") == 0)
    return [
        gxe.ExpectColumnValuesToBeBetween(column="bookings", max_value=0, row_condition=Column("won_deals") == 0),
        gxe.ExpectColumnValuesToBeBetween(column="lost_amount", max_value=0, row_condition=Column("lost_deals") == 0),
        gxe.ExpectColumnValuesToBeNull(column="win_rate", row_condition=no_deal_closed),
        gxe.ExpectColumnValuesToNotBeNull(column="win_rate", row_condition=Column("won_deals") > 0),
        gxe.ExpectColumnValuesToNotBeNull(column="win_rate", row_condition=Column("lost_deals") > 0),
        gxe.ExpectColumnValuesToBeNull(column="quota_attainment", row_condition=Column("quota").is_null()),
        # average deal size <= bookings (one deal at least when it is not null)
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="bookings", column_B="average_deal_size", or_equal=True, ignore_row_if="either_value_is_missing"
        ),
    ]


def _campaign_spec(keys: tuple[str, ...]) -> MartSpec:
    """The two CAC marts share their measures; they differ in grain (campaign, campaign x month)."""
    return MartSpec(
        columns=(*keys, *_CAMPAIGN_COLUMNS),
        keys=keys,
        not_null=("channel", "attribution_rule", "spend", "leads", "mqls", "new_customers", "attributed_revenue"),
        non_negative=(
            "spend", "leads", "mqls", "new_customers", "attributed_revenue", "cost_per_lead", "cost_per_mql", "cac",
        ),
        lower_bounds={"roi": -1},
        accepted={"channel": CHANNELS, "attribution_rule": ATTRIBUTION_RULES},
        ratios=(("cost_per_lead", "leads"), ("cost_per_mql", "mqls"), ("cac", "new_customers"), ("roi", "spend")),
    )  # fmt: skip


MART_SPECS: dict[str, MartSpec] = {
    "kpi_funnel_conversion": MartSpec(
        columns=(
            "cohort_month", "channel", "leads", "mqls", "sqls", "opportunities", "customers", "mql_rate",
            "sql_rate", "opportunity_rate", "win_rate", "lead_to_customer_rate", "median_days_to_mql",
            "median_days_mql_to_sql", "median_days_sql_to_opportunity", "median_days_opportunity_to_won",
            "leads_previous_month", "leads_growth_rate",
        ),
        keys=("cohort_month", "channel"),
        not_null=("leads", "mqls", "sqls", "opportunities", "customers", "leads_previous_month"),
        rates=("mql_rate", "sql_rate", "opportunity_rate", "win_rate", "lead_to_customer_rate"),
        non_negative=(
            "leads", "mqls", "sqls", "opportunities", "customers", "leads_previous_month", "median_days_to_mql",
            "median_days_mql_to_sql", "median_days_sql_to_opportunity", "median_days_opportunity_to_won",
        ),
        lower_bounds={"leads_growth_rate": -1},
        accepted={"channel": CHANNELS},
        ordered=(("leads", "mqls"), ("mqls", "sqls"), ("sqls", "opportunities"), ("opportunities", "customers")),
        ratios=(
            ("mql_rate", "leads"), ("sql_rate", "mqls"), ("opportunity_rate", "sqls"),
            ("win_rate", "opportunities"), ("lead_to_customer_rate", "leads"),
            ("leads_growth_rate", "leads_previous_month"),
        ),
        extra=_funnel_extra,
    ),
    "kpi_campaign_cac": _campaign_spec(("campaign_id",)),
    "kpi_campaign_cac_monthly": _campaign_spec(("campaign_id", "month")),
    "kpi_churn_by_cohort": MartSpec(
        columns=(
            "cohort_month", "months_since_start", "month", "cohort_size", "active_customers", "churned_customers",
            "logo_retention", "logo_churn", "starting_mrr", "mrr", "retained_mrr", "gross_revenue_retention",
            "net_revenue_retention",
        ),
        keys=("cohort_month", "months_since_start"),
        not_null=(
            "month", "cohort_size", "active_customers", "churned_customers", "starting_mrr", "mrr", "retained_mrr",
        ),
        rates=("logo_retention", "logo_churn", "gross_revenue_retention"),
        non_negative=(
            "months_since_start", "cohort_size", "active_customers", "churned_customers", "starting_mrr", "mrr",
            "retained_mrr",
        ),
        lower_bounds={"net_revenue_retention": 0},
        ordered=(
            ("cohort_size", "active_customers"), ("cohort_size", "churned_customers"),
            ("starting_mrr", "retained_mrr"), ("mrr", "retained_mrr"),
        ),
        ratios=(
            ("logo_retention", "cohort_size"), ("logo_churn", "cohort_size"),
            ("gross_revenue_retention", "starting_mrr"), ("net_revenue_retention", "starting_mrr"),
        ),
        extra=_churn_extra,
    ),
    "kpi_revenue_per_rep": MartSpec(
        columns=(
            "user_id", "month", "rep_name", "role", "bookings", "won_deals", "lost_deals", "lost_amount",
            "average_deal_size", "win_rate", "amount_win_rate", "quota", "quota_attainment",
        ),
        keys=("user_id", "month"),
        not_null=("bookings", "won_deals", "lost_deals", "lost_amount"),
        rates=("win_rate", "amount_win_rate"),
        non_negative=(
            "bookings", "won_deals", "lost_deals", "lost_amount", "average_deal_size", "quota", "quota_attainment",
        ),
        ratios=(("average_deal_size", "won_deals"), ("quota_attainment", "quota")),
        extra=_revenue_per_rep_extra,
    ),
}  # fmt: skip
MARTS = tuple(MART_SPECS)


@dataclass
class MartResult:
    mart: str
    success: bool
    evaluated: int  # number of expectations run
    failures: list[str] = field(default_factory=list)  # "<mart>.<column>: <expectation type> (<summary>)"
    docs_index: Path | None = None  # the data docs site's index.html


class ExpectationsFailed(RuntimeError):
    """At least one expectation failed; the message names mart, column and expectation."""

    def __init__(self, results: list[MartResult]) -> None:
        self.results = results
        super().__init__(format_failures(results))


def format_failures(results: Sequence[MartResult]) -> str:
    failed = [result for result in results if not result.success]
    if not failed:
        return f"all expectations passed ({sum(result.evaluated for result in results)} in {len(results)} suites)"
    count = sum(len(result.failures) for result in failed)
    lines = [f"Great Expectations: {count} failed expectation(s) in {len(failed)} mart(s)"]
    lines += [f"  {failure}" for result in failed for failure in result.failures]
    index = next((result.docs_index for result in results if result.docs_index), None)
    if index is not None:
        lines.append(f"  data docs: {index}")
    return "\n".join(lines)


def build_suite(mart: str) -> ExpectationSuite:
    """The expectation suite `<mart>_suite` of one KPI mart, from its `MartSpec`."""
    import great_expectations as gx
    from great_expectations import expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    spec = MART_SPECS[mart]
    expectations: list[Expectation] = [gxe.ExpectColumnToExist(column=column) for column in spec.columns]
    expectations.append(gxe.ExpectTableColumnsToMatchSet(column_set=list(spec.columns), exact_match=True))
    expectations.append(gxe.ExpectTableRowCountToBeBetween(min_value=1))
    for column in (*spec.keys, *spec.not_null):
        expectations.append(gxe.ExpectColumnValuesToNotBeNull(column=column))
    if len(spec.keys) == 1:
        expectations.append(gxe.ExpectColumnValuesToBeUnique(column=spec.keys[0]))
    else:
        expectations.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=list(spec.keys)))
    for column in spec.rates:
        expectations.append(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0, max_value=1))
    for column in spec.non_negative:
        expectations.append(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0))
    for column, bound in spec.lower_bounds.items():
        expectations.append(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=bound))
    for column, values in spec.accepted.items():
        expectations.append(gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(values)))
    for larger, smaller in spec.ordered:
        expectations.append(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=larger, column_B=smaller, or_equal=True, ignore_row_if="either_value_is_missing"
            )
        )
    for ratio, denominator in spec.ratios:
        expectations.append(gxe.ExpectColumnValuesToBeNull(column=ratio, row_condition=Column(denominator) == 0))
        expectations.append(gxe.ExpectColumnValuesToNotBeNull(column=ratio, row_condition=Column(denominator) > 0))
    if spec.extra is not None:
        expectations += spec.extra()
    # Passed to the constructor: suite.add_expectation needs an active data context (it saves the suite).
    return gx.ExpectationSuite(name=f"{mart}_suite", expectations=expectations)


# ---------------------------------------------------------------------------------------------- sources


class MartSource(Protocol):
    """Where the marts are read from: a GX batch definition (and its batch parameters) per mart."""

    def batch(self, context: Any, mart: str) -> tuple[Any, dict[str, Any] | None]: ...

    def close(self) -> None: ...


class DuckDBFrames:
    """DuckDB: each mart read with duckdb into a pandas DataFrame, validated as a whole-dataframe batch."""

    def __init__(self, db_path: Path, schema: str = "marts") -> None:
        import duckdb

        if not db_path.is_file():
            raise FileNotFoundError(f"no DuckDB warehouse at {db_path}")
        self.schema = schema
        self.connection = duckdb.connect(str(db_path), read_only=True)
        self.datasource: Any = None

    def batch(self, context: Any, mart: str) -> tuple[Any, dict[str, Any] | None]:
        if self.datasource is None:
            self.datasource = context.data_sources.add_pandas("duckdb_marts")
        frame = self.connection.execute(f'select * from "{self.schema}"."{mart}"').df()
        definition = self.datasource.add_dataframe_asset(name=mart).add_batch_definition_whole_dataframe(mart)
        return definition, {"dataframe": frame}

    def close(self) -> None:
        self.connection.close()


class PostgresTables:
    """PostgreSQL: each mart a table asset of a GX SQL datasource, validated in the database."""

    def __init__(self, connection_string: str, schema: str = "marts") -> None:
        self.connection_string = connection_string
        self.schema = schema
        self.datasource: Any = None

    def batch(self, context: Any, mart: str) -> tuple[Any, dict[str, Any] | None]:
        if self.datasource is None:
            self.datasource = context.data_sources.add_postgres(
                "postgres_marts", connection_string=self.connection_string
            )
        asset = self.datasource.add_table_asset(name=mart, table_name=mart, schema_name=self.schema)
        return asset.add_batch_definition_whole_table(mart), None

    def close(self) -> None:
        return None


# ---------------------------------------------------------------------------------------------- runner


@contextmanager
def _quiet() -> Iterator[None]:
    """No usage statistics, progress bars, GX warnings or GX log lines below ERROR."""
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    gx_logger = logging.getLogger("great_expectations")
    level = gx_logger.level
    gx_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        gx_logger.setLevel(level)


def _context(docs_dir: Path) -> Any:
    """An ephemeral GX context (nothing written) with one filesystem data docs site in docs_dir."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    shutil.rmtree(docs_dir, ignore_errors=True)
    docs_dir.mkdir(parents=True, exist_ok=True)
    context.add_data_docs_site(
        site_name=SITE_NAME,
        site_config={
            "class_name": "SiteBuilder",
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir.resolve())},
        },
    )
    return context


def _columns_of(kwargs: Mapping[str, Any]) -> str:
    if kwargs.get("column"):
        return str(kwargs["column"])
    if kwargs.get("column_A"):
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    if kwargs.get("column_list"):
        return ",".join(kwargs["column_list"])
    return "(table)"


def _short(value: Any, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_failure(mart: str, result: Any) -> str:
    """One failed result as "<mart>.<column>: <expectation type> (<observed/unexpected summary>)"."""
    config = result.expectation_config
    kwargs = config.kwargs
    where = f" where {kwargs['row_condition']!r}" if kwargs.get("row_condition") else ""
    details = result.result or {}
    exception = result.exception_info or {}
    if exception.get("raised_exception"):
        message = str(exception.get("exception_message") or "").splitlines()
        summary = f"error: {message[0] if message else 'exception'}"
    elif details.get("unexpected_count"):
        values = details.get("partial_unexpected_list") or []
        summary = f"{details['unexpected_count']} unexpected{where}, e.g. {_short(values[:5])}"
    elif "observed_value" in details:
        summary = f"observed {_short(details['observed_value'])}"
        mismatched = (details.get("details") or {}).get("mismatched")
        if mismatched:
            summary += f", mismatched {_short(mismatched)}"
    else:
        summary = _short(details) if details else "failed"
    return f"{mart}.{_columns_of(kwargs)}: {config.type} ({summary})"


def validate(source: MartSource, docs_dir: Path, marts: Sequence[str] = MARTS) -> list[MartResult]:
    """Run every mart's suite on `source`, build the HTML data docs into docs_dir, return per-mart results."""
    with _quiet():
        import great_expectations as gx

        context = _context(docs_dir)
        outcomes: list[tuple[str, Any]] = []
        try:
            for mart in marts:
                batch_definition, parameters = source.batch(context, mart)
                suite = context.suites.add(build_suite(mart))
                definition = context.validation_definitions.add(
                    gx.ValidationDefinition(name=f"{mart}_validation", data=batch_definition, suite=suite)
                )
                outcomes.append(
                    (mart, definition.run(batch_parameters=parameters, result_format={"result_format": "SUMMARY"}))
                )
        finally:
            source.close()
        index = Path(context.build_data_docs(site_names=[SITE_NAME])[SITE_NAME].removeprefix("file://"))
    results = []
    for mart, outcome in outcomes:
        failures = [describe_failure(mart, item) for item in outcome.results if not item.success]
        results.append(MartResult(mart, not failures, len(outcome.results), failures, index))
    return results


def validate_duckdb(db_path: Path, docs_dir: Path, schema: str = "marts") -> list[MartResult]:
    """Validate every KPI mart of a DuckDB warehouse as pandas batches; HTML data docs into docs_dir."""
    return validate(DuckDBFrames(db_path, schema), docs_dir)


def validate_postgres(connection_string: str, docs_dir: Path, schema: str = "marts") -> list[MartResult]:
    """Validate every KPI mart in PostgreSQL through a GX SQL datasource; HTML data docs into docs_dir."""
    return validate(PostgresTables(connection_string, schema), docs_dir)


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
