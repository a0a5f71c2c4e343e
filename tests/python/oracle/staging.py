"""Staging in pandas: every raw CSV read as text, each column parsed and checked by the raw contract
(src/crm_kpi/contract.py: types, enumerations, required values, ranges, lookups, plausible dates, finite
numbers, references), the refused rows dropped, money converted with the exchange rates, conflicting
duplicates refused, re-exports and soft deletes resolved, dangling nullable references cleared. Written
from the raw contract (../shared/RAW_CONTRACT.md and the notes in contract.py), never from the staging SQL."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from crm_kpi.contract import (
    BOOLEAN,
    DATE,
    DECIMAL,
    DECIMAL_MAGNITUDE_LIMIT,
    EARLIEST_PLAUSIBLE_DATE,
    INTEGER,
    INTEGER_MAGNITUDE_LIMIT,
    LATEST_PLAUSIBLE_DATE,
    TABLES_BY_NAME,
    TIMESTAMP,
    Column,
    Table,
)

Raw = dict[str, pd.DataFrame]

TRUE_VALUES = frozenset({"true", "t", "1", "yes", "y"})
FALSE_VALUES = frozenset({"false", "f", "0", "no", "n"})
_DECIMAL_PATTERN = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def read_csv_as_text(path: Path) -> pd.DataFrame:
    """A raw CSV with every column as text and empty strings as null."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    return frame.astype(object).where(frame != "", None)


def parse_timestamps(values: pd.Series) -> pd.Series:
    """ISO 8601 timestamps with or without an offset (none = UTC) to UTC-naive timestamps; NaT if unparsable."""
    text = values.where(values.isna(), values.astype(str).str.strip())
    # A timestamp without an offset is UTC: say so explicitly, because pandas applies the offset of an
    # earlier element of a mixed series to the naive ones that follow it.
    has_offset = text.fillna("").str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True)
    text = text.where(has_offset | text.isna(), text + "Z")
    parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
    return parsed.dt.tz_convert(None)


def parse_dates(values: pd.Series) -> pd.Series:
    """`YYYY-MM-DD` dates to midnight timestamps; NaT if unparsable."""
    text = values.where(values.isna(), values.astype(str).str.strip())
    well_formed = text.notna() & text.fillna("").str.match(_DATE_PATTERN)
    return pd.to_datetime(text.where(well_formed), format="%Y-%m-%d", errors="coerce")


def parse_decimals(values: pd.Series) -> pd.Series:
    """Plain decimal numbers (sign, digits, point, exponent; no `nan`, `inf` or thousands separators)."""
    text = values.where(values.isna(), values.astype(str).str.strip())
    well_formed = text.notna() & text.fillna("").str.match(_DECIMAL_PATTERN)
    return pd.to_numeric(text.where(well_formed), errors="coerce").astype(float)


def parse_integers(values: pd.Series) -> pd.Series:
    """Decimal numbers with an integral value below the magnitude limit (`12` or `12.0`; `12.5` does not parse)."""
    numbers = parse_decimals(values)
    return numbers.where(numbers.isna() | ((numbers == np.floor(numbers)) & (numbers.abs() < INTEGER_MAGNITUDE_LIMIT)))


def parse_booleans(values: pd.Series) -> pd.Series:
    """true/false, t/f, 1/0, yes/no, y/n (trimmed, any case); None if null or unparsable."""
    text = values.where(values.isna(), values.astype(str).str.strip().str.lower())
    return text.map(lambda v: True if v in TRUE_VALUES else False if v in FALSE_VALUES else None).astype(object)


def is_true(values: pd.Series) -> pd.Series:
    """A boolean mask that is True only where the (parsed) value is True; null counts as False."""
    return values.map(lambda v: v is True).astype(bool)


def lookup(keys: pd.Series, values: pd.Series) -> pd.Series:
    """values[key] for each key (null where absent); `values` has a unique index. Keeps the values' dtype."""
    return pd.Series(values.reindex(keys.to_numpy()).to_numpy(), index=keys.index, dtype=values.dtype)


def normalise_enum(values: pd.Series) -> pd.Series:
    return values.where(values.isna(), values.astype(str).str.strip().str.lower())


def parse_column(column: Column, values: pd.Series, allowed: frozenset[str] | None) -> tuple[pd.Series, pd.Series]:
    """The typed column and a mask of rows whose non-null value is invalid (unparsable or not in `allowed`)."""
    present = values.notna()
    if column.type == TIMESTAMP:
        parsed: pd.Series = parse_timestamps(values)
    elif column.type == DATE:
        parsed = parse_dates(values)
    elif column.type == DECIMAL:
        parsed = parse_decimals(values)
    elif column.type == INTEGER:
        parsed = parse_integers(values)
    elif column.type == BOOLEAN:
        parsed = parse_booleans(values)
    elif column.accepted_values or column.lowercase:
        parsed = normalise_enum(values)
        if allowed is None:
            return parsed, pd.Series(False, index=values.index)
        return parsed, present & ~parsed.isin(allowed)
    else:
        parsed = values
    return parsed, present & parsed.isna()


def exchange_rate(currency: pd.Series, on: pd.Series, rates: pd.DataFrame, reporting_currency: str) -> pd.Series:
    """Rate to the reporting currency on `on`, else the latest earlier one; 1 for the reporting currency."""
    code = currency.where(currency.isna(), currency.astype(str).str.strip().str.upper())
    left = pd.DataFrame({"row": np.arange(len(code)), "currency": code.to_numpy(), "on": on.dt.normalize().to_numpy()})
    left["currency"] = left["currency"].astype("str")
    known = left["currency"].notna() & left["on"].notna()
    result = pd.Series(np.nan, index=np.arange(len(code)))
    if not rates.empty and known.any():
        right = rates.rename(columns={"rate_date": "on", "rate_to_reporting": "rate"})[["currency", "on", "rate"]]
        right = right.assign(currency=right["currency"].str.strip().str.upper().astype("str")).sort_values("on")
        matched = pd.merge_asof(left[known].sort_values("on"), right, on="on", by="currency", direction="backward")
        result[matched["row"].to_numpy()] = matched["rate"].to_numpy()
    result[(left["currency"] == reporting_currency.strip().upper()).to_numpy()] = 1.0
    return pd.Series(result.to_numpy(), index=currency.index)


def quarantine_mask(table: Table, typed: pd.DataFrame, invalid: pd.DataFrame, raw: pd.DataFrame) -> pd.Series:
    """Rows that fail a value check of the contract: unparsable, unknown enum or lookup value, missing required
    value, none of a one-of group, a number out of its range, an end not after its start."""
    bad = invalid.any(axis=1)
    earliest, latest = pd.Timestamp(EARLIEST_PLAUSIBLE_DATE), pd.Timestamp(LATEST_PLAUSIBLE_DATE)
    for column in table.columns:
        if not column.nullable:
            bad |= raw[column.name].isna()
        value = typed[column.name]
        if column.type == DECIMAL:
            bad |= value.notna() & ~(value.abs() < DECIMAL_MAGNITUDE_LIMIT)
        if column.type in (DATE, TIMESTAMP):
            day = value.dt.normalize()
            bad |= value.notna() & ((day < earliest) | (day > latest))
        if column.minimum is not None and column.exclusive_minimum:
            bad |= value.notna() & (value <= column.minimum)
        elif column.minimum is not None:
            bad |= value.notna() & (value < column.minimum)
        if column.maximum is not None:
            bad |= value.notna() & (value > column.maximum)
        if column.range_by is not None:
            by, ranges = column.range_by
            for by_value, low, high in ranges:
                bad |= (typed[by] == by_value) & value.notna() & ((value < low) | (value > high))
        if column.after is not None:
            bad |= value.notna() & typed[column.after].notna() & (value <= typed[column.after])
    if table.one_of:
        bad |= pd.concat([typed[name].isna() for name in table.one_of], axis=1).all(axis=1)
    return bad


def check_table(
    table: Table,
    raw: pd.DataFrame,
    rates: pd.DataFrame,
    reporting_currency: str,
    stage_names: frozenset[str],
) -> tuple[pd.DataFrame, pd.Series]:
    """One raw table typed, money converted, with the mask of its refused rows: value checks, then
    conflicting duplicates of an entity table (rows of one key and version that differ once parsed)."""
    raw = raw.copy()
    for name in table.column_names:
        if name not in raw.columns:
            raw[name] = None
    typed = raw.copy()
    invalid = pd.DataFrame(False, index=raw.index, columns=table.column_names)
    for column in table.columns:
        allowed = frozenset(column.accepted_values) or None
        if column.lookup == "stages":
            allowed = stage_names
        typed[column.name], invalid[column.name] = parse_column(column, raw[column.name], allowed)
    bad = quarantine_mask(table, typed, invalid, raw)

    if table.money:
        event_date = typed[str(table.money_date)]
        rate = exchange_rate(typed["currency"], event_date, rates, reporting_currency)
        for money in table.money:
            bad |= typed[money].notna() & rate.isna()
            typed[f"original_{money}"] = typed[money]
            typed[money] = typed[money] * rate
        typed["original_currency"] = typed["currency"].str.strip().str.upper()
    if not table.event_time and table.primary_key:
        bad |= _conflicting(table, typed, ~bad)
    return typed, bad


def _compared(table: Table) -> list[str]:
    """The columns whose values make two rows of one record different (money as exported)."""
    skipped = {*table.primary_key, "updated_at"}
    return [
        f"original_{name}" if name in table.money or (table.money and name == "currency") else name
        for name in table.column_names
        if name not in skipped
    ]


def _conflicting(table: Table, typed: pd.DataFrame, valid: pd.Series) -> pd.Series:
    """Valid rows of an entity record whose rows with the same version (updated_at, if any) differ."""
    group = [*table.primary_key, *(["updated_at"] if "updated_at" in table.column_names else [])]
    result = pd.Series(False, index=typed.index)
    rows = typed[valid]
    if rows.empty:
        return result
    values = rows[_compared(table)].astype(str).agg("|".join, axis=1)
    variants = values.groupby([rows[name] for name in group], dropna=False).transform("nunique")
    result[variants.index] = variants > 1
    return result


def resolve_table(table: Table, typed: pd.DataFrame, bad: pd.Series) -> pd.DataFrame:
    """The staged rows: valid rows, one per record (the latest version; of an event's rows that differ,
    the one whose values sort last), soft-deleted records removed."""
    staged = typed[~bad]
    if table.primary_key and not staged.empty:
        order = ["updated_at"] if "updated_at" in table.column_names else []
        staged = staged.assign(_values=staged[_compared(table)].astype(str).agg("|".join, axis=1))
        staged = staged.sort_values([*order, "_values"], kind="stable").drop_duplicates(
            list(table.primary_key), keep="last"
        )
        staged = staged.drop(columns="_values")
    if "is_deleted" in table.column_names:
        staged = staged[~is_true(staged["is_deleted"])]
    return staged.sort_index().reset_index(drop=True)


def stage_table(
    table: Table,
    raw: pd.DataFrame,
    rates: pd.DataFrame,
    reporting_currency: str,
    stage_names: frozenset[str],
) -> pd.DataFrame:
    """Staging of one raw table on its own (no references): value checks, money, conflicts, re-exports,
    soft deletes."""
    typed, bad = check_table(table, raw, rates, reporting_currency, stage_names)
    return resolve_table(table, typed, bad)


def _dependency_order() -> list[str]:
    """The tables, each after the tables its required references point to."""
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name in ordered:
            return
        for column in TABLES_BY_NAME[name].columns:
            if column.references and not column.nullable and not TABLES_BY_NAME[name].event_time:
                visit(column.references)
        ordered.append(name)

    for name in TABLES_BY_NAME:
        visit(name)
    return ordered


def load_raw(raw_dir: Path, reporting_currency: str = "USD") -> Raw:
    """Every `<table>.csv` in raw_dir, staged; absent tables are empty frames with the contract's columns.

    References (contract.py): a required reference of an entity table to a table that has valid rows
    must be the key of a staged record there, or the row is refused; a nullable reference of an entity
    table that is not is cleared; an event table's references are kept as exported."""
    texts: dict[str, pd.DataFrame] = {}
    for name, table in TABLES_BY_NAME.items():
        path = Path(raw_dir) / f"{name}.csv"
        exists = path.exists() and path.stat().st_size > 0
        texts[name] = read_csv_as_text(path) if exists else pd.DataFrame(columns=table.column_names)

    no_rates = pd.DataFrame(columns=["currency", "rate_date", "rate_to_reporting"])
    rates = stage_table(
        TABLES_BY_NAME["exchange_rates"], texts["exchange_rates"], no_rates, reporting_currency, frozenset()
    )
    stages = stage_table(TABLES_BY_NAME["stages"], texts["stages"], rates, reporting_currency, frozenset())
    stage_names = frozenset(stages["stage"].dropna())

    staged: Raw = {"exchange_rates": rates, "stages": stages}
    has_records: dict[str, bool] = {"exchange_rates": not rates.empty, "stages": not stages.empty}
    for name in _dependency_order():
        if name in staged:
            continue
        table = TABLES_BY_NAME[name]
        typed, bad = check_table(table, texts[name], rates, reporting_currency, stage_names)
        for column in table.columns:
            if column.references and not column.nullable and not table.event_time and has_records[column.references]:
                parent = TABLES_BY_NAME[column.references]
                live = set(staged[column.references][parent.primary_key[0]].dropna())
                bad |= ~bad & ~typed[column.name].isin(live)
        has_records[name] = bool((~bad).any())
        staged[name] = resolve_table(table, typed, bad)
    for name, table in TABLES_BY_NAME.items():
        for column in table.columns:
            if column.references and column.nullable and not table.event_time and has_records[column.references]:
                parent = TABLES_BY_NAME[column.references]
                live = set(staged[column.references][parent.primary_key[0]].dropna())
                frame = staged[name]
                staged[name] = frame.assign(**{column.name: frame[column.name].where(frame[column.name].isin(live))})
    return staged
