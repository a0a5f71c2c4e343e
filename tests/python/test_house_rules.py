"""The house rules' config (dbt-bouncer.yml) and the layout rules dbt-bouncer has no check for.

dbt-bouncer itself runs in `crm-kpi test` (a step before pytest, on a fresh `dbt parse`); these tests
read files only, in well under a second.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from crm_kpi.paths import project_root

CONFIG = project_root() / "dbt-bouncer.yml"
PATH_KEYS = ("include", "exclude", "upstream_path_pattern")


def _checks() -> list[dict[str, Any]]:
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    return [check for key, checks in config.items() if key.endswith("_checks") for check in checks]


def _patterns(value: str | list[str] | None) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def _excludes_with_reason(lines: list[str]) -> list[tuple[str, bool]]:
    """Each exclude pattern of the config text, and whether a comment line sits right above it."""
    found: list[tuple[str, bool]] = []
    for index, line in enumerate(lines):
        key = re.match(r"^(\s*)exclude:\s*(.*?)\s*$", line)
        if not key:
            continue
        if key.group(2):  # exclude: <pattern>
            found.append((key.group(2), lines[index - 1].strip().startswith("#")))
            continue
        for below in range(index + 1, len(lines)):
            text = lines[below]
            indent = len(text) - len(text.lstrip())
            if text.strip() and not text.strip().startswith("#") and indent <= len(key.group(1)):
                break
            item = re.match(r"^\s*-\s+(.+?)\s*$", text)
            if item:
                found.append((item.group(1), lines[below - 1].strip().startswith("#")))
    return found


def test_every_exception_gives_its_reason() -> None:
    found = _excludes_with_reason(CONFIG.read_text(encoding="utf-8").splitlines())
    excludes = [pattern for check in _checks() for pattern in _patterns(check.get("exclude"))]
    assert [pattern for pattern, _ in found] == excludes, "write each exclude as a list item (`- <pattern>`) per line"
    unexplained = [pattern for pattern, has_reason in found if not has_reason]
    assert not unexplained, f"an exclude without a comment right above it saying why: {unexplained}"


def test_every_path_pattern_matches_a_file() -> None:
    """A pattern that matches no file is a stale exception, or a rule that silently checks nothing."""
    root = project_root()
    paths = [
        path.relative_to(root).as_posix()
        for folder in ("models", "macros")
        for path in (root / folder).rglob("*")
        if path.is_file()
    ]
    unmatched = sorted(
        f"{check['name']}: {key} {pattern}"
        for check in _checks()
        for key in PATH_KEYS
        for pattern in _patterns(check.get(key))
        if not any(re.match(pattern.strip(), path) for path in paths)
    )
    assert not unmatched, f"patterns that match no file under models/ or macros/: {unmatched}"


def _model_yaml_files() -> list[Path]:
    return sorted((project_root() / "models").rglob("*.yml"))


def test_unit_tests_sit_in_their_models_yaml() -> None:
    misplaced = [
        f"{path.relative_to(project_root()).as_posix()}: {test['name']} (model {test['model']})"
        for path in _model_yaml_files()
        for test in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("unit_tests", [])
        if test["model"] != path.stem
    ]
    assert not misplaced, f"unit tests outside <model>.yml of their model: {misplaced}"


def _named_tests(node: dict[str, Any]) -> list[str]:
    tests = list(node.get("data_tests") or node.get("tests") or [])
    for column in node.get("columns") or []:
        tests += list(column.get("data_tests") or column.get("tests") or [])
    return [str(body["name"]) for test in tests if isinstance(test, dict) for body in test.values() if "name" in body]


def test_named_data_tests_fit_postgres_relation_names() -> None:
    """A generic test stores its failing rows in a relation named after it (store_failures): PostgreSQL
    cuts identifiers at 63 characters, so a longer explicit name fails there (dbt shortens the names it
    makes up itself, not the ones we write). A unit test's fixture relations are named after the unit test."""
    too_long = []
    for path in sorted((project_root() / "models").rglob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for node in document.get("models") or []:
            too_long += [f"{path.name}: {name}" for name in _named_tests(node) if len(name) > 63]
        units = [str(unit["name"]) for unit in document.get("unit_tests") or []]
        too_long += [f"{path.name}: unit test {name}" for name in units if len(name) > 63]
    assert not too_long, too_long


def test_dbt_score_is_configured_and_every_model_and_seed_has_an_owner() -> None:
    """dbt-score (a step of `crm-kpi test`, after dbt-bouncer) reads pyproject.toml: every built-in rule on,
    thresholds at least its defaults; its has_owner rules read `meta.owner`, set once per project in
    dbt_project.yml for the models and the seeds (meta merges into each node's own)."""
    import tomllib

    root = project_root()
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["dbt-score"]
    assert not config.get("disabled_rules"), "a disabled dbt-score rule needs its reason, and a test saying so"
    assert config["fail_project_under"] >= 9.0 and config["fail_any_item_under"] >= 5.0, config
    dev = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert any(pin.startswith("dbt-score") for pin in dev["dev"])
    assert re.search(r"^dbt-score==", (root / "requirements-dev.lock").read_text(encoding="utf-8"), re.MULTILINE)
    project = yaml.safe_load((root / "dbt_project.yml").read_text(encoding="utf-8"))
    for kind in ("models", "seeds"):
        assert str(project[kind]["crm_kpi"]["+meta"]["owner"]).strip(), f"{kind}: no project-level owner"
    sources = [path.read_text(encoding="utf-8") for path in (root / "src" / "crm_kpi").rglob("*.py")]
    assert any('"dbt-score"' in text and '"lint"' in text for text in sources), "no `dbt-score lint` step"
