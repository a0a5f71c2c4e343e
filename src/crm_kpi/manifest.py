"""What the project builds, read from dbt's manifest: the one list of marts for everything outside dbt.

A KPI mart is declared once, in its SQL and its YAML: the YAML holds the description, each column's
formula, the grain (its `unique_combination_of_columns` test, or a column's `unique` test) and, in each
KPI column's `meta`, the catalogue ids the column answers (`kpi: [S1]`), its measure (`money`,
`count`, `rate`, `ratio`, `duration`, `score`, or `average`: a stored mean, which no sum re-aggregates)
and how it aggregates (`aggregate`, see AGGREGATES; a ratio with its `numerator` and `denominator` as
terms). The mart's `config.meta.grain` says how its rows are read (Grain). Every reader takes the KPI
from here: the ratio test (macro declared_ratios), the Power BI measures and their SQL twins
(crm_kpi.measures), the report and the test suite's reader matrix.
The main job's summary, the Great Expectations suites, the cross-engine comparison, the oracle
comparison and the catalogue index all read it from here.

A mart's row rules are contract constraints (enforced by DuckDB and PostgreSQL as the table is
written): `not_null`, and checks written in the project's forms (`x >= 0`, `x between 0 and 1`,
`x >= -1`, `x in ('a', 'b')`). They are read back as the data tests they replace (not_null,
non_negative, rate_between_zero_and_one, at_least, accepted_values), so that everything reading a
mart's rules (the expectation suites, the catalogue) sees one list whichever way a rule is declared.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MARTS_PATH = "models/marts/"
KPI_PREFIX = "kpi_"
MEASURES = ("money", "count", "rate", "ratio", "duration", "score", "average")
# How a KPI column aggregates over rows (meta `aggregate`):
# - sum: additive over periods and members (flows: bookings, leads created);
# - opening / closing: additive over members, over time the first / last period's value (a snapshot:
#   customers or MRR at the start / end, open pipeline);
# - period: additive over members, not over time: only a period's own row answers for that period
#   (distinct counts such as worked deals or respondents, and values that name another period);
# - stored: not additive at all (a median, a mean, a score): one row's value;
# - ratio: sum of the numerator's terms / sum of the denominator's terms over the rows; over time like
#   the least additive column it reads.
AGGREGATES = ("sum", "opening", "closing", "period", "stored", "ratio")
# The contract type of money columns (var contract_types: decimal(18,2) / numeric(18,2)).
_MONEY_TYPE = re.compile(r"^(decimal|numeric)\(18,\s*2\)$")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_REF = re.compile(r"""^\s*ref\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]+)['"]\s*)?\)\s*$""")
# The generic tests that declare a foreign key (dbt's, and the project's variant that allows nulls).
RELATIONSHIP_TESTS = ("relationships", "relationships_when_present")
# The recomputation test of the ratios a mart declares.
RATIOS_TEST = "columns_equal_ratios"
DIMENSION_PREFIX = "dim_"
FACT_PREFIX = "fct_"


@dataclass(frozen=True)
class DataTest:
    """One data test attached to a mart: the generic test's name, its column (if any) and its arguments;
    or a contract constraint read as the test it replaces (`constraint` True)."""

    name: str
    column: str | None
    kwargs: Mapping[str, Any]
    constraint: bool = False


_NUMBER = r"-?\d+(?:\.\d+)?"
_LITERAL = re.compile(rf"'(?:[^']|'')*'|{_NUMBER}")
_CHECK_FORMS = (
    (re.compile(r"^(\w+) >= 0$"), "non_negative"),
    (re.compile(r"^(\w+) between 0 and 1$"), "rate_between_zero_and_one"),
    (re.compile(rf"^(\w+) >= ({_NUMBER})$"), "at_least"),
    (re.compile(r"^(\w+) in \((.+)\)$"), "accepted_values"),
)


def _literal(text: str) -> Any:
    text = text.strip()
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1].replace("''", "'")
    return float(text) if "." in text else int(text)


def _data_tests(name: str, column: str | None, kwargs: Mapping[str, Any]) -> list[DataTest]:
    """A data test as attached to a mart."""
    return [DataTest(name, column, kwargs)]


def constraint_as_test(column: str | None, constraint: Mapping[str, Any]) -> DataTest | None:
    """A column constraint in one of the project's forms as the data test it replaces; None otherwise
    (a model-level check, or another expression: it guards the table, no expectation mirrors it)."""
    if column is None:
        return None
    if constraint.get("type") == "not_null":
        return DataTest("not_null", column, {}, constraint=True)
    expression = str(constraint.get("expression") or "").strip()
    for pattern, name in _CHECK_FORMS if constraint.get("type") == "check" else ():
        match = pattern.match(expression)
        if not match or match.group(1) != column:
            continue
        if name == "at_least":
            return DataTest(name, column, {"min_value": _literal(match.group(2))}, constraint=True)
        if name == "accepted_values":
            values = [_literal(value) for value in _LITERAL.findall(match.group(2))]
            return DataTest(name, column, {"values": values}, constraint=True)
        return DataTest(name, column, {}, constraint=True)
    return None


@dataclass(frozen=True)
class Relationship:
    """A foreign key declared by a `relationships` test: `column` of the mart -> `to_column` of `to_mart`."""

    column: str
    to_mart: str
    to_column: str


@dataclass(frozen=True)
class Ratio:
    """A declared ratio: column = scale x sum(numerator terms) / sum(denominator terms), on the rows holding
    `rows` (null elsewhere), null unless the denominator is above 0 when `positive_denominator`. A term is a
    column, `-column` or `column * column`."""

    column: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    scale: float = 1
    rows: Mapping[str, str] = field(default_factory=dict)
    positive_denominator: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column its terms read, in order."""
        names = [name for term in (*self.numerator, *self.denominator) for name in term_columns(term)]
        return tuple(dict.fromkeys(names))


def term_columns(term: str) -> tuple[str, ...]:
    """The columns of a term: `a` -> (a,), `-a` -> (a,), `a * b` -> (a, b)."""
    return tuple(part.strip() for part in term.lstrip("-").split("*"))


@dataclass(frozen=True)
class Members:
    """Rows whose `column` holds a key of a dimension, which dimension by the value of `by`
    (breakdown `rep` -> dim_reps): a polymorphic key, related by the measures, not by a relationship."""

    by: str
    column: str
    dimensions: Mapping[str, str]


@dataclass(frozen=True)
class Grain:
    """How a mart's rows are read (model meta `grain`): `date` the column the date table filters (a period's
    first day); the period either typed by a column (`period_type`, its last day in `end`, the `default`
    type where none is chosen) or one `length` (month, quarter); `selectors`, columns whose values are
    alternative grains of the same total (each value adds up to the same figure), with the value a reader
    gets where none is chosen (None: none, the measure is blank until one is chosen); `members`."""

    date: str | None = None
    period_type: str | None = None
    period_end: str | None = None
    period_default: str | None = None
    period_length: str | None = None
    selectors: Mapping[str, str | None] = field(default_factory=dict)
    members: Members | None = None

    @property
    def grain_columns(self) -> tuple[str, ...]:
        """The columns that choose a grain (the period type and the selectors)."""
        return tuple(name for name in (self.period_type, *self.selectors) if name)


def _grain_meta(meta: Mapping[str, Any]) -> Grain:
    period = meta.get("period") or {}
    members = meta.get("members")
    return Grain(
        date=meta.get("date"),
        period_type=period.get("type"),
        period_end=period.get("end"),
        period_default=period.get("default"),
        period_length=period.get("length"),
        selectors=dict(meta.get("selectors") or {}),
        members=Members(members["by"], members["column"], dict(members["dimensions"])) if members else None,
    )


@dataclass(frozen=True)
class UnitTest:
    name: str
    columns: frozenset[str]  # the columns its expected rows state


@dataclass(frozen=True)
class MartColumn:
    name: str
    data_type: str
    description: str
    measure: str | None = None
    kpis: tuple[str, ...] = ()
    aggregate: str | None = None
    ratio: Ratio | None = None
    needs: tuple[str, ...] = ()  # optional raw tables without which the column is null (meta `needs`)

    @property
    def is_money(self) -> bool:
        return bool(_MONEY_TYPE.match(self.data_type.replace(" ", "").lower()))


@dataclass(frozen=True)
class Mart:
    name: str
    path: str
    description: str
    columns: tuple[MartColumn, ...]
    grain: tuple[str, ...]
    tests: tuple[DataTest, ...] = ()
    unit_tests: tuple[UnitTest, ...] = field(default=())
    reading: Grain = field(default_factory=Grain)
    needs: tuple[str, ...] = ()  # optional raw tables without which the mart is empty (model meta `needs`)

    @property
    def is_kpi(self) -> bool:
        return self.name.startswith(KPI_PREFIX)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def money_columns(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns if column.is_money)

    @property
    def kpi_ids(self) -> tuple[str, ...]:
        return tuple(sorted({kpi for column in self.columns for kpi in column.kpis}, key=catalogue_order))

    def columns_tested(self, test_name: str) -> tuple[str, ...]:
        return tuple(test.column for test in self.tests if test.name == test_name and test.column)

    def tests_named(self, test_name: str) -> tuple[DataTest, ...]:
        return tuple(test for test in self.tests if test.name == test_name)

    @property
    def is_dimension(self) -> bool:
        return self.name.startswith(DIMENSION_PREFIX)

    @property
    def is_fact(self) -> bool:
        return self.name.startswith(FACT_PREFIX)

    def column(self, name: str) -> MartColumn | None:
        return next((column for column in self.columns if column.name == name), None)

    @property
    def relationships(self) -> tuple[Relationship, ...]:
        """The foreign keys its `relationships` tests declare (to other models, by name)."""
        found = []
        for test in self.tests:
            target = ref_name(test.kwargs.get("to"))
            field_name = test.kwargs.get("field")
            if test.name in RELATIONSHIP_TESTS and test.column and target and isinstance(field_name, str):
                found.append(Relationship(test.column, target, field_name))
        return tuple(dict.fromkeys(found))

    @property
    def ratios(self) -> dict[str, Ratio]:
        """The ratios its columns declare (meta `aggregate: ratio`), by ratio column."""
        return {column.name: column.ratio for column in self.columns if column.ratio is not None}


def catalogue_order(kpi_id: str) -> tuple[str, int]:
    """F1 < F2 < F10: the area letter, then the number."""
    match = re.match(r"^([A-Z]+)(\d+)$", kpi_id)
    return (match.group(1), int(match.group(2))) if match else (kpi_id, 0)


def ref_name(value: Any) -> str | None:
    """The model name of a test argument such as `ref('dim_reps')` (None when it is not a ref)."""
    match = _REF.match(value) if isinstance(value, str) else None
    if not match:
        return None
    return match.group(2) or match.group(1)


def is_identifier(expression: str) -> bool:
    """A plain column name (not an expression such as `won_deals + lost_deals`)."""
    return bool(_IDENTIFIER.match(expression.strip()))


def load(manifest_path: Path) -> dict[str, Any]:
    if not manifest_path.is_file():
        raise FileNotFoundError(f"no dbt manifest at {manifest_path}: run `dbt parse` (or `crm-kpi run`) first")
    manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
    return manifest


def _as_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(item) for item in value)


def _column(raw: Mapping[str, Any]) -> MartColumn:
    meta = {**(raw.get("config") or {}).get("meta", {}), **(raw.get("meta") or {})}
    name = str(raw["name"])
    aggregate = meta.get("aggregate")
    if aggregate is not None and aggregate not in AGGREGATES:
        raise ValueError(f"column {name}: meta aggregate {aggregate!r} is not one of {', '.join(AGGREGATES)}")
    ratio = None
    if aggregate == "ratio":
        ratio = Ratio(
            column=name,
            numerator=_as_list(meta.get("numerator")),
            denominator=_as_list(meta.get("denominator")),
            scale=float(meta.get("scale") or 1),
            rows={str(key): str(value) for key, value in (meta.get("rows") or {}).items()},
            positive_denominator=bool(meta.get("positive_denominator")),
        )
        if not ratio.numerator or not ratio.denominator:
            raise ValueError(f"column {name}: a ratio declares a numerator and a denominator (lists of terms)")
    return MartColumn(
        name=name,
        data_type=str(raw.get("data_type") or ""),
        description=str(raw.get("description") or ""),
        measure=meta.get("measure"),
        kpis=_as_list(meta.get("kpi")),
        aggregate=aggregate,
        ratio=ratio,
        needs=_as_list(meta.get("needs")),
    )


def _model_meta(node: Mapping[str, Any]) -> Mapping[str, Any]:
    return {**(node.get("meta") or {}), **((node.get("config") or {}).get("meta") or {})}


def _grain(tests: tuple[DataTest, ...]) -> tuple[str, ...]:
    for test in tests:
        if test.name == "unique_combination_of_columns":
            return _as_list(test.kwargs.get("combination_of_columns"))
    return tuple(test.column for test in tests if test.name == "unique" and test.column)[:1]


def marts(manifest: Mapping[str, Any]) -> list[Mart]:
    """Every model under models/marts/ (dims, facts, KPI marts), with its tests, grain and unit tests."""
    tests: dict[str, list[DataTest]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and node.get("attached_node") and node.get("test_metadata"):
            metadata = node["test_metadata"]
            kwargs = {key: value for key, value in metadata.get("kwargs", {}).items() if key != "model"}
            tests.setdefault(node["attached_node"], []).extend(
                _data_tests(metadata["name"], node.get("column_name"), kwargs)
            )
    unit_tests: dict[str, list[UnitTest]] = {}
    for node in manifest.get("unit_tests", {}).values():
        rows = (node.get("expect") or {}).get("rows") or []
        columns = frozenset(key for row in rows if isinstance(row, dict) for key in row)
        for model in (node.get("depends_on") or {}).get("nodes", [])[:1]:
            unit_tests.setdefault(model, []).append(UnitTest(str(node["name"]), columns))
    found = []
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] != "model" or not node["original_file_path"].startswith(MARTS_PATH):
            continue
        constraints = [
            constraint_as_test(column["name"], constraint)
            for column in node["columns"].values()
            for constraint in column.get("constraints") or []
        ]
        mart_tests = (*tests.get(unique_id, []), *(test for test in constraints if test is not None))
        found.append(
            Mart(
                name=node["name"],
                path=node["original_file_path"],
                description=node.get("description") or "",
                columns=tuple(_column(column) for column in node["columns"].values()),
                grain=_grain(mart_tests),
                tests=mart_tests,
                unit_tests=tuple(unit_tests.get(unique_id, [])),
                reading=_grain_meta(_model_meta(node).get("grain") or {}),
                needs=_as_list(_model_meta(node).get("needs")),
            )
        )
    return sorted(found, key=lambda mart: mart.name)


def kpi_marts(manifest: Mapping[str, Any]) -> list[Mart]:
    """The KPI marts (`kpi_` prefix): the tables that answer the catalogue."""
    return [mart for mart in marts(manifest) if mart.is_kpi]


def manifest_path(target_dir: Path) -> Path:
    return target_dir / "manifest.json"


def built_marts(target_dir: Path) -> list[Mart]:
    """Every mart of the project, from the manifest dbt last wrote into this target/ folder."""
    return marts(load(manifest_path(target_dir)))


def built_kpi_marts(target_dir: Path) -> list[Mart]:
    return [mart for mart in built_marts(target_dir) if mart.is_kpi]
