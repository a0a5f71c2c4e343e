"""Where things live: the project root (the folder holding dbt_project.yml) and the default outputs."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The dbt project folder: $CRM_KPI_PROJECT_DIR, else the first parent of this file or cwd with dbt_project.yml."""
    env = os.environ.get("CRM_KPI_PROJECT_DIR")
    if env:
        return Path(env).resolve()
    for start in (Path.cwd(), Path(__file__).resolve()):
        for folder in (start, *start.parents):
            if (folder / "dbt_project.yml").is_file():
                return folder
    raise FileNotFoundError("cannot find dbt_project.yml: run from the project folder or set CRM_KPI_PROJECT_DIR")


def demo_dir() -> Path:
    return project_root() / "seeds" / "demo"
