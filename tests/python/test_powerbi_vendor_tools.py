"""The Power BI Project `crm-kpi powerbi` writes, read by Microsoft's own tools and by vendor parsers.

Power BI Desktop cannot run here; test_powerbi.py reads the TMDL with a parser of its own. This module hands the
files to the readers Power BI is built on, or that are published for its formats:
- the TMDL folder to Microsoft's TmdlSerializer (Microsoft.AnalysisServices.Tabular: the .NET Framework build that
  the PyPI wheel pbi-cli-tool ships), through a few lines of C# (tests/tools/TmdlCheck.cs) compiled by Mono's mcs
  and run by mono: it must read every table, measure, relationship and M parameter the generator wrote, no more;
- the JSON files to Microsoft's published JSON schemas, the ones their `$schema` names, found in the folder
  CRM_KPI_PBIP_SCHEMAS (a copy of the schemas' repository: `fabric/pbip/...`); no package registry ships them,
  so the test skips without that folder;
- every M expression (the partitions' sources, the parameters) to Microsoft's Power Query parser,
  @microsoft/powerquery-parser (tests/tools/powerquery, installed by `npm ci` on first use);
- every DAX measure to pbi-parsers' DAX parser.
Each check has a broken control that must fail it for the reason planted, so that a check that cannot fail is
seen. Mono, Node.js and npm come from Debian in CI (.ci/run), where CRM_KPI_REQUIRE_ENGINES=1 makes a missing
tool fail the test; elsewhere it skips.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from crm_kpi import manifest, powerbi
from engines import require
from test_powerbi import parse_tmdl

TOOLS = Path(__file__).resolve().parents[1] / "tools"


def _definition(project: Path) -> Path:
    return project / f"{powerbi.PROJECT_NAME}.SemanticModel" / "definition"


def _broken_copy(folder: Path, destination: Path, file: str, old: str, new: str) -> Path:
    """A copy of the folder with the first `old` of one file replaced by `new` (which must be there)."""
    copy = destination / "broken"
    shutil.copytree(folder, copy)
    text = (copy / file).read_text(encoding="utf-8")
    assert old in text, f"{file} has no {old!r}: the control no longer breaks anything"
    (copy / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    return copy


# --- TMDL: Microsoft's TmdlSerializer --------------------------------------------------------------------


def _analysis_services_dlls() -> Path:
    try:
        wheel = importlib.metadata.distribution("pbi-cli-tool")
    except importlib.metadata.PackageNotFoundError:
        require("pbi-cli-tool", "the wheel that ships Microsoft.AnalysisServices.Tabular.dll is not installed")
    folder = Path(str(wheel.locate_file("pbi_cli/dlls")))
    assert (folder / "Microsoft.AnalysisServices.Tabular.dll").is_file(), f"no Tabular DLL in {folder}"
    return folder


@pytest.fixture(scope="module")
def tmdl_check(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], subprocess.CompletedProcess[str]]:
    """tests/tools/TmdlCheck.cs compiled once (mcs); returns a function that runs it (mono) on a TMDL folder."""
    mono, mcs = shutil.which("mono"), shutil.which("mcs")
    if mono is None or mcs is None:
        require("Mono", "mono or mcs is missing (apt-get install mono-runtime mono-mcs "
                "libmono-system-runtime-serialization4.0-cil libmono-system-data4.0-cil)")  # fmt: skip
    dlls = _analysis_services_dlls()
    exe = tmp_path_factory.mktemp("tmdl_check") / "TmdlCheck.exe"
    references = [f"-r:{dlls / f'Microsoft.AnalysisServices.{name}.dll'}" for name in ("Tabular", "Core")]
    built = subprocess.run(
        [mcs, "-nologo", f"-out:{exe}", *references, str(TOOLS / "TmdlCheck.cs")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, f"mcs failed:\n{built.stdout}{built.stderr}"

    def run(folder: Path) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "MONO_PATH": str(dlls)}  # the DLLs' folder: mono resolves the references there
        return subprocess.run([mono, str(exe), str(folder)], env=env, capture_output=True, text=True, timeout=120)

    return run


def test_tmdl_serializer_reads_what_the_generator_wrote(
    tmdl_check: Callable[[Path], subprocess.CompletedProcess[str]],
    powerbi_project: Path,
    parsed_marts: dict[str, manifest.Mart],
) -> None:
    definition = _definition(powerbi_project)
    done = tmdl_check(definition)
    assert done.returncode == 0, f"TmdlSerializer refused the model:\n{done.stderr}"
    read: dict[str, list[tuple[str, ...]]] = {"table": [], "measure": [], "relationship": [], "expression": []}
    for line in done.stdout.splitlines():
        kind, *fields = line.split("\t")
        read[kind].append(tuple(fields))
    model = powerbi.build_model(list(parsed_marts.values()))
    wrote: dict[str, list[tuple[str, ...]]] = {
        "table": [(table.name,) for table in model.tables],
        "measure": [(measure.table, measure.name) for measure in model.measures],
        "relationship": [
            (f"{r.from_table}.{r.from_column}", f"{r.to_table}.{r.to_column}", str(r.active))
            for r in model.relationships
        ],
        "expression": [(str(node.name),) for node in parse_tmdl((definition / "expressions.tmdl").read_text())],
    }
    counts = {kind: len(items) for kind, items in read.items()}
    assert counts == {kind: len(items) for kind, items in wrote.items()}, f"TmdlSerializer read {counts}"
    for kind, items in wrote.items():
        assert sorted(read[kind]) == sorted(items), f"the {kind}s read differ from the ones written"


@pytest.mark.parametrize(
    ("file", "old", "new", "error"),
    [
        # A relationship to a column that does not exist: the serializer cannot resolve the link.
        ("relationships.tmdl", "toColumn: dim_dates.date_day", "toColumn: dim_dates.no_such_column", "ToColumn"),
        # A property TMDL does not have.
        ("tables/dim_dates.tmdl", "\t\tdataType: ", "\t\tdataTyp: ", "dataTyp"),
        # A value the property cannot take.
        ("tables/dim_dates.tmdl", "summarizeBy: none", "summarizeBy: nonsense", "nonsense"),
    ],
    ids=["unknown-column-in-relationship", "unknown-property", "bad-enum-value"],
)
def test_tmdl_serializer_refuses_a_broken_model(
    tmdl_check: Callable[[Path], subprocess.CompletedProcess[str]],
    powerbi_project: Path,
    tmp_path: Path,
    file: str,
    old: str,
    new: str,
    error: str,
) -> None:
    done = tmdl_check(_broken_copy(_definition(powerbi_project), tmp_path, file, old, new))
    assert done.returncode == 1 and "Tmdl" in done.stderr and error in done.stderr, done.stdout[-500:] + done.stderr


# --- JSON: Microsoft's published JSON schemas ------------------------------------------------------------

SCHEMA_HOST = "https://developer.microsoft.com/json-schemas/"
# The PBIR-Legacy report layout: Microsoft publishes no JSON schema for it.
NO_SCHEMA = {"crm_kpi.Report/report.json"}


def _schemas() -> Path:
    folder = os.environ.get("CRM_KPI_PBIP_SCHEMAS")
    if not folder:
        pytest.skip(
            "CRM_KPI_PBIP_SCHEMAS is not set: it names a copy of Microsoft's JSON schemas (the folder holding "
            "fabric/pbip/...); no package on PyPI or npm ships them"
        )
    assert (Path(folder) / "fabric").is_dir(), f"CRM_KPI_PBIP_SCHEMAS={folder} holds no fabric/ folder"
    return Path(folder)


def _schema_errors(document: dict[str, Any], schemas: Path) -> list[str]:
    """The errors of a document against the schema its `$schema` names (and the schemas that one refers to)."""
    url = document.get("$schema")
    assert isinstance(url, str) and url.startswith(SCHEMA_HOST), f"not a Microsoft schema: {url!r}"

    def load(uri: str) -> Any:
        path = schemas / uri.removeprefix(SCHEMA_HOST)
        assert path.is_file(), f"{uri}: not in {schemas}"
        return json.loads(path.read_text(encoding="utf-8"))

    def resource(uri: str) -> Resource[Any]:
        return Resource.from_contents(load(uri), DRAFT7)

    schema = load(url)
    # `retrieve` is an attrs alias that mypy does not see; it is the documented way to load referred schemas.
    registry: Registry[Any] = Registry(retrieve=resource)  # type: ignore[call-arg]
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema, registry=registry, format_checker=validator_class.FORMAT_CHECKER)
    return sorted(f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document))


def test_json_files_match_microsofts_schemas(powerbi_project: Path) -> None:
    schemas = _schemas()
    files = sorted(path for path in powerbi_project.rglob("*") if path.suffix in {".json", ".pbip", ".pbism", ".pbir"})
    validated, without = [], set()
    for path in files:
        name = path.relative_to(powerbi_project).as_posix()
        document = json.loads(path.read_text(encoding="utf-8"))
        if "$schema" not in document:
            without.add(name)
            continue
        assert not _schema_errors(document, schemas), f"{name}: {_schema_errors(document, schemas)}"
        validated.append(name)
    assert without == NO_SCHEMA, f"JSON files that name no schema: {sorted(without)}"
    assert {"crm_kpi.pbip", "crm_kpi.SemanticModel/definition.pbism", "crm_kpi.Report/definition.pbir"} <= set(
        validated
    )


@pytest.mark.parametrize(
    ("file", "change", "error"),
    [
        ("crm_kpi.pbip", {"version": 1.0}, "/version: 1.0 is not of type 'string'"),
        ("crm_kpi.SemanticModel/definition.pbism", {"compatibilityLevel": 1567}, "Additional properties"),
        ("crm_kpi.Report/definition.pbir", {"datasetReference": {"byPath": {}}}, "'path' is a required property"),
    ],
    ids=["wrong-type", "unknown-property", "missing-property"],
)
def test_the_schemas_refuse_a_broken_file(powerbi_project: Path, file: str, change: dict[str, Any], error: str) -> None:
    schemas = _schemas()
    document = {**json.loads((powerbi_project / file).read_text(encoding="utf-8")), **change}
    errors = _schema_errors(document, schemas)
    assert any(error in message for message in errors), errors


# --- M: Microsoft's Power Query parser -------------------------------------------------------------------


@pytest.fixture(scope="module")
def powerquery_check() -> Callable[[dict[str, str]], dict[str, str | None]]:
    """tests/tools/powerquery/check.js, its pinned parser installed by `npm ci` when absent or another version."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        require("Node.js", "node or npm is missing (apt-get install nodejs npm)")
    folder = TOOLS / "powerquery"
    wanted = json.loads((folder / "package.json").read_text(encoding="utf-8"))["dependencies"]
    installed = folder / "node_modules" / "@microsoft" / "powerquery-parser" / "package.json"
    if (
        not installed.is_file()
        or json.loads(installed.read_text())["version"] != wanted["@microsoft/powerquery-parser"]
    ):
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, f"npm ci failed in {folder}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"

    def run(expressions: dict[str, str]) -> dict[str, str | None]:
        done = subprocess.run(
            [node, str(folder / "check.js")],
            input=json.dumps(expressions),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode in {0, 1}, done.stderr
        results: dict[str, str | None] = json.loads(done.stdout)
        assert results.keys() == expressions.keys()
        return results

    return run


def _m_expressions(project: Path) -> dict[str, str]:
    """Every partition's source and every parameter's expression, as the TMDL files hold them."""
    definition, found = _definition(project), {}
    for path in sorted((definition / "tables").glob("*.tmdl")):
        (table,) = parse_tmdl(path.read_text(encoding="utf-8"))
        for partition in (node for node in table.children if node.kind == "partition"):
            found[f"partition {partition.name}"] = partition.properties["source"]
    for node in parse_tmdl((definition / "expressions.tmdl").read_text(encoding="utf-8")):
        assert node.kind == "expression" and node.expression, node
        found[f"expression {node.name}"] = node.expression
    return found


def test_power_query_parser_reads_every_m_expression(
    powerquery_check: Callable[[dict[str, str]], dict[str, str | None]], powerbi_project: Path
) -> None:
    expressions = _m_expressions(powerbi_project)
    tables = len(list((_definition(powerbi_project) / "tables").glob("*.tmdl")))
    assert len(expressions) == tables + 4, "one partition a table and the four connection parameters"
    errors = {name: error for name, error in powerquery_check(expressions).items() if error}
    assert not errors, errors


def test_power_query_parser_refuses_broken_m(
    powerquery_check: Callable[[dict[str, str]], dict[str, str | None]], powerbi_project: Path
) -> None:
    name, source = next(iter(_m_expressions(powerbi_project).items()))
    broken = {
        "unclosed parenthesis": source.replace("Table.SelectColumns(Source, ", "Table.SelectColumns((Source, ", 1),
        "unterminated text": source.replace('"marts"', '"marts', 1),
        "missing in": source.replace("\nin\n", "\n", 1),
    }
    assert all(text != source for text in broken.values()), f"{name}: a control no longer breaks anything"
    results = powerquery_check({"good": source, **broken})
    assert results.pop("good") is None
    assert all(results.values()), results
    assert str(results["unterminated text"]).startswith("Lex:"), results


# --- DAX: pbi-parsers ------------------------------------------------------------------------------------


def _dax_error(expression: str) -> str | None:
    """None when pbi-parsers' DAX parser reads the whole expression, else what stopped it."""
    try:
        from pbi_parsers import dax
        from pbi_parsers.dax.main import remove_non_executing_tokens
    except ImportError as missing:
        require("pbi-parsers", str(missing))
    try:
        parser = dax.Parser(remove_non_executing_tokens(dax.Lexer(expression).scan()))
    except ValueError as error:
        return f"lexer: {error}"
    try:
        ast = parser.to_ast()
    except ValueError as error:
        return str(error)
    except AssertionError:  # pbi-parsers asserts what must come next: a comma, a parenthesis, the end
        rest = " ".join(token.text for token in parser.remaining()[:5])
        return f"unexpected {rest!r}" if rest.strip() else "unexpected end of the expression"
    rest = " ".join(token.text for token in parser.remaining() if token.tok_type != dax.TokenType.EOF)
    return "no expression" if ast is None else f"not parsed: {rest!r}" if rest else None


def test_dax_parser_reads_every_measure(powerbi_project: Path, parsed_marts: dict[str, manifest.Mart]) -> None:
    measures: dict[str, str] = {}
    for path in sorted((_definition(powerbi_project) / "tables").glob("*.tmdl")):
        (table,) = parse_tmdl(path.read_text(encoding="utf-8"))
        measures |= {str(node.name): str(node.expression) for node in table.children if node.kind == "measure"}
    assert len(measures) == len(powerbi.build_model(list(parsed_marts.values())).measures)
    errors = {name: error for name, expression in measures.items() if (error := _dax_error(expression))}
    assert not errors, errors


@pytest.mark.parametrize(
    ("expression", "error"),
    [
        ("DIVIDE(SUM('t'[a]), SUM('t'[b])", "unexpected end of the expression"),  # a parenthesis not closed
        ("SUM('t'[a]))", "unexpected ')'"),  # one closed twice
        ("SUM('t'[a]) $ 2", "Unexpected character: $"),  # a character DAX does not have
        ("SUM('t'[a]) +", "Expected a right term after operator +"),  # an operator with no right term
        ("SUM('t'[a", "Unterminated bracketed identifier"),  # a column reference not closed
    ],
    ids=["unclosed", "closed-twice", "unknown-character", "no-right-term", "unclosed-column"],
)
def test_dax_parser_refuses_broken_dax(expression: str, error: str) -> None:
    assert _dax_error("DIVIDE(SUM('t'[a]), SUM('t'[b]))") is None
    assert error in str(_dax_error(expression))
