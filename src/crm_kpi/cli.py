"""`crm-kpi`: the project's command line. Each subcommand is a module of crm_kpi.commands (its options and its
work); this module only wires them, in the order `crm-kpi --help` lists them."""

from __future__ import annotations

import argparse
import sys

from crm_kpi.commands import (
    benchmark,
    catalogue,
    doctor,
    generate,
    grant_bi_role,
    powerbi,
    publish,
    render_yaml,
    report,
    run,
    test,
    validate,
)

# The everyday commands first, then the occasional ones, then the maintainers'.
COMMANDS = (run, catalogue, report, powerbi, validate, publish, doctor, grant_bi_role, generate, benchmark, test)
MAINTAINERS = (render_yaml,)
DESCRIPTION = (
    "A dbt warehouse of CRM KPIs. `crm-kpi run` builds the demo warehouse (or your export: --raw-path), "
    "tests, validates and publishes it; `crm-kpi <command> --help` shows each command's options and defaults."
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crm-kpi", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True, metavar="<command>", title="commands")
    for command in (*COMMANDS, *MAINTAINERS):
        command.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
