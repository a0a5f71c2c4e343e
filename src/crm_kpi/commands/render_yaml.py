"""`crm-kpi render-yaml`: rewrite the sources/seeds YAML rendered from the raw contract (crm_kpi.contract)."""

from __future__ import annotations

import argparse
from typing import Any

from crm_kpi.commands import add_command
from crm_kpi.console import say
from crm_kpi.paths import project_root


def add_parser(subparsers: Any) -> None:
    parser = add_command(subparsers, "render-yaml", "rewrite the YAML rendered from src/crm_kpi/contract.py")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from crm_kpi.dbt_yaml import write_yaml

    for path in write_yaml(project_root()):
        say(f"wrote {path}")
    return 0
