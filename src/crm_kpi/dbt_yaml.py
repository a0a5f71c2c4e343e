"""Render the dbt YAML that follows from the raw contract: the sources and the demo seeds' column types.

`crm-kpi render-yaml` rewrites both files; a test fails when the committed files drift from contract.py.
"""

from __future__ import annotations

import json
from pathlib import Path

from crm_kpi.contract import (
    DECIMAL_MAGNITUDE_LIMIT,
    DECIMAL_REASON,
    INTEGER_MAGNITUDE_LIMIT,
    TABLES,
    Column,
    Table,
)

SOURCES_PATH = Path("models/staging/crm/_crm__sources.yml")
SEEDS_PATH = Path("seeds/demo/_demo__seeds.yml")
TABLE_NAMES_MACRO_PATH = Path("macros/staging/raw_table_names.sql")
STAGING_DIR = Path("models/staging/crm")

AUDIT_COLUMNS = (
    (
        "record_id",
        "The row's primary key as text, each key column as parsed (its raw text when it does not parse),"
        " joined with |: equivalent spellings of one key give one record_id.",
    ),
    ("source_row_number", "The row's 1-based position in the raw file (its data rows, the header not counted)."),
    ("parse_failure_column", "First column that failed a type, enum or required-value check."),
    ("parse_failure_reason", "Why that column failed."),
    ("parse_failure_value", "The raw text of that column."),
    ("quarantine_column", "Column at fault when the row is quarantined (parse failures, exchange rate, table checks)."),
    ("quarantine_reason", "Why the row is quarantined; null for a valid row."),
    ("quarantine_value", "The raw text of the column at fault."),
)
EXTRA_STAGING_COLUMNS = {
    "leads": (
        (
            "lead_person_key",
            "Salted hash of the lower-cased email (of the lead id when no email; the secret salt is"
            " CRM_KPI_PII_SALT): the only PII-derived key allowed past staging, which an address alone"
            " cannot find.",
        ),
    ),
    "exchange_rates": (
        ("valid_from", "First day the rate applies (rate_date)."),
        ("valid_to", "Day the next rate of the currency applies (exclusive); 9999-12-31 for the latest rate."),
    ),
}

HEADER = "# Rendered from src/crm_kpi/contract.py by `crm-kpi render-yaml`; edit the contract, not this file.\n"

# Where the sources are, decided by one setting (the environment variable CRM_KPI_RAW_PATH):
# unset, the demo seeds in the `raw` schema; set, the files <path>/<table>.<format> read in place.
# Each raw row carries its 1-based position in the file, `source_row_number`: Parquet's file row
# number; for CSV the row number in the order of the file (the CSV reader keeps it while
# preserve_insertion_order is on: set_raw_row_order, a base-model hook); for the seeds the table's
# row id (dbt seed inserts in file order). A quote in the path is doubled (SQL string literal). The CSV
# dialect is pinned (RFC 4180: comma, double quote, a quote doubled to escape it), not sniffed, so the
# reader reads what the pre-dbt check (crm_kpi.preflight) checked.
CSV_OPTIONS = "header = true, all_varchar = true, delim = ',', quote = '\"', escape = '\"'"
_RAW_PATH = "env_var('CRM_KPI_RAW_PATH') | replace(\"'\", \"''\")"
EXTERNAL_LOCATION = (
    "{{ ('(select file_row_number + 1 as source_row_number, * from read_parquet(\\'' ~ " + _RAW_PATH + " ~ "
    "'/{name}.parquet\\'))' if env_var('CRM_KPI_RAW_FORMAT', 'csv') == 'parquet' else"
    " '(select row_number() over () as source_row_number, * from read_csv(\\'' ~ " + _RAW_PATH + " ~ "
    "'/{name}.csv\\', " + CSV_OPTIONS.replace("'", "\\'") + "))')"
    " if env_var('CRM_KPI_RAW_PATH', '') else"
    " '(select rowid + 1 as source_row_number, * from ' ~ var('schema_prefix', '') ~ 'raw.{name})' }}"
)


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _column_yaml(column: Column) -> list[str]:
    lines = [
        f"          - name: {column.name}",
        f"            description: {_q(column.description)}",
        f"            data_type: {column.type}",
        "            meta:",
        f"              nullable: {'true' if column.nullable else 'false'}",
    ]
    if column.lowercase:
        lines.append("              lowercase: true")
    if column.accepted_values:
        lines.append(f"              accepted_values: [{', '.join(column.accepted_values)}]")
    for key in ("lookup", "minimum", "maximum", "after", "references"):
        value = getattr(column, key)
        if value is not None:
            lines.append(f"              {key}: {value}")
    if column.range_by:
        by, ranges = column.range_by
        lines.append(f"              range_by: {{column: {by}, ranges: {{")
        lines[-1] += ", ".join(f"{value}: [{low}, {high}]" for value, low, high in ranges) + "}}"
    if column.exclusive_minimum:
        lines.append("              exclusive_minimum: true")
    if column.pii:
        lines.append("              pii: true")
    if column.check_reason:
        lines.append(f"              check_reason: {_q(column.check_reason)}")
    if column.reference_reasons:
        deleted, absent = column.reference_reasons
        lines.append(f"              reference_reasons: {{deleted: {_q(deleted)}, absent: {_q(absent)}}}")
    return lines


def _table_yaml(table: Table) -> list[str]:
    required = "required" if table.required else "optional (absent or empty gives empty KPIs)"
    lines = [
        f"      - name: {table.name}",
        f"        description: {_q(f'Raw {table.name}: {table.grain}; {required}.')}",
        "        meta:",
        f"          required: {'true' if table.required else 'false'}",
        f"          primary_key: [{', '.join(table.primary_key)}]",
    ]
    if table.money:
        lines += [f"          money: [{', '.join(table.money)}]", f"          money_date: {table.money_date}"]
    if table.one_of:
        lines.append(f"          one_of: [{', '.join(table.one_of)}]")
    if table.freshness_column:
        lines += [
            f'        loaded_at_field: "try_cast({table.freshness_column} as timestamptz)"',
            "        config:",
            "          freshness:",
            "            warn_after: {count: 3, period: day}",
        ]
    lines.append("        columns:")
    for column in table.columns:
        lines += _column_yaml(column)
    return lines


def render_sources_yaml() -> str:
    lines = [
        "version: 2",
        "",
        "sources:",
        "  - name: crm",
        "    description: >-",
        "      The raw CRM export (../shared/RAW_CONTRACT.md): one table per file, every column read as text",
        "      and cast in staging. Demo data: the seeds under seeds/demo loaded into the `raw` schema.",
        "      Your own export: set CRM_KPI_RAW_PATH to the folder (and CRM_KPI_RAW_FORMAT=parquet for",
        "      Parquet files); the files are read in place, no `dbt seed`.",
        "    schema: \"{{ var('schema_prefix', '') }}raw\"",
        "    meta:",
        f"      external_location: {_q(EXTERNAL_LOCATION)}",
        f"      decimal_magnitude_limit: {DECIMAL_MAGNITUDE_LIMIT:.0f}",
        f"      integer_magnitude_limit: {INTEGER_MAGNITUDE_LIMIT:.0f}",
        f"      decimal_reason: {_q(DECIMAL_REASON)}",
        "    tables:",
    ]
    for table in TABLES:
        lines += _table_yaml(table)
    return HEADER + "\n".join(lines) + "\n"


def render_seeds_yaml() -> str:
    lines = ["version: 2", "", "seeds:"]
    for table in TABLES:
        lines += [
            f"  - name: {table.name}",
            f"    description: {_q(f'Demo raw {table.name} ({table.grain}); loaded as text like a CRM export.')}",
            "    config:",
            "      column_types:",
        ]
        lines += [f"        {column.name}: varchar" for column in table.columns]
    return HEADER + "\n".join(lines) + "\n"


def quarantining_references(table: Table) -> list[Column]:
    """The references a table's base model checks (quarantine): the required ones of an entity table."""
    if table.event_time:
        return []
    return [column for column in table.columns if column.references and not column.nullable]


def lookup_models(table: Table) -> list[str]:
    """The models a table's base model looks values up in: exchange rates for money, stages, and the
    base models of the tables its required references point to."""
    models = ["stg_crm__exchange_rates"] if table.money else []
    models += sorted({f"stg_crm__{column.lookup}" for column in table.columns if column.lookup})
    return models + sorted({f"base_crm__{column.references}" for column in quarantining_references(table)})


def render_table_names_macro() -> str:
    names = ", ".join(f"'{table.name}'" for table in TABLES)
    lookups = ", ".join(f"'{table.name}': {lookup_models(table)}" for table in TABLES if lookup_models(table))
    events = ", ".join(f"'{table.name}'" for table in TABLES if table.event_time)
    quarantining = {(table.name, column.name) for table in TABLES for column in quarantining_references(table)}
    references = ", ".join(
        f"'{table.name}': ["
        + ", ".join(
            f"('{column.name}', '{column.references}', {(table.name, column.name) in quarantining})"
            for column in table.columns
            if column.references
        )
        + "]"
        for table in TABLES
        if any(column.references for column in table.columns)
    )
    return (
        HEADER.replace("# ", "{# ", 1).replace("\n", " #}\n", 1)
        + "{# The raw tables of the contract (a static list: refs built from it must exist at parse time). #}\n"
        + "{% macro raw_table_names() -%}\n"
        + f"    {{{{ return([{names}]) }}}}\n"
        + "{%- endmacro %}\n"
        + "\n"
        + "{# The event tables (incremental, append-only exports): their conflicts resolve in staging. #}\n"
        + "{% macro raw_event_table_names() -%}\n"
        + f"    {{{{ return([{events}]) }}}}\n"
        + "{%- endmacro %}\n"
        + "\n"
        + "{# The raw tables each table references: (column, table, quarantining), for audit_crm__orphan_keys. #}\n"
        + "{% macro raw_table_references(table_name) -%}\n"
        + f"    {{{{ return({{{references}}}.get(table_name, [])) }}}}\n"
        + "{%- endmacro %}\n"
        + "\n"
        + "{# The models each base model looks values up in (refs known at parse time). #}\n"
        + "{% macro raw_table_lookups(table_name) -%}\n"
        + f"    {{{{ return({{{lookups}}}.get(table_name, [])) }}}}\n"
        + "{%- endmacro %}\n"
    )


def _converted_columns(table: Table) -> list[tuple[str, str]]:
    """The typed columns of a table after money conversion: (name, description)."""
    columns: list[tuple[str, str]] = []
    for column in table.columns:
        if table.money and column.name == "currency":
            columns.append(("original_currency", "ISO 4217 currency of the original amounts (upper case)."))
            continue
        if column.name in table.money:
            columns.append((column.name, f"{column.description} Converted to the reporting currency."))
            columns.append((f"original_{column.name}", f"{column.description} As exported, in original_currency."))
            continue
        columns.append((column.name, column.description))
    if table.money:
        columns.append(
            ("exchange_rate", "Rate used: reporting currency per unit of original_currency on the event date.")
        )
    return columns


def _key_tests(table: Table, indent: str) -> list[str]:
    if len(table.primary_key) == 1:
        return []
    return [
        f"{indent}data_tests:",
        f"{indent}  - unique_combination_of_columns:",
        f"{indent}      arguments:",
        f"{indent}        combination_of_columns: [{', '.join(table.primary_key)}]",
    ]


def _event_config(table: Table, unique_key: bool) -> list[str]:
    """An event table's models name their event time (base and stg), the incremental staging model its
    lookback and key, once, here."""
    if not table.event_time:
        return []
    lines = ["    config:", f"      event_time: {table.event_time}"]
    if unique_key:
        lines.append(f"      meta: {{lookback_days: \"{{{{ var('{table.lookback_var}') }}}}\"}}")
        lines.append(f"      unique_key: [{', '.join(table.primary_key)}]")
    return lines


def _base_model_yaml(table: Table, base_columns: list[tuple[str, str]]) -> str:
    lines = [
        "version: 2",
        "",
        "models:",
        f"  - name: base_crm__{table.name}",
        "    description: "
        + _q(
            f"Every raw {table.name} row, typed and checked by the macro typed_raw_rows: staging keeps the"
            " rows without a quarantine_reason, audit_crm__quarantined_rows lists the others."
        ),
        *_event_config(table, unique_key=False),
        "    columns:",
    ]
    for name, description in base_columns + list(AUDIT_COLUMNS):
        # No test on source_row_number: a base model is a table of its whole file, numbered by the
        # reader, so it is unique by construction; the row accounting counts every row of the file.
        lines += [f"      - name: {name}", f"        description: {_q(description)}"]
    return HEADER + "\n".join(lines) + "\n"


def _staging_model_yaml(table: Table, base_columns: list[tuple[str, str]]) -> str:
    staged = [c for c in base_columns if c[0] != "is_deleted"] + list(EXTRA_STAGING_COLUMNS.get(table.name, ()))
    lines = [
        "version: 2",
        "",
        "models:",
        f"  - name: stg_crm__{table.name}",
        "    description: "
        + _q(
            f"Raw {table.name} ({table.grain}), cleaned: valid rows only, latest re-export per"
            f" {', '.join(table.primary_key)}, soft-deleted records removed, UTC timestamps, enums lower-cased"
            + (", money in the reporting currency" if table.money else "")
            + ". See the staging_rules docs block."
            + (" Incremental: see incremental_strategy." if table.event_time else "")
        ),
        *_event_config(table, unique_key=True),
    ]
    lines += _key_tests(table, "    ")
    lines.append("    columns:")
    enums = {column.name: column.accepted_values for column in table.columns if column.accepted_values}
    for name, description in staged:
        lines += [f"      - name: {name}", f"        description: {_q(description)}"]
        if len(table.primary_key) == 1 and name == table.primary_key[0]:
            lines.append("        data_tests: [unique, not_null]")
        elif name in enums:
            lines += [
                "        data_tests:",
                "          - accepted_values:",
                "              arguments:",
                f"                values: [{', '.join(enums[name])}]",
            ]
    return HEADER + "\n".join(lines) + "\n"


def render_staging_models_yaml() -> dict[Path, str]:
    """One YAML per staging model, beside its SQL: base_crm__<table> in base/ and stg_crm__<table>."""
    files: dict[Path, str] = {}
    for table in TABLES:
        base_columns = _converted_columns(table)
        if "is_deleted" not in table.column_names:
            base_columns = [column for column in base_columns if column[0] != "is_deleted"]
        # The event tables' models are incremental: they live in events/ folders (see dbt_project.yml).
        events = "events" if table.event_time else ""
        files[STAGING_DIR / "base" / events / f"base_crm__{table.name}.yml"] = _base_model_yaml(table, base_columns)
        files[STAGING_DIR / events / f"stg_crm__{table.name}.yml"] = _staging_model_yaml(table, base_columns)
    return files


def rendered_files() -> dict[Path, str]:
    """Every file rendered from the contract, by path relative to the project root."""
    return {
        SOURCES_PATH: render_sources_yaml(),
        SEEDS_PATH: render_seeds_yaml(),
        TABLE_NAMES_MACRO_PATH: render_table_names_macro(),
        **render_staging_models_yaml(),
    }


def write_yaml(root: Path) -> list[Path]:
    written = []
    for relative, text in rendered_files().items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
