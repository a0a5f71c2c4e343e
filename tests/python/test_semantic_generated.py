"""The MetricFlow entries generated from the KPI marts' declarations (crm_kpi.semantic): the committed files are
what the manifest gives, every KPI mart is in the semantic layer one way or the other, and the generator's
rules on hand-made declarations (test_semantic_layer compares the generated metrics with the marts)."""

from __future__ import annotations

from crm_kpi import semantic
from crm_kpi.manifest import Grain, Mart, MartColumn, Members, Ratio
from crm_kpi.paths import project_root


def test_committed_files_are_rendered_from_the_manifest(parsed_marts: dict[str, Mart]) -> None:
    root = project_root()
    expected = semantic.generated_files(list(parsed_marts.values()), root)
    committed = {path.relative_to(root): path.read_text(encoding="utf-8")
                 for path in (root / semantic.GENERATED_PATH).glob("*.yml")}  # fmt: skip
    assert committed == expected, "models/semantic/generated/ is out of date: run `crm-kpi powerbi --render-exposures`"
    assert committed, "no generated semantic file (kpi_pipeline_coverage is generated)"


def test_every_kpi_mart_is_hand_written_generated_or_listed(parsed_marts: dict[str, Mart]) -> None:
    kpi = {name for name, mart in parsed_marts.items() if mart.is_kpi}
    generated = {mart.name for mart in semantic.generated_marts(list(parsed_marts.values()), project_root())}
    hand_written = semantic.hand_written(project_root()) & kpi
    assert generated | hand_written | set(semantic.NOT_GENERATED) == kpi
    assert not generated & hand_written and not set(semantic.NOT_GENERATED) & hand_written
    assert set(semantic.NOT_GENERATED) <= kpi, "a listed mart the project does not build"


def _mart() -> Mart:
    columns = (
        MartColumn("quarter_start", "date", ""),
        MartColumn("breakdown", "varchar", ""),
        MartColumn("breakdown_id", "varchar", ""),
        MartColumn("pipeline", "decimal(18,2)", "Pipeline.", "money", ("S8",), "period"),
        MartColumn("quota", "decimal(18,2)", "Quota.", "money", ("S4",), "sum"),
        MartColumn("open_deals", "bigint", "Open.", "count", ("S8",), "closing"),
        MartColumn("coverage", "double", "", "ratio", ("S8",), "ratio", Ratio("coverage", ("pipeline",), ("quota",))),
        MartColumn("attainment", "double", "", "ratio", ("S4",), "ratio", Ratio("attainment", ("quota",), ("quota",))),
    )  # fmt: skip
    grain = Grain(
        date="quarter_start",
        period_length="quarter",
        selectors={"breakdown": "company"},
        members=Members("breakdown", "breakdown_id", {"rep": "dim_reps"}),
    )
    return Mart("kpi_example", "models/marts/kpi/kpi_example.sql", "", columns, (), reading=grain)


def test_one_model_for_the_default_rows_and_one_per_member_kind() -> None:
    entries = semantic.semantic_entries(_mart())
    models = {model["name"]: model for model in entries["semantic_models"]}
    assert list(models) == ["example", "example_rep"]
    assert "entities" not in models["example"]
    assert models["example_rep"]["entities"] == [
        {"name": "rep", "type": "foreign", "expr": "case when breakdown = 'rep' then breakdown_id end"}
    ]
    time = models["example"]["dimensions"][0]
    assert (time["expr"], time["type_params"]["time_granularity"]) == ("quarter_start", "quarter")
    quota = next(measure for measure in models["example_rep"]["measures"] if measure["name"] == "rep_quota")
    assert quota["expr"] == "case when breakdown = 'rep' then quota end"


def test_each_aggregate_reads_over_time_as_declared() -> None:
    metrics = {metric["name"]: metric for metric in semantic.semantic_entries(_mart())["metrics"]}
    measures = {
        m["name"]: m for model in semantic.semantic_entries(_mart())["semantic_models"] for m in model["measures"]
    }
    assert metrics["quota"]["type"] == "simple"  # sum: adds up over quarters
    assert measures["open_deals"]["non_additive_dimension"] == {"name": "example_quarter_start", "window_choice": "max"}
    # period: the row of the period, null over more than one period
    assert metrics["pipeline"]["type"] == "derived"
    assert metrics["pipeline"]["type_params"]["expr"] == "case when guard = 1 then value end"
    assert measures["example_periods"]["agg"] == "count_distinct"
    # a ratio reading a period column is guarded like it; one of sums is a MetricFlow ratio
    assert "guard = 1" in metrics["coverage"]["type_params"]["expr"]
    assert metrics["attainment"]["type"] == "ratio"
    assert measures["coverage_numerator"]["expr"] == "case when breakdown = 'company' then (pipeline) end"


def test_metric_columns_name_what_each_generated_metric_equals() -> None:
    mart = _mart()
    rep = semantic.row_sets(mart)[1]
    found = semantic.metric_columns(mart, rep)
    assert found["rep_coverage"] == ("coverage",) and found["rep_coverage_denominator"] == ("quota",)
    assert found["rep_pipeline_rows"] == ("pipeline",) and found["example_rep_periods"] == ()
    names = {
        metric["name"] for metric in semantic.semantic_entries(mart)["metrics"] if metric["name"].startswith("rep_")
    }
    assert names | {"example_rep_periods"} == set(found)


def test_a_mart_without_a_grain_date_is_refused() -> None:
    mart = _mart()
    undated = Mart(mart.name, mart.path, "", mart.columns, (), reading=Grain())
    try:
        semantic.semantic_entries(undated)
    except ValueError as error:
        assert "no grain date" in str(error)
    else:
        raise AssertionError("a mart without a grain date was generated")


def test_a_metric_name_already_taken_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / semantic.SEMANTIC_PATH).mkdir(parents=True)
    (tmp_path / semantic.SEMANTIC_PATH / "sem_other.yml").write_text("metrics:\n  - name: rep_quota\n")
    try:
        semantic.generated_files([_mart()], tmp_path)
    except ValueError as error:
        assert "kpi_example: generated metric names already taken: rep_quota" in str(error)
    else:
        raise AssertionError("a clash with a hand-written metric was generated")
    (tmp_path / semantic.SEMANTIC_PATH / "sem_other.yml").write_text("metrics:\n  - name: other\n")
    assert list(semantic.generated_files([_mart()], tmp_path)) == [semantic.GENERATED_PATH / "sem_kpi_example.yml"]
