"""A Power BI Project (PBIP, the semantic model in TMDL) generated from the dbt manifest: `crm-kpi powerbi`.

Nothing here names a mart, a column or a KPI: every table, column, relationship and measure is read from
the manifest (crm_kpi.manifest), so a KPI mart added the house way appears in the model at the next run.

- Tables: every mart under models/marts (dimensions, facts, KPI marts) with its dbt description, its columns'
  types and descriptions, format strings from the columns' `meta.measure` (percent for rates and ratios,
  currency for money) and technical columns hidden (`*_id`, `*_key`, and the stored ratios that a measure
  recomputes). `dim_dates` is the date table (`dataCategory: Time`, key `date_day`).
- Relationships: one per `relationships` test (many to one, single direction) whose target column is its
  mart's one-column grain; plus each fact and KPI mart's date columns to `dim_dates.date_day`. A relationship
  that would open a second filter path between two tables (Power BI refuses ambiguous models) is written
  inactive (use it with USERELATIONSHIP); the date relationships are placed first, so that each mart has one
  active path to the date table: its first date column of the grain (else its first date column).
- Measures: one per KPI column (`meta.kpi`). A ratio of the mart's `columns_equal_ratios` test is recomputed from its
  numerator and denominator, `DIVIDE(SUM(..), SUM(..))` (`a + b` / `a - b` expressions are translated column by
  column), never averaged; other money and count columns are `SUM`; a duration or score (a median: it cannot be
  re-aggregated) is shown only where the filter context holds one row of its mart. Anything else is skipped with
  its reason (`Model.skipped`), never averaged.
- Connection: the M parameters `ConnectionType` ("PostgreSQL" by default, or "DuckDB"), `PostgresServer`,
  `PostgresDatabase`, `DuckDbFile`. PostgreSQL through Power BI's PostgreSQL connector (schema `marts`); the DuckDB
  file read-only through the DuckDB ODBC driver.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from crm_kpi import measures
from crm_kpi.manifest import Mart, MartColumn

DATE_TABLE = "dim_dates"
DATE_KEY = "date_day"
PROJECT_NAME = "crm_kpi"
# The DuckDB catalog is the file's base name (dbt-duckdb's views bind to it): crm_kpi.duckdb -> crm_kpi.
DUCKDB_CATALOG = "crm_kpi"
COMPATIBILITY_LEVEL = 1567
# Stable relationship ids: the same relationship gets the same id at every run (clean diffs).
_NAMESPACE = uuid.UUID("6f1d2c1e-8d0e-4a53-9a55-4c2b7f0c1a10")
_TERM = re.compile(r"^\s*([a-z_][a-z0-9_]*)\s*$")
_CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


# --- the model -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str  # TMDL: int64, double, decimal, dateTime, boolean, string
    source_type: str  # the contract type
    description: str
    format_string: str | None = None
    hidden: bool = False
    is_key: bool = False
    sort_by: str | None = None


@dataclass(frozen=True)
class Measure:
    name: str
    table: str
    expression: str
    format_string: str
    description: str
    kpis: tuple[str, ...]
    column: str  # the mart column it answers
    folder: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    measures: tuple[Measure, ...] = ()
    is_date_table: bool = False


@dataclass(frozen=True)
class Relationship:
    from_table: str
    from_column: str
    to_table: str
    to_column: str
    active: bool
    origin: str  # "relationships test" or "date column"

    @property
    def name(self) -> str:
        key = f"{self.from_table}.{self.from_column}->{self.to_table}.{self.to_column}"
        return str(uuid.uuid5(_NAMESPACE, key))


@dataclass(frozen=True)
class Skipped:
    table: str
    column: str
    reason: str


@dataclass
class Model:
    tables: list[Table]
    relationships: list[Relationship]
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def measures(self) -> list[Measure]:
        return [measure for table in self.tables for measure in table.measures]


# --- types and formats -----------------------------------------------------------------------------------


def tmdl_type(contract_type: str) -> str:
    """The Power BI data type of a contract data type (DuckDB, PostgreSQL or Spark spelling)."""
    kind = contract_type.strip().lower()
    if kind in {"bigint", "integer", "int", "smallint", "tinyint", "int64", "int32", "long"}:
        return "int64"
    if kind in {"double", "double precision", "float", "real", "float8", "float4"}:
        return "double"
    if kind.startswith(("decimal", "numeric")):
        return "decimal"
    if kind == "date" or kind.startswith("timestamp"):
        return "dateTime"
    if kind in {"boolean", "bool"}:
        return "boolean"
    if kind in {"varchar", "text", "string"} or kind.startswith(("varchar", "character varying")):
        return "string"
    raise ValueError(f"no Power BI type for the contract type {contract_type!r} (HUGEINT and the like are refused)")


def currency_format(currency: str) -> str:
    symbol = _CURRENCY_SYMBOLS.get(currency.upper())
    if symbol:
        return f'"{symbol}"#,0.00;-"{symbol}"#,0.00;"{symbol}"#,0.00'
    return f'#,0.00 "{currency.upper()}";-#,0.00 "{currency.upper()}";#,0.00 "{currency.upper()}"'


def format_for(measure: str | None, data_type: str, contract_type: str, currency: str) -> str | None:
    if measure in {"rate", "ratio"}:
        return "0.0%"
    if measure == "money" or (measure is None and data_type == "decimal"):
        return currency_format(currency)
    if measure == "count" or (measure is None and data_type == "int64"):
        return "#,0"
    if measure in {"duration", "score"} or data_type == "double":
        return "#,0.00"
    if data_type == "dateTime":
        return "yyyy-mm-dd" if contract_type.strip().lower() == "date" else "yyyy-mm-dd hh:nn:ss"
    return None


def is_technical(name: str) -> bool:
    """Keys and ids: used by relationships, not read by people."""
    return name.endswith(("_id", "_key"))


def title(name: str) -> str:
    """`lead_to_customer_rate` -> `Lead To Customer Rate`; `kpi_funnel_conversion` -> `Funnel Conversion`."""
    for prefix in ("kpi_", "fct_", "dim_"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
    words = [_WORDS.get(word, word.capitalize()) for word in name.split("_")]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]]) if words else ""


# Business names keep their acronyms (MQLs, YoY, CLV) and small words lower case after the first.
_WORDS = {
    **{word: word.upper() for word in ("cac", "roi", "mrr", "nps", "id", "sql", "mql", "clv", "csat", "arpa", "p90")},
    **{f"{word}s": f"{word.upper()}s" for word in ("sql", "mql")},
    "yoy": "YoY", "enps": "eNPS", "vs": "vs", "of": "of", "per": "per", "to": "to", "and": "and", "by": "by",
}  # fmt: skip


# --- DAX -------------------------------------------------------------------------------------------------


def dax_column(table: str, column: str) -> str:
    return f"'{table}'[{column}]"


def _folder(mart: Mart) -> str:
    """`models/marts/kpi/sales/kpi_pipeline_by_period.sql` -> `Sales \\ Pipeline By Period`."""
    parts = mart.path.split("/")
    area = parts[3].capitalize() if len(parts) > 4 and parts[2] == "kpi" else "Core"
    return f"{area} \\ {title(mart.name)}"


_HOW = {
    "sum": "the sum over the rows in the filter context",
    "opening": "the value at the first period in the filter context (a snapshot: never summed over time)",
    "closing": "the value at the last period in the filter context (a snapshot: never summed over time)",
    "period": "the row of the period the filter context selects (a distinct count: a longer span is not the sum "
    "of its periods, so a year or a blank page shows blank unless the mart holds that period)",
    "stored": "the stored value where the filter context leaves one row (a median, mean or score cannot be "
    "re-aggregated), blank elsewhere",
}


def _how(plan: measures.Plan) -> str:
    grain = plan.grain
    parts = []
    ratio = plan.ratio
    if ratio is not None:
        scale = f"{ratio.scale:g} x " if ratio.scale != 1 else ""
        rows = "".join(f" on the rows where {name} = {value}" for name, value in ratio.rows.items())
        parts.append(
            f"{scale}sum({' + '.join(ratio.numerator)}) / sum({' + '.join(ratio.denominator)}){rows}, recomputed over "
            "the rows in the filter context (never averaged); blank when the denominator is 0"
            + (" or negative" if ratio.positive_denominator else "")
        )
        if plan.time == "exact":
            parts.append("read for the period the filter context selects (blank for a span the mart has no row of)")
    else:
        parts.append(_HOW[plan.aggregate])
    if plan.grain.period_type and measures.period_types_pinned(plan):
        parts.append(f"over the {grain.period_default} rows unless a {grain.period_type} is chosen")
    for name, default in grain.selectors.items():
        parts.append(f"{name} {default} unless chosen" if default is not None else f"blank until one {name} is chosen")
    if grain.members is not None:
        chosen = ", ".join(f"{dimension} -> {value}" for value, dimension in grain.members.dimensions.items())
        parts.append(f"a filter on a member dimension reads its {grain.members.by} rows ({chosen})")
    return "; ".join(parts) + "."


def _measure(mart: Mart, column: MartColumn, currency: str, keys: Mapping[str, str]) -> Measure | Skipped:
    plan = measures.plan(mart, column)
    if plan is None:
        return Skipped(mart.name, column.name, "no meta aggregate: the column declares no way to aggregate it")
    data_type = tmdl_type(column.data_type)
    fmt = format_for(column.measure, data_type, column.data_type, currency) or "#,0.00"
    expression = measures.dax(plan, keys)
    description = f"{', '.join(column.kpis)}: {column.description}\n{_how(plan)}"
    name = f"{title(column.name)} ({title(mart.name)})"
    return Measure(name, mart.name, expression, fmt, description, column.kpis, column.name, _folder(mart))


# --- building the model ----------------------------------------------------------------------------------


def _sort_by(column: MartColumn, mart: Mart) -> str | None:
    """`month_name` sorts by `month_number` (or `month`), `persian_month_name_fa` by `persian_month`."""
    match = re.match(r"^(.*)_name(?:_[a-z]{2})?$", column.name)
    if not match:
        return None
    for candidate in (f"{match.group(1)}_number", match.group(1)):
        found = mart.column(candidate)
        if found is not None and tmdl_type(found.data_type) == "int64":
            return candidate
    return None


def _table(mart: Mart, currency: str, skipped: list[Skipped], keys: Mapping[str, str]) -> Table:
    measures: list[Measure] = []
    recomputed: set[str] = set()
    for column in mart.columns:
        if not column.kpis:
            continue
        result = _measure(mart, column, currency, keys)
        if isinstance(result, Skipped):
            skipped.append(result)
        else:
            measures.append(result)
            recomputed.add(column.name)
    columns = []
    for column in mart.columns:
        data_type = tmdl_type(column.data_type)
        description = column.description
        if column.name in recomputed:
            description += " (Hidden: use its measure, which aggregates it right for any selection.)"
        columns.append(
            Column(
                name=column.name,
                data_type=data_type,
                source_type=column.data_type,
                description=description,
                format_string=format_for(column.measure, data_type, column.data_type, currency),
                hidden=is_technical(column.name) or column.name in recomputed,
                is_key=mart.name == DATE_TABLE and column.name == DATE_KEY,
                sort_by=_sort_by(column, mart),
            )
        )
    return Table(mart.name, mart.description, tuple(columns), tuple(measures), mart.name == DATE_TABLE)


def _reachable(edges: Mapping[str, set[str]], start: str) -> set[str]:
    seen, stack = {start}, [start]
    while stack:
        for target in edges.get(stack.pop(), ()):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def _candidates(marts: Mapping[str, Mart]) -> list[tuple[int, Relationship]]:
    """Every relationship the manifest supports, with its priority (date paths first, then dimensions)."""
    found: list[tuple[int, Relationship]] = []
    date_mart = marts.get(DATE_TABLE)
    for mart in marts.values():
        for key in mart.relationships:
            target = marts.get(key.to_mart)
            column, target_column = mart.column(key.column), target.column(key.to_column) if target else None
            if target is None or column is None or target_column is None or target.grain != (key.to_column,):
                continue  # not a mart, or not the target's one-column key (Power BI needs the one side unique)
            if tmdl_type(column.data_type) != tmdl_type(target_column.data_type):
                continue
            rank = 0 if target.name == DATE_TABLE else 2 if target.is_dimension else 3
            found.append((rank, Relationship(mart.name, key.column, target.name, key.to_column, True, "test")))
        declared = {key.column for key in mart.relationships}
        for dimension in marts.values():
            dim_key = dimension.grain[0] if dimension.is_dimension and len(dimension.grain) == 1 else None
            column = mart.column(dim_key) if dim_key and dimension is not mart else None
            if dim_key and column is not None and dim_key not in declared and not mart.is_dimension:
                # A column named as a dimension's key is that key (the house naming rule): related to it.
                found.append((2, Relationship(mart.name, dim_key, dimension.name, dim_key, True, "key name")))
        if date_mart is None or mart.is_dimension or mart.name == DATE_TABLE:
            continue
        dates = [c.name for c in mart.columns if c.data_type.strip().lower() == "date" and c.name not in declared]
        first = mart.reading.date if mart.reading.date in dates else None
        first = first or next((name for name in mart.grain if name in dates), dates[0] if dates else None)
        for name in dates:
            relationship = Relationship(mart.name, name, DATE_TABLE, DATE_KEY, True, "date column")
            found.append((0 if name == first else 1, relationship))
    return found


def relationships(marts: Mapping[str, Mart]) -> list[Relationship]:
    """The relationships in priority order, each active unless it would open a second path between two tables."""
    edges: dict[str, set[str]] = {}
    chosen = []
    candidates = _candidates(marts)
    # Between two dimension keys of one table, the finer dimension first (a rep before the team the rep's
    # dimension already reaches): the coarser one would otherwise leave the finer one without an active path.
    outgoing = {relationship.from_table: 0 for _, relationship in candidates}
    for _, relationship in candidates:
        outgoing[relationship.from_table] += 1

    def order(item: tuple[int, Relationship]) -> tuple[int, str, int, str]:
        rank, relationship = item
        return rank, relationship.from_table, -outgoing.get(relationship.to_table, 0), relationship.from_column

    ordered = sorted(candidates, key=order)
    for rank, relationship in ordered:
        source, target = relationship.from_table, relationship.to_table
        upstream = {name for name in {*edges, source} if source in _reachable(edges, name)}
        downstream = _reachable(edges, target)
        ambiguous = rank == 1 or any(downstream & (_reachable(edges, name) - {name}) for name in upstream)
        ambiguous = ambiguous or source in downstream
        if not ambiguous:
            edges.setdefault(source, set()).add(target)
        chosen.append(
            Relationship(
                source, relationship.from_column, target, relationship.to_column, not ambiguous, relationship.origin
            )
        )
    return sorted(chosen, key=lambda r: (r.from_table, r.to_table, not r.active, r.from_column))


def build_model(marts: Sequence[Mart], currency: str = "USD") -> Model:
    by_name = {mart.name: mart for mart in marts}
    skipped: list[Skipped] = []
    ordered = sorted(marts, key=lambda mart: (mart.name != DATE_TABLE, mart.name))
    keys = {mart.name: mart.grain[0] for mart in marts if mart.is_dimension and len(mart.grain) == 1}
    tables = [_table(mart, currency, skipped, keys) for mart in ordered]
    return Model(tables, relationships(by_name), skipped)


# --- TMDL ------------------------------------------------------------------------------------------------


def quote(name: str) -> str:
    """A TMDL object name: bare when it is a plain identifier, else in single quotes (quotes doubled)."""
    if re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
        return name
    return "'" + name.replace("'", "''") + "'"


def _description(text: str, indent: str) -> list[str]:
    lines = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    return [f"{indent}/// {line.strip()}" for line in lines]


def _m_type(column: Column) -> str:
    if column.data_type == "int64":
        return "Int64.Type"
    if column.data_type == "decimal":
        return "Currency.Type" if column.format_string and "0.00" in column.format_string else "type number"
    if column.data_type == "double":
        return "type number"
    if column.data_type == "boolean":
        return "type logical"
    if column.data_type == "dateTime":
        return "type date" if column.source_type.strip().lower() == "date" else "type datetime"
    return "type text"


def partition_source(table: Table) -> list[str]:
    """The M query of a table: the mart read through the connection the parameters choose, its columns typed."""
    names = ", ".join(f'"{column.name}"' for column in table.columns)
    types = ", ".join(f'{{"{column.name}", {_m_type(column)}}}' for column in table.columns)
    return [
        "let",
        '    Source = if ConnectionType = "DuckDB"',
        '        then Odbc.DataSource("Driver={DuckDB Driver};Database=" & DuckDbFile & ";access_mode=READ_ONLY",',
        "            [HierarchicalNavigation = true])",
        f'            {{[Name = "{DUCKDB_CATALOG}", Kind = "Database"]}}[Data]',
        f'            {{[Name = "marts", Kind = "Schema"]}}[Data]{{[Name = "{table.name}", Kind = "Table"]}}[Data]',
        "        else PostgreSQL.Database(PostgresServer, PostgresDatabase)"
        f'{{[Schema = "marts", Item = "{table.name}"]}}[Data],',
        f"    Selected = Table.SelectColumns(Source, {{{names}}}),",
        f"    Typed = Table.TransformColumnTypes(Selected, {{{types}}})",
        "in",
        "    Typed",
    ]


def table_tmdl(table: Table) -> str:
    lines = _description(table.description, "")
    lines.append(f"table {quote(table.name)}")
    if table.is_date_table:
        lines.append("\tdataCategory: Time")
    lines.append("")
    for measure in table.measures:
        lines += _description(measure.description, "\t")
        if "\n" in measure.expression:  # a multi-line expression: on the lines below, one level deeper
            lines.append(f"\tmeasure {quote(measure.name)} =")
            lines += [f"\t\t\t{line}" for line in measure.expression.split("\n")]
        else:
            lines.append(f"\tmeasure {quote(measure.name)} = {measure.expression}")
        lines.append(f"\t\tformatString: {measure.format_string}")
        if measure.folder:
            lines.append(f"\t\tdisplayFolder: {measure.folder}")
        lines.append("")
    for column in table.columns:
        lines += _description(column.description, "\t")
        lines.append(f"\tcolumn {quote(column.name)}")
        lines.append(f"\t\tdataType: {column.data_type}")
        if column.hidden:
            lines.append("\t\tisHidden")
        if column.is_key:
            lines.append("\t\tisKey")
        if column.format_string:
            lines.append(f"\t\tformatString: {column.format_string}")
        lines.append("\t\tsummarizeBy: none")
        lines.append(f"\t\tsourceColumn: {column.name}")
        if column.sort_by:
            lines.append(f"\t\tsortByColumn: {quote(column.sort_by)}")
        lines.append("")
    lines.append(f"\tpartition {quote(table.name)} = m")
    lines.append("\t\tmode: import")
    lines.append("\t\tsource =")
    lines += [f"\t\t\t{line}" for line in partition_source(table)]
    lines.append("")
    return "\n".join(lines)


def relationships_tmdl(model: Model) -> str:
    lines = []
    for relationship in model.relationships:
        lines.append(f"relationship {relationship.name}")
        if not relationship.active:
            lines.append("\tisActive: false")
        lines.append(f"\tfromColumn: {quote(relationship.from_table)}.{quote(relationship.from_column)}")
        lines.append(f"\ttoColumn: {quote(relationship.to_table)}.{quote(relationship.to_column)}")
        lines.append("")
    return "\n".join(lines)


def expressions_tmdl(postgres_server: str, postgres_database: str, duckdb_file: str) -> str:
    def parameter(name: str, value: str, description: str, extra: str = "") -> list[str]:
        literal = json.dumps(value)
        meta = f'[IsParameterQuery=true, {extra}Type="Text", IsParameterQueryRequired=true]'
        return [f"/// {description}", f"expression {name} = {literal} meta {meta}", "\tqueryGroup: Connection", ""]

    choice = 'List={"PostgreSQL", "DuckDB"}, DefaultValue="PostgreSQL", '
    return "\n".join(
        parameter("ConnectionType", "PostgreSQL", "Where the marts are read: PostgreSQL (default) or DuckDB.", choice)
        + parameter("PostgresServer", postgres_server, "PostgreSQL server, host:port (ConnectionType PostgreSQL).")
        + parameter("PostgresDatabase", postgres_database, "PostgreSQL database holding the schema marts.")
        + parameter(
            "DuckDbFile",
            duckdb_file,
            "Path of the DuckDB file (ConnectionType DuckDB), read-only through the DuckDB ODBC driver.",
        )
    )


def model_tmdl(model: Model) -> str:
    lines = [
        "model Model",
        "\tculture: en-US",
        "\tdefaultPowerBIDataSourceVersion: powerBI_V3",
        "\tdiscourageImplicitMeasures",
        "\tsourceQueryCulture: en-US",
        # Auto date/time off: dim_dates is the date table (a hidden date table per date column would not be).
        "\tannotation __PBI_TimeIntelligenceEnabled = 0",
        "",
        "queryGroup Connection",
        "",
    ]
    lines += [f"ref table {quote(table.name)}" for table in model.tables]
    lines.append("")
    return "\n".join(lines)


def write_project(
    model: Model,
    out_dir: Path,
    *,
    postgres_server: str = "localhost:5432",
    postgres_database: str = "crm_kpi",
    duckdb_file: str = "warehouse/crm_kpi.duckdb",
) -> Path:
    """Write `<out_dir>/crm_kpi.pbip`, its semantic model (TMDL) and an empty report; returns the .pbip path."""
    semantic = out_dir / f"{PROJECT_NAME}.SemanticModel"
    report = out_dir / f"{PROJECT_NAME}.Report"
    for folder in (semantic, report):
        if folder.exists():
            shutil.rmtree(folder)
    definition = semantic / "definition"
    (definition / "tables").mkdir(parents=True)
    report.mkdir(parents=True)

    def write(path: Path, text: str) -> None:
        path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")

    write(definition / "database.tmdl", f"database\n\tcompatibilityLevel: {COMPATIBILITY_LEVEL}\n")
    write(definition / "model.tmdl", model_tmdl(model))
    write(definition / "expressions.tmdl", expressions_tmdl(postgres_server, postgres_database, duckdb_file))
    write(definition / "relationships.tmdl", relationships_tmdl(model))
    for table in model.tables:
        write(definition / "tables" / f"{table.name}.tmdl", table_tmdl(table))
    schema = "https://developer.microsoft.com/json-schemas/fabric"
    pbism = {"$schema": f"{schema}/item/semanticModel/definitionProperties/1.0.0/schema.json", "version": "4.2"}
    write(semantic / "definition.pbism", json.dumps(pbism, indent=2))
    pbir = {
        "$schema": f"{schema}/item/report/definitionProperties/1.0.0/schema.json",
        "version": "4.0",
        "datasetReference": {"byPath": {"path": f"../{PROJECT_NAME}.SemanticModel"}},
    }
    write(report / "definition.pbir", json.dumps(pbir, indent=2))
    page = {
        "config": "{}",
        "displayName": "KPIs",
        "displayOption": 1,
        "filters": "[]",
        "height": 720.0,
        "name": "ReportSection",
        "ordinal": 0,
        "visualContainers": [],
        "width": 1280.0,
    }
    layout = {"config": json.dumps({"version": "5.43", "activeSectionIndex": 0}), "layoutOptimization": 0}
    write(report / "report.json", json.dumps({**layout, "resourcePackages": [], "sections": [page]}, indent=2))
    pbip_path = out_dir / f"{PROJECT_NAME}.pbip"
    pbip = {
        "$schema": f"{schema}/pbip/pbipProperties/1.0.0/schema.json",
        "version": "1.0",
        "artifacts": [{"report": {"path": f"{PROJECT_NAME}.Report"}}],
        "settings": {"enableAutoRecovery": True},
    }
    write(pbip_path, json.dumps(pbip, indent=2))
    write(out_dir / ".gitignore", "**/.pbi/localSettings.json\n**/.pbi/cache.abf\n")
    return pbip_path
