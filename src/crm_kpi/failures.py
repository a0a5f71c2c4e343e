"""A failed dbt test explained: its failing rows kept in the candidate's audit schema (`--store-failures`), and
a message naming for each test its model, column and first failing rows."""

from __future__ import annotations

import dataclasses
from typing import Any

from crm_kpi import manifest
from crm_kpi.dbt_invoke import DbtFailed, run_dbt
from crm_kpi.settings import BuildSettings
from crm_kpi.warehouse import query_with_columns

FAILED_ROWS_SHOWN = 5


def keep_failing_rows(settings: BuildSettings, failed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rerun the data tests that failed with `--store-failures`, so that their failing rows are kept in
    the candidate's audit schema (a table each, where dbt_project.yml says); their new results, which name
    those relations. A build whose tests pass stores nothing."""
    names = [
        str(node["unique_id"]).split(".")[2]
        for node in failed
        if str(node.get("unique_id", "")).startswith("test.") and node.get("status") == "fail"
    ]
    if not names:
        return failed
    try:
        run_dbt(dataclasses.replace(settings, quiet=True), ["test", "--select", *names, "--store-failures"])
    except DbtFailed as again:
        return again.results or failed
    return failed


def describe_failed_tests(settings: BuildSettings, failed: list[dict[str, Any]]) -> str:
    """For each failed dbt test: its model and column, and the first failing rows, read from where dbt
    stored them (store_failures: a view in the candidate's audit schema)."""
    lines = []
    nodes = _manifest_nodes(settings)
    for result in failed:
        unique_id = str(result.get("unique_id", ""))
        if not unique_id.startswith("test.") or result.get("status") != "fail":
            continue
        node = nodes.get(unique_id, {})
        model = str(node.get("attached_node") or "").split(".")[-1] or "(singular test)"
        column = node.get("column_name")
        where = f"{model}.{column}" if column else model
        relation = result.get("relation_name") or ""
        lines.append(f"  {where}: {node.get('name', unique_id)} failed for {result.get('failures')} row(s)")
        if relation:
            lines.append(f"    failing rows kept in {relation}, e.g.:")
            try:
                lines += [f"      {row}" for row in _sample(settings, relation)]
            except Exception as error:  # the candidate may be unreadable after a crash: say so, go on
                lines.append(f"      (could not read them: {error})")
    return ("\nFailing tests, with the rows that fail:\n" + "\n".join(lines)) if lines else ""


def _manifest_nodes(settings: BuildSettings) -> dict[str, Any]:
    try:
        nodes: dict[str, Any] = manifest.load(manifest.manifest_path(settings.target_dir))["nodes"]
    except (FileNotFoundError, KeyError):
        return {}
    return nodes


def _sample(settings: BuildSettings, relation: str) -> list[dict[str, object]]:
    columns, rows = query_with_columns(settings, f"select * from {relation} limit {FAILED_ROWS_SHOWN}")
    return [dict(zip(columns, row, strict=False)) for row in rows]
