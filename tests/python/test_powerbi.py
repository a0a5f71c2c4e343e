"""The Power BI Project `crm-kpi powerbi` writes, parsed back and checked against the dbt manifest.

Power BI Desktop cannot run here (Windows only), so this test reads the TMDL itself with a small parser of its
own (indentation, declarations, properties, expressions), independent of the generator's code, and checks:
the files are well formed; every table and column exists in the manifest with a matching type; every
relationship joins existing columns of the same type, many to one onto a unique key, with one active path
between any two tables; every measure references existing columns; every built KPI has a measure; no ratio is
averaged; rates and ratios are percent, money currency.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from crm_kpi import manifest, powerbi
from crm_kpi import measures as kpi_measures

_DECLARATION = re.compile(
    r"^(?P<kind>[a-zA-Z]+)(?: (?P<name>'(?:[^']|'')+'|[^\s=']+))?(?: =(?: (?P<expression>.*))?)?$"
)
_PROPERTY = re.compile(r"^(?P<key>[a-zA-Z]+)(?:: (?P<value>.*)|(?P<open> =))?$")
_ANNOTATION = re.compile(r"^annotation (\S+) = (.*)$")
_REFERENCE = re.compile(r"'((?:[^']|'')+)'\[([^\]]+)\]")
_KINDS = {"database", "model", "table", "column", "measure", "partition", "relationship", "expression", "ref",
          "queryGroup", "annotation"}  # fmt: skip
_FLAGS = {"isHidden", "isKey", "discourageImplicitMeasures"}


@dataclass
class Node:
    kind: str
    name: str | None
    expression: str | None
    properties: dict[str, str] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)
    description: list[str] = field(default_factory=list)


def _unquote(name: str | None) -> str | None:
    if name and name.startswith("'"):
        return name[1:-1].replace("''", "'")
    return name


def parse_tmdl(text: str) -> list[Node]:
    """A strict reader of the TMDL we write: tab indentation, one level per nesting, `///` descriptions,
    `key: value` properties, flags, and multi-line expressions indented one level below their property."""
    roots: list[Node] = []
    stack: list[tuple[int, Node]] = []
    description: list[str] = []
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        raw = lines[index]
        index += 1
        if not raw.strip():
            continue
        assert raw == raw.rstrip(), f"trailing whitespace: {raw!r}"
        body = raw.lstrip("\t")
        depth = len(raw) - len(body)
        assert not body.startswith(" "), f"indentation must be tabs: {raw!r}"
        if body.startswith("///"):
            description.append(body[3:].strip())
            continue
        while stack and stack[-1][0] >= depth:
            stack.pop()
        declaration = _DECLARATION.match(body)
        if depth == 0 and body.startswith("ref "):
            _, kind, name = body.split(" ", 2)
            node = Node("ref", _unquote(name), None, {"kind": kind})
            roots.append(node)
            stack.append((depth, node))
            continue
        if (
            declaration
            and declaration.group("kind") in _KINDS
            and (not stack or declaration.group("kind") in {"column", "measure", "partition"})
        ):
            expression = declaration.group("expression")
            if expression is None and body.endswith(" ="):  # `measure 'X' =`: the expression on the lines below
                block = []
                while index < len(lines) and lines[index].startswith("\t" * (depth + 2)):
                    block.append(lines[index][depth + 2 :])
                    index += 1
                assert block, f"empty expression: {raw!r}"
                expression = "\n".join(block)
            name = declaration.group("name")
            node = Node(declaration.group("kind"), _unquote(name.removesuffix(" =") if name else name), expression)
            node.description, description = description, []
            assert depth == (stack[-1][0] + 1 if stack else 0), f"bad nesting at {raw!r}"
            (stack[-1][1].children if stack else roots).append(node)
            stack.append((depth, node))
            continue
        assert stack and depth == stack[-1][0] + 1, f"property outside an object or mis-indented: {raw!r}"
        assert not description, f"a description before a property: {raw!r}"
        owner = stack[-1][1]
        annotation = _ANNOTATION.match(body)
        if annotation:
            owner.properties[f"annotation {annotation.group(1)}"] = annotation.group(2)
            continue
        prop = _PROPERTY.match(body)
        assert prop, f"not a property: {raw!r}"
        key = prop.group("key")
        if prop.group("open"):  # a multi-line expression, one level deeper than its property
            block = []
            while index < len(lines) and (not lines[index].strip() or lines[index].startswith("\t" * (depth + 1))):
                block.append(lines[index][depth + 1 :])
                index += 1
            assert any(line.strip() for line in block), f"empty expression for {key}"
            owner.properties[key] = "\n".join(block).strip()
        elif prop.group("value") is not None:
            owner.properties[key] = prop.group("value")
        else:
            assert key in _FLAGS, f"unknown flag {key!r}"
            owner.properties[key] = "true"
    assert not description, "a dangling description at the end of the file"
    return roots


@pytest.fixture(scope="module")
def definition(powerbi_project: Path) -> dict[str, list[Node]]:
    folder = powerbi_project / "crm_kpi.SemanticModel" / "definition"
    return {
        str(path.relative_to(folder)): parse_tmdl(path.read_text(encoding="utf-8"))
        for path in sorted(folder.rglob("*.tmdl"))
    }


def _tables(definition: dict[str, list[Node]]) -> dict[str, Node]:
    tables = {}
    for name, nodes in definition.items():
        if name.startswith("tables/"):
            assert len(nodes) == 1 and nodes[0].kind == "table", name
            assert name == f"tables/{nodes[0].name}.tmdl"
            tables[str(nodes[0].name)] = nodes[0]
    return tables


def test_project_files(powerbi_project: Path) -> None:
    project = powerbi_project
    pbip = json.loads((project / "crm_kpi.pbip").read_text(encoding="utf-8"))
    assert pbip["artifacts"] == [{"report": {"path": "crm_kpi.Report"}}]
    pbir = json.loads((project / "crm_kpi.Report" / "definition.pbir").read_text(encoding="utf-8"))
    assert (project / "crm_kpi.Report" / pbir["datasetReference"]["byPath"]["path"]).resolve() == (
        project / "crm_kpi.SemanticModel"
    ).resolve()
    assert json.loads((project / "crm_kpi.Report" / "report.json").read_text(encoding="utf-8"))["sections"]
    assert json.loads((project / "crm_kpi.SemanticModel" / "definition.pbism").read_text(encoding="utf-8"))["version"]


def test_tables_and_columns_are_the_manifests(
    definition: dict[str, list[Node]], parsed_marts: dict[str, manifest.Mart]
) -> None:
    tables = _tables(definition)
    assert set(tables) == set(parsed_marts), "a table for every mart, and only those"
    (model,) = definition["model.tmdl"][:1]
    refs = {node.name for node in definition["model.tmdl"] if node.kind == "ref" and node.properties["kind"] == "table"}
    assert model.kind == "model" and refs == set(tables)
    assert definition["database.tmdl"][0].properties["compatibilityLevel"].isdigit()
    types = {"int64", "double", "decimal", "dateTime", "boolean", "string"}
    for name, table in tables.items():
        mart = parsed_marts[name]
        assert table.description, f"{name} has no description"
        columns = {node.name: node for node in table.children if node.kind == "column"}
        assert list(columns) == list(mart.column_names), f"{name}: columns differ from the manifest"
        for column in mart.columns:
            node = columns[column.name]
            assert node.properties["dataType"] in types
            assert node.properties["dataType"] == powerbi.tmdl_type(column.data_type)
            assert node.properties["sourceColumn"] == column.name
            assert bool(node.description) == bool(column.description.strip())
            if column.name.endswith(("_id", "_key")):
                assert "isHidden" in node.properties, f"{name}.{column.name}: a technical column is visible"
            if column.measure in {"rate", "ratio"}:
                assert "%" in node.properties["formatString"]
            if column.measure == "money" and column.name not in mart.ratios:
                assert "0.00" in node.properties["formatString"]
            if "sortByColumn" in node.properties:
                assert node.properties["sortByColumn"] in columns
        (partition,) = [node for node in table.children if node.kind == "partition"]
        source = partition.properties["source"]
        assert partition.expression == "m" and partition.properties["mode"] == "import"
        assert source.startswith("let") and source.rstrip().endswith("Typed")
        assert f'{{[Name = "{name}", Kind = "Table"]}}' in source and f'Item = "{name}"' in source
        assert source.count("(") == source.count(")") and source.count("{") == source.count("}")
        for column in mart.column_names:
            assert f'"{column}"' in source
    date_table = tables[powerbi.DATE_TABLE]
    assert date_table.properties.get("dataCategory") == "Time"
    keys = [node.name for node in date_table.children if node.kind == "column" and "isKey" in node.properties]
    assert keys == [powerbi.DATE_KEY]


def test_the_connection_is_parameters(definition: dict[str, list[Node]]) -> None:
    expressions = {node.name: node for node in definition["expressions.tmdl"]}
    assert {"ConnectionType", "PostgresServer", "PostgresDatabase", "DuckDbFile"} <= set(expressions)
    for node in expressions.values():
        assert "IsParameterQuery=true" in str(node.expression)
    assert 'DefaultValue="PostgreSQL"' in str(expressions["ConnectionType"].expression)
    for table in _tables(definition).values():
        source = next(node for node in table.children if node.kind == "partition").properties["source"]
        assert "PostgreSQL.Database(PostgresServer, PostgresDatabase)" in source
        # Navigation (one data source, folding, no approval prompt per native query), read-only.
        assert "Odbc.DataSource(" in source and "HierarchicalNavigation = true" in source
        assert "Odbc.Query(" not in source and "access_mode=READ_ONLY" in source and "DuckDbFile" in source
    # The file default is the project's relative layout, never the generating machine's absolute path.
    assert '"warehouse/crm_kpi.duckdb"' in str(expressions["DuckDbFile"].expression)


def test_relationships(definition: dict[str, list[Node]], parsed_marts: dict[str, manifest.Mart]) -> None:
    tables = _tables(definition)
    columns = {
        (name, node.name): node.properties["dataType"]
        for name, table in tables.items()
        for node in table.children
        if node.kind == "column"
    }
    relationships = definition["relationships.tmdl"]
    assert relationships, "no relationship"
    names, active_edges = set(), []
    for node in relationships:
        assert node.kind == "relationship" and node.name not in names
        names.add(node.name)
        source = tuple(node.properties["fromColumn"].split("."))
        target = tuple(node.properties["toColumn"].split("."))
        assert source in columns and target in columns, f"{source} -> {target}: a column does not exist"
        assert columns[source] == columns[target], f"{source} -> {target}: types differ"
        assert parsed_marts[target[0]].grain == (target[1],), f"{target}: the one side is not its table's key"
        if node.properties.get("isActive") != "false":
            active_edges.append((source[0], target[0]))
    # Every relationships test between two marts of the model is there (active or not).
    declared = {
        (mart.name, key.column, key.to_mart, key.to_column)
        for mart in parsed_marts.values()
        for key in mart.relationships
        if key.to_mart in parsed_marts and parsed_marts[key.to_mart].grain == (key.to_column,)
    }
    written = {
        (*node.properties["fromColumn"].split("."), *node.properties["toColumn"].split(".")) for node in relationships
    }
    assert declared <= written
    # One active path at most between any two tables (Power BI refuses ambiguous models): count the paths.
    graph: dict[str, list[str]] = {}
    for source_table, target_table in active_edges:
        graph.setdefault(source_table, []).append(target_table)

    def paths(start: str, seen: tuple[str, ...]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for nxt in graph.get(start, []):
            assert nxt not in seen, f"a cycle through {nxt}"
            counts[nxt] = counts.get(nxt, 0) + 1
            for further, count in paths(nxt, (*seen, nxt)).items():
                counts[further] = counts.get(further, 0) + count
        return counts

    for table in tables:
        ambiguous = {target: count for target, count in paths(table, (table,)).items() if count > 1}
        assert not ambiguous, f"{table} reaches {ambiguous} by more than one active path"
    # Every fact and KPI mart with a date column has exactly one active relationship to the date table.
    for name, mart in parsed_marts.items():
        has_date = any(column.data_type == "date" for column in mart.columns)
        if mart.is_dimension or not has_date:
            continue
        direct = [edge for edge in active_edges if edge == (name, powerbi.DATE_TABLE)]
        assert len(direct) == 1, f"{name}: {len(direct)} active relationships to {powerbi.DATE_TABLE}"


def test_measures(definition: dict[str, list[Node]], parsed_marts: dict[str, manifest.Mart]) -> None:
    tables = _tables(definition)
    columns = {(name, node.name) for name, table in tables.items() for node in table.children if node.kind == "column"}
    measures = [(name, node) for name, table in tables.items() for node in table.children if node.kind == "measure"]
    names = [node.name for _, node in measures]
    assert len(names) == len(set(names)), "measure names must be unique in the model"
    assert not set(names) & {column for _, column in columns}
    answered: set[str] = set()
    by_column: dict[tuple[str, str], Node] = {}
    for table, node in measures:
        expression = str(node.expression)
        assert expression.count("(") == expression.count(")")
        references = _REFERENCE.findall(expression)
        assert references, f"{node.name} reads no column"
        for referenced_table, column in references:
            assert (referenced_table.replace("''", "'"), column) in columns, (
                f"{node.name}: {referenced_table}[{column}]"
            )
        assert not re.search(r"\bAVERAGEX?\(", expression.upper()), f"{node.name} averages"
        assert node.description and ":" in node.description[0], f"{node.name}: not described"
        assert node.properties.get("formatString")
        area, _, topic = node.properties.get("displayFolder", "").partition(" \\ ")
        assert area in {"Funnel", "Marketing", "Sales", "Customers", "Team"} and topic, node.properties
        kpis = set(node.description[0].split(":")[0].split(", "))
        answered |= kpis
        column_name = references[0][1] if len({c for _, c in references}) == 1 else None
        if column_name:
            by_column[(table, column_name)] = node
    built = {kpi for mart in parsed_marts.values() for kpi in mart.kpi_ids}
    assert built <= answered, f"built KPIs without a measure: {sorted(built - answered)}"
    model = powerbi.build_model(list(parsed_marts.values()))
    measured = {(measure.table, measure.column) for measure in model.measures}
    for mart in parsed_marts.values():
        for column in mart.columns:
            if column.kpis:
                assert (mart.name, column.name) in measured, f"{mart.name}.{column.name}: no measure"
    assert not model.skipped, model.skipped
    for measure in model.measures:
        mart = parsed_marts[measure.table]
        column = mart.column(measure.column)
        assert column is not None
        # Right by default: every grain selector is pinned or guarded; a snapshot takes its period, never a sum.
        held = column.ratio.rows if column.ratio is not None else {}
        for selector in set(mart.reading.selectors) - set(held):
            assert f"ISFILTERED('{mart.name}'[{selector}])" in measure.expression, (measure.name, selector)
        plan = kpi_measures.plan(mart, column)
        assert plan is not None
        if mart.reading.date and plan.time == "exact":  # the context's own period: its first day and last day
            assert f"'{mart.name}'[{mart.reading.date}] = __first" in measure.expression, measure.name
        elif mart.reading.period_type:
            assert f"ISFILTERED('{mart.name}'[{mart.reading.period_type}])" in measure.expression, measure.name
        if column.aggregate in {"opening", "closing"}:
            assert "VAR __at = " + ("MIN(" if column.aggregate == "opening" else "MAX(") in measure.expression
        ratio = column.ratio
        if ratio is not None and "DIVIDE(" in measure.expression:
            for name in ratio.columns:
                assert f"[{name}]" in measure.expression, (measure.name, name)
        if column.measure in {"rate", "ratio"}:
            assert "%" in measure.format_string
        elif column.measure == "money":
            assert "0.00" in measure.format_string and '"$"' in measure.format_string


def test_model_settings_and_names(definition: dict[str, list[Node]]) -> None:
    """Auto date/time off (dim_dates is the date table); business names keep their acronyms."""
    model = definition["model.tmdl"][0]
    assert model.properties.get("annotation __PBI_TimeIntelligenceEnabled") == "0"
    assert powerbi.title("kpi_mqls_to_sqls") == "MQLs to SQLs"
    assert powerbi.title("bookings_growth_yoy") == "Bookings Growth YoY"
    assert powerbi.title("clv_to_cac") == "CLV to CAC"
    assert powerbi.title("cost_per_lead") == "Cost per Lead"


def test_no_contract_type_power_bi_reads_poorly(parsed_marts: dict[str, manifest.Mart]) -> None:
    """Every mart column has a type Power BI maps (no HUGEINT: counts are cast to bigint)."""
    for mart in parsed_marts.values():
        for column in mart.columns:
            assert "hugeint" not in column.data_type.lower()
            powerbi.tmdl_type(column.data_type)
    with pytest.raises(ValueError):
        powerbi.tmdl_type("HUGEINT")


def test_the_parser_refuses_malformed_tmdl() -> None:
    """The reader above is strict enough to catch the mistakes that matter."""
    good = "table t\n\n\tcolumn a\n\t\tdataType: int64\n\t\tsourceColumn: a\n"
    assert parse_tmdl(good)[0].children[0].properties["dataType"] == "int64"
    for bad in (
        "table t\n    column a\n",  # spaces for indentation
        "table t\n\t\tcolumn a\n",  # skipped a level
        "table t\n\tcolumn a\n\t\tdataType int64\n",  # not a property
        "table t\n\tmeasure m = 1\n\t\tsource =\n",  # empty expression
        "table t\n\tcolumn a\n\t\tisFoo\n",  # unknown flag
    ):
        with pytest.raises(AssertionError):
            parse_tmdl(bad)


def test_exposures_yaml_is_rendered_from_the_manifest(parsed_marts: dict[str, manifest.Mart]) -> None:
    from crm_kpi import exposures
    from crm_kpi.paths import project_root

    committed = (project_root() / exposures.EXPOSURES_PATH).read_text(encoding="utf-8")
    assert committed == exposures.exposures_yaml(list(parsed_marts.values())), (
        "models/exposures.yml is out of date: run `crm-kpi powerbi --render-exposures`"
    )
