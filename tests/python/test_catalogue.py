"""The KPI catalogue index: the catalogue copied into the project as data, and the declarations it refuses (a
mart column claiming an id the catalogue does not have, a built KPI that no unit test states)."""

from __future__ import annotations

import re

from crm_kpi import catalogue
from crm_kpi.manifest import Mart, MartColumn, UnitTest
from crm_kpi.paths import project_root


def test_the_catalogue_lists_forty_kpis_with_unique_ids() -> None:
    kpis = catalogue.load_catalogue()
    ids = [kpi.id for kpi in kpis]
    assert len(ids) == 40 and len(set(ids)) == 40
    assert all(re.fullmatch(r"[FMSCT]\d{1,2}", kpi_id) for kpi_id in ids)
    assert all(kpi.name and kpi.definition and kpi.area for kpi in kpis)


def test_every_declared_kpi_is_in_the_catalogue_and_unit_tested(parsed_marts: dict[str, Mart]) -> None:
    assert catalogue.problems(list(parsed_marts.values())) == []


def test_every_kpi_mart_answers_a_catalogue_kpi_and_every_measure_is_known(parsed_marts: dict[str, Mart]) -> None:
    from crm_kpi.manifest import MEASURES

    for mart in parsed_marts.values():
        if mart.is_kpi:
            assert mart.kpi_ids, f"{mart.name}: no column declares the catalogue id it answers (meta.kpi)"
        for column in mart.columns:
            assert column.measure in (None, *MEASURES), f"{mart.name}.{column.name}: unknown measure {column.measure}"
            if column.kpis:
                assert column.measure, f"{mart.name}.{column.name}: a KPI column declares its measure"


def _mart(columns: tuple[MartColumn, ...], unit_columns: frozenset[str]) -> Mart:
    return Mart(
        "kpi_example", "models/marts/kpi/kpi_example.sql", "", columns, ("month",), (), (UnitTest("u", unit_columns),)
    )


def test_an_unknown_id_and_an_untested_kpi_are_refused() -> None:
    columns = (
        MartColumn("month", "date", "The month."),
        MartColumn("bookings", "decimal(18,2)", "Bookings.", "money", ("S1",)),
        MartColumn("magic", "double", "Magic.", "ratio", ("X9",)),
    )
    found = catalogue.problems([_mart(columns, frozenset({"month"}))])
    assert "kpi_example.magic claims X9, which is not in the KPI catalogue" in found
    assert any(
        problem.startswith("S1 (Revenue (bookings)) is built in kpi_example but no unit test") for problem in found
    )
    assert catalogue.problems([_mart(columns[:2], frozenset({"month", "bookings"}))]) == []


def test_the_index_names_unbuilt_kpis_and_renders_the_docs_front_page(parsed_marts: dict[str, Mart]) -> None:
    entries = catalogue.index(list(parsed_marts.values()))
    assert [entry.kpi.id for entry in entries] == [kpi.id for kpi in catalogue.load_catalogue()]
    page = catalogue.format_overview(entries)
    assert page.startswith("{% docs __overview__ %}") and page.rstrip().endswith("{% enddocs %}")
    assert "| S3 | Revenue per rep |" in page and "`kpi_revenue_per_rep`" in page
    text = catalogue.format_text(entries)
    assert text.splitlines()[-1].endswith(f"of {len(entries)} KPIs built")
    if not all(entry.built for entry in entries):
        assert "not built yet" in page and "not built yet" in text


def test_the_front_page_is_in_a_manifest_only_once_dbt_parsed_it() -> None:
    """`crm-kpi run` compiles the docs again when the build's manifest lacks the page it just wrote (the first
    run: dbt parsed the project before the page existed, and the docs would show dbt's welcome page)."""
    page = "{% docs __overview__ %}\n# CRM KPI warehouse: the KPI catalogue\n\n| id |\n{% enddocs %}\n"
    welcome = {"name": "__overview__", "package_name": "dbt", "block_contents": "### Welcome!"}
    ours = {
        "name": "__overview__",
        "package_name": "crm_kpi",
        "block_contents": "# CRM KPI warehouse: the KPI catalogue\n\n| id |",
    }
    assert not catalogue.overview_in_manifest({"docs": {"doc.dbt.__overview__": welcome}}, page)
    both = {"doc.dbt.__overview__": welcome, "doc.crm_kpi.__overview__": ours}
    assert catalogue.overview_in_manifest({"docs": both}, page)
    stale = {**both, "doc.crm_kpi.__overview__": {**ours, "block_contents": "# an older index"}}
    assert not catalogue.overview_in_manifest({"docs": stale}, page)


def test_the_committed_kpi_index_is_what_the_manifest_gives(parsed_marts: dict[str, Mart]) -> None:
    """docs/kpi-index.md (linked from the README) is the generator's output, never a hand edit: a new KPI mart
    appears there by running `crm-kpi catalogue --markdown docs/kpi-index.md` again."""
    page = catalogue.format_markdown(catalogue.index(list(parsed_marts.values())))
    committed = (project_root() / "docs" / "kpi-index.md").read_text(encoding="utf-8")
    assert committed == page, "docs/kpi-index.md is stale: run `crm-kpi catalogue --markdown docs/kpi-index.md`"
    kpi_marts = [mart for mart in parsed_marts.values() if mart.is_kpi]
    assert all(f"| `{mart.name}` | " in page for mart in kpi_marts)


def test_the_kpi_index_page_lists_a_new_mart_under_its_area_with_its_columns() -> None:
    columns = (
        MartColumn("month", "date", "The month."),
        MartColumn("bookings", "decimal(18,2)", "Bookings.", "money", ("S1",)),
        MartColumn("win_rate", "double", "Win rate.", "rate", ("F3",)),
    )
    mart = Mart(
        "kpi_example",
        "models/marts/kpi/sales/kpi_example.sql",
        "Bookings per month (catalogue S1, with F3: its win rate). Grain: one row per `month`.",
        columns,
        ("month",),
    )
    page = catalogue.format_markdown(catalogue.index([mart]))
    sales = page.split("### Sales performance and pipeline", 1)[1].split("##", 1)[0]
    assert "| `kpi_example` | `month` | F3, S1 | Bookings per month (catalogue S1, with F3: its win rate) |" in sales
    assert "| S1 | Revenue (bookings) | `kpi_example` | `bookings` |" in page
    assert "| F3 | Opportunity to won (win rate) | `kpi_example` | `win_rate` |" in page
    assert "| S2 | Sales growth | not built yet | |" in page
    assert page.count("### ") == 1 and "1 KPI marts answer 2 of the 40 KPIs" in page
