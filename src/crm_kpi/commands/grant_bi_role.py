"""`crm-kpi grant-bi-role`: the read-only BI role on PostgreSQL, which reads the tables of `marts`, nothing else."""

from __future__ import annotations

import argparse
import os
from typing import Any

from crm_kpi.commands import add_command
from crm_kpi.console import say


def add_parser(subparsers: Any) -> None:
    parser = add_command(subparsers, "grant-bi-role", "create the read-only PostgreSQL role that sees only marts")
    parser.add_argument("--role", help="role name (default: $CRM_KPI_BI_ROLE, else crm_kpi_bi)")
    parser.add_argument(
        "--password-env",
        default="CRM_KPI_BI_PASSWORD",
        metavar="VARIABLE",
        help="environment variable holding the role's password (unset: a role without login, to grant to users)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
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
    say(f"role {role} ({login}) reads the schema marts of {settings.dbname}; each publish grants it again")
    return 0
