"""Great Expectations suites for the KPI marts, and the runner that validates a built warehouse.

One suite per KPI mart (`<mart>_suite`), built by `build_suite` from the mart as dbt declares it (the
manifest, see crm_kpi.manifest): nothing about a mart is written here. From the YAML:

- the columns: the set matches the contract exactly (a missing or extra column is named);
- the grain (its uniqueness test): key columns not null and unique together;
- the column meta: `count` measures >= 0, `rate` measures in [0, 1];
- the rules declared on the mart: not_null, rate_between_zero_and_one, non_negative, at_least (a lower
  bound such as roi >= -1), accepted_values, counts_never_increase (each count >= the next), and
  columns_equal_ratios, whose rule "a ratio whose denominator is 0 is null" becomes: null where the
  denominator column is 0, present where it is > 0 (when the denominator is a plain column).

A rule the mart's table enforces (a contract constraint, which crm_kpi.manifest reads back as the rule
it replaces) is left out: DuckDB and PostgreSQL refuse a violating row as the mart is written, so on a
built mart that expectation could not fail. What remains is what no constraint can hold: the grain's
uniqueness, the column set, ratios null exactly where their denominator is 0, funnel counts in order,
and the rules on columns without a constraint. The dbt tests check more (the recomputation itself,
reconciliation with staging, the invariants across rows); this is the second, independent line that
BI users read as HTML data docs.
A mart may be empty (an optional input absent): the suite checks its columns, and the run's summary
says which KPI marts are empty.

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
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from crm_kpi.manifest import RATIOS_TEST, Mart, is_identifier, term_columns

if TYPE_CHECKING:
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.expectations.expectation import Expectation

SITE_NAME = "crm_kpi"


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


def _unique(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


def build_suite(mart: Mart) -> ExpectationSuite:
    """The expectation suite `<mart>_suite` of one KPI mart, from its columns, meta and dbt tests."""
    import great_expectations as gx
    from great_expectations import expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    columns = list(mart.column_names)
    # A rule the table enforces (a contract constraint: DuckDB and PostgreSQL refuse a violating row as the
    # mart is written) is not repeated: on the built mart such an expectation could not fail.
    enforced = {(test.name, test.column) for test in mart.tests if test.constraint}

    def open_rule(rule: str, column: str) -> bool:
        return (rule, column) not in enforced

    # One expectation for the columns: its result names what is missing or extra.
    expectations: list[Expectation] = [gxe.ExpectTableColumnsToMatchSet(column_set=columns, exact_match=True)]
    for column in _unique([*mart.grain, *mart.columns_tested("not_null")]):
        if open_rule("not_null", column):
            expectations.append(gxe.ExpectColumnValuesToNotBeNull(column=column))
    if len(mart.grain) == 1:
        expectations.append(gxe.ExpectColumnValuesToBeUnique(column=mart.grain[0]))
    elif mart.grain:
        expectations.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=list(mart.grain)))
    rates = [column.name for column in mart.columns if column.measure == "rate"]
    for column in _unique([*rates, *mart.columns_tested("rate_between_zero_and_one")]):
        if open_rule("rate_between_zero_and_one", column):
            expectations.append(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0, max_value=1))
    counts = [column.name for column in mart.columns if column.measure == "count"]
    for column in _unique([*counts, *mart.columns_tested("non_negative")]):
        if open_rule("non_negative", column):
            expectations.append(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0))
    for test in mart.tests_named("at_least"):
        if open_rule("at_least", str(test.column)):
            bound = test.kwargs["min_value"]
            expectations.append(gxe.ExpectColumnValuesToBeBetween(column=str(test.column), min_value=bound))
    for test in mart.tests_named("accepted_values"):
        if open_rule("accepted_values", str(test.column)):
            values = list(test.kwargs["values"])
            expectations.append(gxe.ExpectColumnValuesToBeInSet(column=str(test.column), value_set=values))
    for test in mart.tests_named("counts_never_increase"):
        ordered = list(test.kwargs["columns"])
        for larger, smaller in zip(ordered, ordered[1:], strict=False):
            expectations.append(
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A=larger, column_B=smaller, or_equal=True, ignore_row_if="either_value_is_missing"
                )
            )
    not_null = set(mart.columns_tested("not_null"))
    for ratio_column, declared in mart.ratios.items() if mart.tests_named(RATIOS_TEST) else ():
        ratio, denominator = ratio_column, declared.denominator[0]
        if len(declared.denominator) == 1 and is_identifier(denominator) and not declared.rows:
            expectations.append(gxe.ExpectColumnValuesToBeNull(column=ratio, row_condition=Column(denominator) == 0))
            # Present where the denominator is above 0 only when its numerator can never be null.
            numerator = {name for term in declared.numerator for name in term_columns(term)}
            if numerator <= not_null:
                expectations.append(
                    gxe.ExpectColumnValuesToNotBeNull(column=ratio, row_condition=Column(denominator) > 0)
                )
    # Passed to the constructor: suite.add_expectation needs an active data context (it saves the suite).
    return gx.ExpectationSuite(name=f"{mart.name}_suite", expectations=expectations)


# ---------------------------------------------------------------------------------------------- sources


class MartSource(Protocol):
    """Where the marts are read from: a GX batch definition (and its batch parameters) per mart."""

    def batch(self, context: Any, mart: str) -> tuple[Any, dict[str, Any] | None]: ...

    def close(self) -> None: ...


class DuckDBFrames:
    """DuckDB: each mart read with duckdb into a pandas DataFrame, validated as a whole-dataframe batch."""

    def __init__(self, db_path: Path, schema: str = "marts", preload: Sequence[Mart] = ()) -> None:
        """preload: read these marts now and close the file (another process may then open it)."""
        import duckdb

        if not db_path.is_file():
            raise FileNotFoundError(f"no DuckDB warehouse at {db_path}")
        self.schema = schema
        self.connection: Any = duckdb.connect(str(db_path), read_only=True)
        self.datasource: Any = None
        self.frames = {mart.name: self._read(mart.name) for mart in preload}
        if preload:
            self.close()

    def _read(self, mart: str) -> Any:
        return self.connection.execute(f'select * from "{self.schema}"."{mart}"').df()

    def batch(self, context: Any, mart: str) -> tuple[Any, dict[str, Any] | None]:
        if self.datasource is None:
            self.datasource = context.data_sources.add_pandas("duckdb_marts")
        frame = self.frames[mart] if mart in self.frames else self._read(mart)
        definition = self.datasource.add_dataframe_asset(name=mart).add_batch_definition_whole_dataframe(mart)
        return definition, {"dataframe": frame}

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


class PostgresFrames:
    """PostgreSQL: each mart read with psycopg2 into a pandas DataFrame, validated as a whole-dataframe
    batch (no SQLAlchemy needed; the KPI marts are small). What `crm-kpi run` uses on a candidate."""

    def __init__(self, connect: Any, schema: str = "marts") -> None:
        self.connection = connect()
        self.schema = schema
        self.datasource: Any = None

    def batch(self, context: Any, mart: str) -> tuple[Any, dict[str, Any] | None]:
        import pandas as pd

        if self.datasource is None:
            self.datasource = context.data_sources.add_pandas("postgres_marts")
        with self.connection.cursor() as cursor:
            cursor.execute(f'select * from "{self.schema}"."{mart}"')
            columns = [description[0] for description in cursor.description]
            frame = pd.DataFrame(cursor.fetchall(), columns=columns)
        for column in frame.columns:  # numeric(18,2) arrives as Decimal: compare as numbers
            if frame[column].map(lambda value: value.__class__.__name__ == "Decimal").any():
                frame[column] = pd.to_numeric(frame[column])
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


def validate(source: MartSource, docs_dir: Path, marts: Sequence[Mart]) -> list[MartResult]:
    """Run every mart's suite on `source`, build the HTML data docs into docs_dir, return per-mart results."""
    with _quiet():
        import great_expectations as gx

        context = _context(docs_dir)
        outcomes: list[tuple[str, Any]] = []
        try:
            for mart in marts:
                batch_definition, parameters = source.batch(context, mart.name)
                suite = context.suites.add(build_suite(mart))
                definition = context.validation_definitions.add(
                    gx.ValidationDefinition(name=f"{mart.name}_validation", data=batch_definition, suite=suite)
                )
                # BASIC: the unexpected count and up to 20 unexpected values, all a failure message shows
                # (SUMMARY adds value counts and index lists, a third of the validation time).
                outcome = definition.run(batch_parameters=parameters, result_format={"result_format": "BASIC"})
                outcomes.append((mart.name, outcome))
        finally:
            source.close()
        index = Path(context.build_data_docs(site_names=[SITE_NAME])[SITE_NAME].removeprefix("file://"))
    results = []
    for name, outcome in outcomes:
        failures = [describe_failure(name, item) for item in outcome.results if not item.success]
        results.append(MartResult(name, not failures, len(outcome.results), failures, index))
    return results


def validate_duckdb(db_path: Path, docs_dir: Path, marts: Sequence[Mart], schema: str = "marts") -> list[MartResult]:
    """Validate the KPI marts of a DuckDB warehouse as pandas batches; HTML data docs into docs_dir."""
    return validate(DuckDBFrames(db_path, schema), docs_dir, marts)


def validate_postgres(
    connection_string: str, docs_dir: Path, marts: Sequence[Mart], schema: str = "marts"
) -> list[MartResult]:
    """Validate the KPI marts in PostgreSQL through a GX SQL datasource; HTML data docs into docs_dir."""
    return validate(PostgresTables(connection_string, schema), docs_dir, marts)


def raise_on_failure(results: list[MartResult]) -> list[MartResult]:
    if not all(result.success for result in results):
        raise ExpectationsFailed(results)
    return results


def run_expectations(db_path: Path, docs_dir: Path, marts: Sequence[Mart]) -> list[MartResult]:
    """Validate a DuckDB warehouse; raise ExpectationsFailed naming mart, column and expectation."""
    return raise_on_failure(validate_duckdb(db_path, docs_dir, marts))


def run_expectations_postgres(
    connection_string: str, docs_dir: Path, marts: Sequence[Mart], schema: str = "marts"
) -> list[MartResult]:
    """Validate the PostgreSQL marts (in `schema`: a candidate's `_build_marts` before it is published)
    through GX's SQL datasource (needs SQLAlchemy); raise ExpectationsFailed naming mart, column and
    expectation."""
    return raise_on_failure(validate_postgres(connection_string, docs_dir, marts, schema))
