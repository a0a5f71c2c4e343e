"""The YAML and macro rendered from the raw contract are committed as rendered (run `crm-kpi render-yaml`)."""

from __future__ import annotations

from crm_kpi.dbt_yaml import rendered_files
from crm_kpi.paths import project_root


def test_rendered_files_match_the_contract() -> None:
    for relative, text in rendered_files().items():
        committed = (project_root() / relative).read_text(encoding="utf-8")
        assert committed == text, f"{relative} is out of date: run `crm-kpi render-yaml`"
