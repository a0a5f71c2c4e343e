"""The command line as a user meets it: `crm-kpi --help` lists each command once, every option says what it does
and its default, each command is a module of crm_kpi.commands; dbt's output goes to a file (no colour codes),
and dbt's saved parse survives a call on another warehouse."""

from __future__ import annotations

import argparse
import pkgutil
from collections import Counter
from pathlib import Path

import pytest

from crm_kpi import cli, commands, dbt_invoke, job
from crm_kpi.settings import BuildSettings


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_the_help_lists_each_command_once() -> None:
    parser = cli.build_parser()
    text = parser.format_help()
    names = list(_subparsers(parser))
    # A line that starts with a command's name, or with `crm-kpi <name>` (as a hand-written list in the
    # description would): each command once.
    firsts = [
        words[1] if words[0] == "crm-kpi" and len(words) > 1 else words[0]
        for words in map(str.split, text.splitlines())
        if words
    ]
    listed = Counter(firsts)
    assert {name: listed[name] for name in names} == dict.fromkeys(names, 1), text
    assert "{" not in text  # no brace list of the commands besides the list


def test_every_option_has_help_and_states_its_default() -> None:
    missing = []
    for name, sub in _subparsers(cli.build_parser()).items():
        formatted = {action.dest: sub._get_formatter()._expand_help(action) for action in sub._actions if action.help}
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if not action.help:
                missing.append(f"{name} {action.dest}: no help")
            elif action.nargs != 0 and action.option_strings and "default" not in formatted[action.dest]:
                missing.append(f"{name} {action.option_strings[0]}: no default stated")
    assert not missing, missing


def test_each_command_is_a_module_with_add_parser_and_run() -> None:
    modules = {info.name for info in pkgutil.iter_modules(commands.__path__)}
    wired = {module.__name__.rsplit(".", 1)[1] for module in (*cli.COMMANDS, *cli.MAINTAINERS)}
    assert wired == modules
    for module in (*cli.COMMANDS, *cli.MAINTAINERS):
        assert callable(module.add_parser) and callable(module.run), module.__name__


def test_a_phase_line_counts_what_dbt_did() -> None:
    build = dbt_invoke.DbtOutcome("build", 1.0)
    build.counts.update({"model:success": 3, "test:pass": 5, "operation:no-op": 2, "test:warn": 1})
    assert job.counts_line([build]) == "3 models, 5 data tests passed, 2 no-op, 1 warn"
    assert job.counts_line([]) == "nothing to do"


@pytest.mark.slow
def test_dbt_output_goes_to_a_file_and_the_saved_parse_survives_another_warehouse(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Three `dbt parse` calls sharing a target/ folder: warehouse a, warehouse b, a again. dbt itself would parse
    the third in full ("profile has changed": the DuckDB path is part of the profile); with the saved parse kept
    per profile it parses nothing."""
    output = tmp_path / "dbt-output.log"

    def parse(database: str) -> None:
        settings = BuildSettings(db_path=tmp_path / database, artifacts_dir=tmp_path, dbt_log=output)
        dbt_invoke.run_dbt(settings, ["parse"])

    for database in ("a.duckdb", "b.duckdb", "a.duckdb"):
        parse(database)
    captured = capfd.readouterr()
    assert "Running with dbt=" not in captured.out + captured.err
    written = output.read_text(encoding="utf-8")
    assert written.count("Running with dbt=") == 3 and "\x1b[" not in written
    invocations = (tmp_path / "logs" / "dbt.log").read_text(encoding="utf-8").split("running dbt with arguments")
    assert "Unable to do partial parsing" in invocations[-2], "the second warehouse parses in full"
    assert "Unable to do partial parsing" not in invocations[-1], invocations[-1][-2000:]
    assert len(list((tmp_path / "target" / "partial_parse").glob("*.msgpack"))) == 2
