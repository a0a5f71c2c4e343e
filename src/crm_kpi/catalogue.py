"""The KPI catalogue index: every KPI of the catalogue with the marts, columns, grain and tests that answer it.

The catalogue's ids and names are data (`kpi_catalogue.csv`, copied from ../shared/KPI_CATALOG.md; the
project never reads ../shared at run time). What answers each KPI is read from the dbt manifest: the mart
columns whose `meta.kpi` names the id (see crm_kpi.manifest). `crm-kpi catalogue` prints the index;
`crm-kpi run` also writes it as the dbt docs front page (`models/docs/_generated/overview.md`, the
`__overview__` docs block; not committed, rewritten at each run). `crm-kpi catalogue --markdown FILE` writes it
as a markdown page: the committed `docs/kpi-index.md`, linked from the README.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from crm_kpi.manifest import Mart

CATALOGUE_CSV = Path(__file__).with_name("kpi_catalogue.csv")
OVERVIEW_PATH = Path("models/docs/_generated/overview.md")
# Data tests that guard a KPI column's value (grain and foreign keys are listed with the mart).
_VALUE_TESTS = (
    "not_null", "non_negative", "rate_between_zero_and_one", "at_least", "accepted_values", "columns_equal_ratios",
    "counts_never_increase", "expression_is_true", "equals_staging_total",
)  # fmt: skip


@dataclass(frozen=True)
class Kpi:
    id: str
    area: str
    name: str
    definition: str


@dataclass(frozen=True)
class Answer:
    """One mart's answer to a KPI: its columns claiming the id, its grain, and the tests that guard them."""

    mart: Mart
    columns: tuple[str, ...]
    data_tests: tuple[str, ...]
    unit_tests: tuple[str, ...]  # unit tests on the mart whose expected rows state one of the columns


@dataclass(frozen=True)
class Entry:
    kpi: Kpi
    answers: tuple[Answer, ...]

    @property
    def built(self) -> bool:
        return bool(self.answers)

    @property
    def unit_tested(self) -> bool:
        return any(answer.unit_tests for answer in self.answers)


def load_catalogue(path: Path = CATALOGUE_CSV) -> list[Kpi]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [Kpi(row["id"], row["area"], row["name"], row["definition"]) for row in csv.DictReader(handle)]


def _answer(mart: Mart, kpi_id: str) -> Answer | None:
    columns = tuple(column.name for column in mart.columns if kpi_id in column.kpis)
    if not columns:
        return None
    data_tests = []
    for test in mart.tests:
        arguments = {str(value) for value in test.kwargs.values() if isinstance(value, str)}
        arguments |= {str(item) for value in test.kwargs.values() if isinstance(value, list) for item in value}
        if test.name in _VALUE_TESTS and (test.column in columns or arguments & set(columns)):
            data_tests.append(test.name if test.column is None else f"{test.name}({test.column})")
    unit_tests = tuple(unit.name for unit in mart.unit_tests if unit.columns & set(columns))
    return Answer(mart, columns, tuple(dict.fromkeys(data_tests)), unit_tests)


def index(marts: Sequence[Mart], catalogue: Sequence[Kpi] | None = None) -> list[Entry]:
    """Every KPI of the catalogue, in catalogue order, with the marts that answer it (none: not built yet)."""
    entries = []
    for kpi in catalogue if catalogue is not None else load_catalogue():
        answers = tuple(answer for mart in marts if (answer := _answer(mart, kpi.id)) is not None)
        entries.append(Entry(kpi, answers))
    return entries


def problems(marts: Sequence[Mart], catalogue: Sequence[Kpi] | None = None) -> list[str]:
    """Declarations the catalogue refuses: an id it does not have, a built KPI without a unit test."""
    kpis = catalogue if catalogue is not None else load_catalogue()
    known = {kpi.id for kpi in kpis}
    found = [
        f"{mart.name}.{column.name} claims {kpi_id}, which is not in the KPI catalogue"
        for mart in marts
        for column in mart.columns
        for kpi_id in column.kpis
        if kpi_id not in known
    ]
    found += [
        f"{entry.kpi.id} ({entry.kpi.name}) is built in {', '.join(a.mart.name for a in entry.answers)} but no unit"
        " test states its columns"
        for entry in index(marts, kpis)
        if entry.built and not entry.unit_tested
    ]
    return found


def table(entries: Sequence[Entry]) -> Table:
    """The index as a terminal table (rich): a row per KPI and answering mart; long cells wrap at word breaks."""
    drawn = Table(box=box.SIMPLE_HEAD, caption=f"{sum(e.built for e in entries)} of {len(entries)} KPIs built")
    for name, ratio in (("id", 0), ("KPI", 3), ("mart", 3), ("grain", 3), ("columns (tests)", 4)):
        drawn.add_column(name, ratio=ratio or None, no_wrap=not ratio, overflow="fold" if ratio else "ellipsis")
    for entry in entries:
        if not entry.answers:
            drawn.add_row(entry.kpi.id, entry.kpi.name, "not built yet", "", "")
        for number, answer in enumerate(entry.answers):
            tests = len(answer.data_tests) + len(answer.unit_tests)
            drawn.add_row(
                entry.kpi.id if number == 0 else "",
                entry.kpi.name if number == 0 else "",
                answer.mart.name,
                ", ".join(answer.mart.grain),
                f"{', '.join(answer.columns)} ({tests} tests)",
            )
    return drawn


def format_text(entries: Sequence[Entry], width: int = 160) -> str:
    """The index as plain text (the table of `table`, `width` columns wide), its last line the count built."""
    console = Console(file=io.StringIO(), width=width, color_system=None, highlight=False)
    console.print(table(entries))
    return console.file.getvalue().rstrip()  # type: ignore[attr-defined,no-any-return]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def format_overview(entries: Sequence[Entry]) -> str:
    """The index as the dbt docs front page (the `__overview__` docs block)."""
    built = sum(entry.built for entry in entries)
    lines = [
        "{% docs __overview__ %}",
        "# CRM KPI warehouse: the KPI catalogue",
        "",
        f"{built} of {len(entries)} KPIs of the catalogue are built. Each row names the mart (a table in the",
        "schema `marts`), the columns that answer the KPI (their descriptions hold the formula), the mart's",
        "grain and the tests that guard those columns: data tests, and unit tests on hand-made rows.",
        "Written by `crm-kpi run` (and `crm-kpi catalogue --docs`) from the dbt manifest.",
        "",
        "| id | KPI | definition | mart | grain | columns | tests |",
        "|---|---|---|---|---|---|---|",
    ]
    for entry in entries:
        kpi = entry.kpi
        if not entry.answers:
            lines.append(f"| {kpi.id} | {_cell(kpi.name)} | {_cell(kpi.definition)} | not built yet | | | |")
        for answer in entry.answers:
            tests = [*answer.data_tests, *(f"unit: {name}" for name in answer.unit_tests)]
            lines.append(
                f"| {kpi.id} | {_cell(kpi.name)} | {_cell(kpi.definition)} | `{answer.mart.name}` |"
                f" {', '.join(answer.mart.grain)} | {', '.join(answer.columns)} | {_cell(', '.join(tests))} |"
            )
    lines += ["{% enddocs %}", ""]
    return "\n".join(lines)


def _summary(description: str) -> str:
    """A mart description's first sentence (up to a period or colon outside parentheses): what it answers."""
    text = " ".join(description.split())
    depth = 0
    for position, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and char in ".:" and text[position + 1 : position + 2] in ("", " "):
            return text[:position]
    return text


def _area_order(marts: Sequence[Mart], catalogue: Sequence[Kpi]) -> list[tuple[str, list[Mart]]]:
    """The marts by their folder (`models/marts/kpi/<area>/`), in the catalogue's order of areas (the folder
    names the area's first word: `funnel` is "Funnel and lead management"), each area's marts by their first id."""
    areas = list(dict.fromkeys(kpi.area for kpi in catalogue))
    folders: dict[str, list[Mart]] = {}
    for mart in marts:
        folders.setdefault(Path(mart.path).parent.name, []).append(mart)

    def title(folder: str) -> str:
        return next((area for area in areas if area.split()[0].lower() == folder.lower()), folder.capitalize())

    def rank(folder: str) -> tuple[int, str]:
        return (areas.index(title(folder)) if title(folder) in areas else len(areas), folder)

    position = {kpi.id: (index, kpi.area) for index, kpi in enumerate(catalogue)}

    def first_id(mart: Mart, area: str) -> tuple[int, str]:
        """The catalogue position of the mart's first id of its own area (else of any area)."""
        ids = [position[kpi_id] for kpi_id in mart.kpi_ids if kpi_id in position]
        own = [index for index, kpi_area in ids if kpi_area == area]
        return (min(own or [index for index, _ in ids] or [len(position)]), mart.name)

    return [
        (title(folder), sorted(folders[folder], key=lambda mart: first_id(mart, title(folder))))
        for folder in sorted(folders, key=rank)
    ]


def format_markdown(entries: Sequence[Entry]) -> str:
    """The index as a markdown page (docs/kpi-index.md, linked from the README): the KPI marts by area, then
    each KPI with the marts and columns that answer it. Everything comes from the manifest, so a new KPI mart
    appears by running `crm-kpi catalogue --markdown docs/kpi-index.md` again."""
    marts = list({answer.mart.name: answer.mart for entry in entries for answer in entry.answers}.values())
    built = sum(entry.built for entry in entries)
    lines = [
        "<!-- Generated from the dbt manifest by `crm-kpi catalogue --markdown docs/kpi-index.md`: do not edit.",
        "     tests/python/test_catalogue.py fails when this file differs from what the manifest gives. -->",
        "# KPI index",
        "",
        f"{len(marts)} KPI marts answer {built} of the {len(entries)} KPIs of the catalogue. Each mart is a table in",
        "the schema `marts`, declared in `models/marts/kpi/<area>/<mart>.sql` and the YAML beside it (its",
        "description, each column's formula, its grain and its tests). The grain is the mart's",
        "`unique_combination_of_columns` (or `unique`) test; the KPI ids are the catalogue ids its columns claim",
        "(`meta.kpi`). Many marts hold several breakdowns or rules as rows (`period_type`, `breakdown`,",
        "`grouping_level`, `attribution_rule`, `survey_type`): filter on one value before you sum. The dbt docs'",
        "front page lists the tests of every KPI (`crm-kpi catalogue`).",
        "",
        "## The KPI marts",
    ]
    for area, area_marts in _area_order(marts, [entry.kpi for entry in entries]):
        lines += ["", f"### {area}", "", "| mart | grain (key) | KPIs | what it answers |", "|---|---|---|---|"]
        for mart in area_marts:
            grain = ", ".join(f"`{column}`" for column in mart.grain)
            kpis = ", ".join(mart.kpi_ids)
            lines.append(f"| `{mart.name}` | {grain} | {kpis} | {_cell(_summary(mart.description))} |")
    lines += ["", "## KPI by KPI", "", "| id | KPI | mart | columns |", "|---|---|---|---|"]
    for entry in entries:
        label = f"| {entry.kpi.id} | {_cell(entry.kpi.name)} |"
        if not entry.answers:
            lines.append(f"{label} not built yet | |")
        for answer in entry.answers:
            lines.append(f"{label} `{answer.mart.name}` | {', '.join(f'`{c}`' for c in answer.columns)} |")
    return "\n".join(lines) + "\n"


def write_overview(project_dir: Path, entries: Sequence[Entry]) -> Path:
    """Write the docs' front page; unchanged text is not rewritten, and a new text replaces the file in one
    rename (a dbt parse running at the same time reads the old file or the new one, never half of one)."""
    path = project_dir / OVERVIEW_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    text = format_overview(entries)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return path
    fresh = path.with_name(f".{path.name}.{os.getpid()}")
    fresh.write_text(text, encoding="utf-8")
    os.replace(fresh, path)
    return path


def overview_in_manifest(built: Mapping[str, Any], page: str) -> bool:
    """Whether a dbt manifest holds this front page (`page`, as `format_overview` writes it) as the project's
    `__overview__` block. dbt docs show the manifest on disk: one parsed before the page was written (the first
    run, or a run whose KPIs changed) holds dbt's default welcome page, or the previous run's index."""
    body = page.split("{% docs __overview__ %}", 1)[-1].rsplit("{% enddocs %}", 1)[0].strip()
    blocks = [
        doc.get("block_contents")
        for doc in (built.get("docs") or {}).values()
        if doc.get("name") == "__overview__" and doc.get("package_name") != "dbt"
    ]
    return blocks == [body]


__all__ = [
    "Entry",
    "Kpi",
    "format_markdown",
    "format_overview",
    "format_text",
    "table",
    "index",
    "load_catalogue",
    "overview_in_manifest",
    "problems",
]
