"""`crm-kpi`: the project's command line.

crm-kpi run         check the export, build a candidate warehouse, test and validate it, publish it, summarise
crm-kpi publish     publish a validated build that `run` had to keep aside (a reader held the file: Windows)
crm-kpi doctor      check that the published DuckDB file opens; explain and repair (--repair) a left-over WAL
crm-kpi grant-bi-role  create the read-only PostgreSQL role that sees only the schema marts
crm-kpi test        the whole test suite: ruff, mypy, sqlfluff, house rules (dbt-bouncer), pytest (what CI runs)
crm-kpi generate    write a raw CRM data set (the committed demo set by default)
crm-kpi validate    run the Great Expectations suites on a built warehouse
crm-kpi benchmark   time the build of a data set size against a hand-written floor; print and save figures
crm-kpi render-yaml rewrite the sources/seeds YAML rendered from the raw contract
crm-kpi catalogue   the KPI catalogue index: each KPI with its mart, columns, grain and tests, or "not built yet"
crm-kpi powerbi     write a Power BI Project (.pbip, semantic model in TMDL) generated from the dbt manifest
crm-kpi report      write the offline KPI report (one self-contained HTML page) from the built DuckDB warehouse
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from crm_kpi.paths import demo_dir, project_root

if TYPE_CHECKING:
    from crm_kpi import manifest


def _log(message: str) -> None:
    print(f"[crm-kpi {time.strftime('%H:%M:%S')}] {message}", flush=True)


def cmd_run(args: argparse.Namespace) -> int:
    """The main job (crm_kpi.job): build a candidate beside the published warehouse, test and validate it,
    publish it atomically when everything passed, summarise."""
    from crm_kpi import job, publish, runner

    root = project_root()
    try:
        settings = runner.BuildSettings(
            db_path=Path(args.db).resolve() if args.db else root / "warehouse" / "crm_kpi.duckdb",
            raw_path=Path(args.raw_path) if args.raw_path else demo_dir(),
            raw_format=args.format,
            target=args.target,
            as_of_date=args.as_of,
            full_refresh=args.full_refresh,
            unit_tests=args.unit_tests,
            accept_changes=args.accept_changes,
        )
        result = job.run(settings, _log)
    except (ValueError, job.JobFailed, publish.RunLocked, publish.PublishError, runner.DbtFailed) as error:
        _log(str(error))
        return 1
    job.print_summary(settings, result)
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    """Publish a validated DuckDB build that `crm-kpi run` kept aside (the platform refused to replace
    the published file while a reader held it: Windows)."""
    from crm_kpi import publish

    db_path = Path(args.db).resolve() if args.db else project_root() / "warehouse" / "crm_kpi.duckdb"
    try:
        with publish.duckdb_run_lock(db_path):
            publication = publish.publish_duckdb(db_path)
    except (publish.RunLocked, publish.PublishError) as error:
        _log(str(error))
        return 1
    _log(f"published {db_path} in {publication.publish_seconds:.3f} s")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Whether the published DuckDB warehouse opens as published: a write-ahead log beside it (a read-write
    session wrote to it) is explained, and with --repair moved aside (kept), under the run's lock."""
    from crm_kpi import publish

    db_path = Path(args.db).resolve() if args.db else project_root() / "warehouse" / "crm_kpi.duckdb"
    try:
        with publish.duckdb_run_lock(db_path):
            healthy, found = publish.doctor(db_path, repair=args.repair)
    except publish.RunLocked as error:
        _log(str(error))
        return 1
    for line in found:
        _log(line)
    return 0 if healthy else 1


def cmd_grant_bi_role(args: argparse.Namespace) -> int:
    """Create the read-only BI role on PostgreSQL: it reads the tables of `marts`, nothing else."""
    from crm_kpi import job, publish
    from crm_kpi.loaders import PostgresSettings, ensure_postgres_database

    role = args.role or job.bi_role()
    password = os.environ.get(args.password_env) if args.password_env else None
    settings = PostgresSettings.from_environment()
    ensure_postgres_database(settings)
    connection = settings.connect()
    try:
        publish.create_bi_role(connection, role, password)
    finally:
        connection.close()
    login = "a login role with the password from $" + args.password_env if password else "a group role (no login)"
    _log(f"role {role} ({login}) reads the schema marts of {settings.dbname}; each publish grants it again")
    return 0


def _house_rules_steps(root: Path, scratch: Path) -> list[tuple[str, list[str], dict[str, str]]]:
    """`dbt parse` into the scratch folder (not the project's target/), then dbt-bouncer and dbt-score on that manifest.

    dbt-bouncer.yml holds the house rules; dbt-bouncer reads the artifacts from $DBT_PROJECT_DIR/target. A macro
    argument documented in YAML that does not match the macro's signature fails the parse: dbt's flag
    validate_macro_args (dbt_project.yml) makes it a warning, made an error here.
    """
    bin_dir = Path(sys.executable).parent
    parse = [str(bin_dir / "dbt"), "--quiet", "--warn-error-options", '{"error": ["InvalidMacroAnnotation"]}']
    parse += ["parse", "--project-dir", str(root), "--profiles-dir", str(root)]
    parse += ["--target-path", str(scratch / "target"), "--log-path", str(scratch / "logs")]
    bouncer = [str(bin_dir / "dbt-bouncer"), "run", "--config-file", str(root / "dbt-bouncer.yml")]
    score = [str(bin_dir / "dbt-score"), "lint", "--manifest", str(scratch / "target" / "manifest.json")]
    return [
        ("dbt parse", parse, {}),
        ("dbt-bouncer", bouncer, {"DBT_PROJECT_DIR": str(scratch)}),
        ("dbt-score", score, {}),  # thresholds and rules: pyproject.toml [tool.dbt-score]
    ]


def _workers(pytest_args: list[str]) -> list[str]:
    """pytest-xdist: one worker per core (CRM_KPI_TEST_WORKERS; 1: none), whole files per worker (a file's
    session fixtures, such as the Spark build, are built once); unless the arguments say otherwise."""
    workers = os.environ.get("CRM_KPI_TEST_WORKERS", str(os.cpu_count() or 1))
    if any(arg == "-n" or arg.startswith(("-n", "--numprocesses")) for arg in pytest_args) or workers == "1":
        return pytest_args
    return ["-n", workers, "--dist", "loadfile", *pytest_args]


def cmd_test(args: argparse.Namespace) -> int:
    """Lint and type checks, the house rules (dbt-bouncer), then pytest (whose summary line closes the output)."""
    root = project_root()
    with tempfile.TemporaryDirectory(prefix="crm_kpi_lint_") as scratch:
        sqlfluff = [sys.executable, "-m", "sqlfluff", "lint", "models", "analyses", "--disable-progress-bar"]
        steps: list[tuple[str, list[str], dict[str, str]]] = [
            ("ruff", [sys.executable, "-m", "ruff", "check", "src", "tests/python", "bootstrap.py"], {}),
            (
                "ruff format",
                [sys.executable, "-m", "ruff", "format", "--check", "src", "tests/python", "bootstrap.py"],
                {},
            ),
            ("mypy", [sys.executable, "-m", "mypy"], {}),
            # One process per core: its dbt templater compiles every model (minutes on one core).
            ("sqlfluff", [*sqlfluff, "--processes", str(os.cpu_count() or 1)], {}),
            *_house_rules_steps(root, Path(scratch)),
        ]
        # sqlfluff's dbt templater opens the profile's DuckDB file (is_incremental() asks it whether the
        # table exists): a scratch file, so that linting neither needs nor touches the user's warehouse.
        # It compiles stg_crm__leads, whose key needs a salt: a stand-in, when the environment has none.
        env = {"CRM_KPI_PII_SALT": "a stand-in salt for linting", **os.environ}
        env["CRM_KPI_DUCKDB_PATH"] = str(Path(scratch) / "lint.duckdb")
        for name, command, extra_env in steps:
            _log(f"{name}: {' '.join(command[1:])}")
            started = time.perf_counter()
            if subprocess.call(command, cwd=root, env={**env, **extra_env}) != 0:
                _log(f"{name} failed")
                return 1
            _log(f"{name} passed in {time.perf_counter() - started:.1f} s")
    _log("pytest")
    return subprocess.call([sys.executable, "-m", "pytest", *_workers(args.pytest_args)], cwd=root)


def cmd_generate(args: argparse.Namespace) -> int:
    from crm_kpi.generator import generate

    out = Path(args.out) if args.out else project_root() / "seeds" / "demo"
    started = time.perf_counter()
    rows = generate(
        out,
        leads=args.leads,
        start=date.fromisoformat(args.start),
        end=date.fromisoformat(args.end),
        fmt=args.format,
        seed=args.seed,
        progress=_log,
    )
    for table, count in rows.items():
        print(f"  {table:<28} {count:>10}")
    _log(f"wrote {sum(rows.values())} rows to {out} in {time.perf_counter() - started:.1f} s")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from crm_kpi import manifest
    from crm_kpi.expectations import ExpectationsFailed, run_expectations

    db_path = Path(args.db) if args.db else project_root() / "warehouse" / "crm_kpi.duckdb"
    marts = manifest.kpi_marts(manifest.load(manifest.manifest_path(project_root() / "target")))
    try:
        results = run_expectations(db_path, Path(args.docs) if args.docs else db_path.parent / "gx_docs", marts)
    except ExpectationsFailed as error:
        _log(str(error))
        return 1
    for result in results:
        _log(f"{result.mart}: {result.evaluated} expectations passed")
    return 0


def cmd_benchmark(args: argparse.Namespace) -> int:
    from crm_kpi import runner
    from crm_kpi.benchmark import SIZES, format_table, run_benchmark

    size = args.size if args.leads is None else f"{args.leads}_leads"
    if size not in SIZES and args.leads is None:
        _log(f"unknown size {size!r}: one of {', '.join(SIZES)}, or --leads N")
        return 2
    try:
        result = run_benchmark(
            size,
            leads=args.leads,
            workdir=Path(args.workdir) if args.workdir else None,
            memory_limit=args.memory_limit,
            json_path=Path(args.json) if args.json else None,
            say=_log,
            with_tests=not args.without_tests,
        )
    except runner.DbtFailed as error:
        _log(str(error))
        return 1
    print(format_table(result), flush=True)
    return 0


def cmd_catalogue(args: argparse.Namespace) -> int:
    from crm_kpi import catalogue, runner

    root = project_root()
    settings = runner.BuildSettings(db_path=root / "warehouse" / "crm_kpi.duckdb", quiet=True)
    try:
        runner.run_dbt(settings, ["parse"])
    except runner.DbtFailed as error:
        _log(str(error))
        return 1
    entries = catalogue.index(settings.marts())
    print(catalogue.format_text(entries))
    if args.docs:
        _log(f"wrote {catalogue.write_overview(root, entries)} (the dbt docs front page)")
    if args.markdown:
        Path(args.markdown).write_text(catalogue.format_markdown(entries), encoding="utf-8")
        _log(f"wrote {args.markdown}")
    issues = catalogue.problems(settings.marts())
    for issue in issues:
        _log(issue)
    return 1 if issues else 0


def _parsed_marts(root: Path) -> list[manifest.Mart] | None:
    """`dbt parse` into the project's target/, then every mart the manifest declares (None if the parse failed)."""
    from crm_kpi import runner

    settings = runner.BuildSettings(db_path=root / "warehouse" / "crm_kpi.duckdb", quiet=True)
    try:
        runner.run_dbt(settings, ["parse"])
    except runner.DbtFailed as error:
        _log(str(error))
        return None
    return list(settings.marts())


def cmd_powerbi(args: argparse.Namespace) -> int:
    from crm_kpi import exposures, powerbi

    root = project_root()
    typed = _parsed_marts(root)
    if typed is None:
        return 1
    if args.render_exposures:
        _log(f"wrote {exposures.write_exposures(root, typed)}")
        return 0
    model = powerbi.build_model(typed, currency=exposures.project_var(root, "reporting_currency", "USD"))
    out = Path(args.out).resolve() if args.out else root / "warehouse" / "powerbi"
    out.mkdir(parents=True, exist_ok=True)
    # The default stays relative (the project's own layout), never this machine's absolute path.
    duckdb_file = str(Path(args.duckdb_file).resolve()) if args.duckdb_file else "warehouse/crm_kpi.duckdb"
    pbip = powerbi.write_project(
        model, out, postgres_server=args.server, postgres_database=args.database, duckdb_file=duckdb_file
    )
    active = sum(relationship.active for relationship in model.relationships)
    _log(
        f"wrote {pbip}: {len(model.tables)} tables, {len(model.relationships)} relationships ({active} active), "
        f"{len(model.measures)} measures"
    )
    for skipped in model.skipped:
        _log(f"no measure for {skipped.table}.{skipped.column}: {skipped.reason}")
    _log("open it in Power BI Desktop (File > Open > the .pbip); Transform data > Edit parameters sets the connection")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from crm_kpi import exposures, report

    root = project_root()
    marts = _parsed_marts(root)
    if marts is None:
        return 1
    db_path = Path(args.db).resolve() if args.db else root / "warehouse" / "crm_kpi.duckdb"
    if not db_path.is_file():
        _log(f"no warehouse at {db_path}: run `crm-kpi run` first")
        return 1
    out = Path(args.out).resolve() if args.out else root / "warehouse" / "report" / "kpi_report.html"
    currency = exposures.project_var(root, "reporting_currency", "USD").upper()
    rendered = report.write_report(db_path, marts, out, currency=currency)
    for item in rendered:
        where = f"from {item.mart}" if item.drawn else "not built yet (a note in the page)"
        _log(f"{item.view.title}: {where}")
    _log(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, self-contained: open it in any browser, offline)")
    return 0


def cmd_render_yaml(args: argparse.Namespace) -> int:
    from crm_kpi.dbt_yaml import write_yaml

    for path in write_yaml(project_root()):
        _log(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crm-kpi", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="build the warehouse and validate it (the main job)")
    run.add_argument(
        "--raw-path",
        help="folder of raw CSV/Parquet files named as in the raw contract (default: the demo set seeds/demo, "
        "read in place)",
    )
    run.add_argument("--format", choices=["csv", "parquet"], default="csv", help="format of the raw files")
    run.add_argument("--db", help="DuckDB file to build (default: warehouse/crm_kpi.duckdb)")
    run.add_argument("--as-of", help="reporting date YYYY-MM-DD (default: the last date in the data)")
    run.add_argument("--full-refresh", action="store_true", help="rebuild the incremental event facts from scratch")
    run.add_argument(
        "--accept-changes",
        action="store_true",
        help="publish even when the publish guard finds a quarantine share, or a change of a mart's rows or of a "
        "headline figure against the published build, past its threshold (the vars publish_max_*)",
    )
    run.add_argument(
        "--unit-tests",
        action="store_true",
        help="run the dbt unit tests in the build too (CI runs them; on fixed rows, they prove the code, not the data)",
    )
    run.add_argument(
        "--target",
        choices=["duckdb", "postgres", "spark"],
        default="duckdb",
        help="engine (profiles.yml target); postgres and spark bulk-load the raw data first",
    )
    run.set_defaults(func=cmd_run)

    test = commands.add_parser("test", help="run the whole test suite")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER, help="extra arguments for pytest")
    test.set_defaults(func=cmd_test)

    gen = commands.add_parser("generate", help="write a deterministic raw CRM data set")
    gen.add_argument("--out", help="output folder (default: seeds/demo, the committed demo set)")
    gen.add_argument("--leads", type=int, default=3000)
    gen.add_argument("--start", default="2024-11-01")
    gen.add_argument("--end", default="2026-10-31")
    gen.add_argument("--format", choices=["csv", "parquet"], default="csv")
    gen.add_argument("--seed", type=int, default=42)
    gen.set_defaults(func=cmd_generate)

    publish_cmd = commands.add_parser(
        "publish", help="publish the validated DuckDB build `crm-kpi run` kept aside (Windows, readers open)"
    )
    publish_cmd.add_argument("--db", help="the published DuckDB file (default: warehouse/crm_kpi.duckdb)")
    publish_cmd.set_defaults(func=cmd_publish)

    doctor = commands.add_parser(
        "doctor", help="check that the published DuckDB file opens; explain (and --repair) a left-over WAL beside it"
    )
    doctor.add_argument("--db", help="the published DuckDB file (default: warehouse/crm_kpi.duckdb)")
    doctor.add_argument("--repair", action="store_true", help="move a WAL that no process holds aside (kept)")
    doctor.set_defaults(func=cmd_doctor)

    grant = commands.add_parser("grant-bi-role", help="create the read-only PostgreSQL role that sees only marts")
    grant.add_argument("--role", help="role name (default: $CRM_KPI_BI_ROLE, else crm_kpi_bi)")
    grant.add_argument(
        "--password-env",
        default="CRM_KPI_BI_PASSWORD",
        help="environment variable holding the role's password (unset: a role without login, to grant to users)",
    )
    grant.set_defaults(func=cmd_grant_bi_role)

    validate = commands.add_parser("validate", help="run the Great Expectations suites on a built warehouse")
    validate.add_argument("--db", help="DuckDB file (default: warehouse/crm_kpi.duckdb)")
    validate.add_argument("--docs", help="folder for the HTML data docs (default: beside the database)")
    validate.set_defaults(func=cmd_validate)

    bench = commands.add_parser("benchmark", help="time the build of a data set size against the hand-written floor")
    bench.add_argument("size", nargs="?", default="S", help="demo (3k leads), S (1M leads) or M (10M leads)")
    bench.add_argument("--leads", type=int, help="any number of leads instead of a named size")
    bench.add_argument("--memory-limit", default="8GB", help="DuckDB memory_limit for every step (default 8GB)")
    bench.add_argument("--without-tests", action="store_true", help="skip step 3, dbt build with every test")
    bench.add_argument("--workdir", help="where data and databases go (default: warehouse/benchmark)")
    bench.add_argument("--json", help="write the figures here (default: <workdir>/<size>/results.json)")
    bench.set_defaults(func=cmd_benchmark)

    index = commands.add_parser("catalogue", help="the KPI catalogue index: what answers each KPI, and its tests")
    index.add_argument("--docs", action="store_true", help="also write the dbt docs front page (__overview__)")
    index.add_argument("--markdown", help="also write the index as a markdown table to this file")
    index.set_defaults(func=cmd_catalogue)

    pbi = commands.add_parser("powerbi", help="write a Power BI Project (TMDL) generated from the dbt manifest")
    pbi.add_argument("--out", help="output folder (default: warehouse/powerbi)")
    pbi.add_argument("--server", default="localhost:5432", help="PostgreSQL server host:port (parameter default)")
    pbi.add_argument("--database", default="crm_kpi", help="PostgreSQL database (parameter default)")
    pbi.add_argument("--duckdb-file", help="DuckDB file for the DuckDB connection (default: warehouse/crm_kpi.duckdb)")
    pbi.add_argument(
        "--render-exposures",
        action="store_true",
        help="only rewrite models/exposures.yml (the report and the Power BI model as dbt exposures)",
    )
    pbi.set_defaults(func=cmd_powerbi)

    rep = commands.add_parser("report", help="write the offline KPI report (one self-contained HTML page)")
    rep.add_argument("--db", help="DuckDB file to read (default: warehouse/crm_kpi.duckdb)")
    rep.add_argument("--out", help="HTML file to write (default: warehouse/report/kpi_report.html)")
    rep.set_defaults(func=cmd_report)

    render = commands.add_parser("render-yaml", help="rewrite the YAML rendered from src/crm_kpi/contract.py")
    render.set_defaults(func=cmd_render_yaml)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
