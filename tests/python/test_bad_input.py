"""Every bad-input class answered: the demo export, mutated one class at a time (each class on records of
its own), is built once; each test asserts its class's exact outcome (the quarantine reason with the
file's row number, the cleared reference, the kept row) and that every table's row accounting balances.
The classes found at the file level (a missing column, a Parquet type, a missing or empty required
file) are refused before dbt runs, naming file and column; the optional files that are absent, header
only or zero bytes, and an as-of date before the data, give a passing build with empty KPIs whose
reasons the run names.
"""

from __future__ import annotations

import csv
import hashlib
import re
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pytest

from conftest import Warehouse, build_warehouse
from crm_kpi import dbt_invoke, manifest, preflight, summary, warehouse
from crm_kpi.paths import project_root
from crm_kpi.settings import BuildSettings, pii_salt, pii_salt_path

DEMO = project_root() / "seeds" / "demo"
FIXTURES = Path(__file__).parent / "fixtures"
OUTSIDE_DATES = (
    "outside the plausible dates (1990-01-01 to 2099-12-31, vars earliest_plausible_date and latest_plausible_date)"
)
NOT_FINITE = "not a finite number below 1e12 in magnitude"


@dataclass
class CsvTable:
    """A raw CSV file as header and rows; rows are numbered from 1 as source_row_number numbers them."""

    path: Path
    header: list[str]
    rows: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path) -> CsvTable:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            return cls(path, list(reader.fieldnames or []), list(reader))

    def write(self, header: list[str] | None = None, bom: bool = False, crlf: bool = False) -> None:
        with open(self.path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
            writer = csv.DictWriter(
                handle, header or self.header, extrasaction="ignore", lineterminator="\r\n" if crlf else "\n"
            )
            writer.writeheader()
            writer.writerows(self.rows)

    def append(self, row: dict[str, str]) -> int:
        """Append a row; its source_row_number."""
        self.rows.append(dict(row))
        return len(self.rows)

    def number(self, key: str, value: str) -> int:
        return next(index for index, row in enumerate(self.rows, start=1) if row[key] == value)

    def single(self, key: str, condition: object = None) -> dict[str, str]:
        """A record with one row in the file (and the condition), not used by another mutation."""
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row[key]] = counts.get(row[key], 0) + 1
        for row in self.rows:
            if counts[row[key]] == 1 and row[key] not in USED and (condition is None or condition(row)):  # type: ignore[operator]
                USED.add(row[key])
                return row
        raise AssertionError(f"no single-row record in {self.path.name}")


USED: set[str] = set()


@dataclass
class Mutated:
    """The built mutated export and what each class did to it (record ids and row numbers)."""

    warehouse: Warehouse
    cases: dict[str, dict[str, object]]

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        with duckdb.connect(str(self.warehouse.db_path), read_only=True) as connection:
            return connection.execute(sql).fetchall()

    def quarantined(self, table: str, row_number: object) -> tuple[object, ...] | None:
        found = self.rows(
            "select record_id, column_name, raw_value, reason from audit.audit_crm__quarantined_rows "
            f"where table_name = '{table}' and source_row_number = {row_number}"
        )
        return found[0] if found else None


def _mutate(raw: Path) -> dict[str, dict[str, object]]:
    tables = {name: CsvTable.read(raw / f"{name}.csv") for name in (
        "opportunities", "campaign_spend", "activities", "leads", "lead_status_history", "invoices",
        "survey_responses", "employee_survey_responses", "quotas", "users", "accounts", "opportunity_line_items",
    )}  # fmt: skip
    opportunities, spend, activities = tables["opportunities"], tables["campaign_spend"], tables["activities"]
    leads, history, invoices = tables["leads"], tables["lead_status_history"], tables["invoices"]
    cases: dict[str, dict[str, object]] = {}
    open_deal = lambda row: row["is_deleted"] != "true"  # noqa: E731

    # Conflicting duplicates with the same version: an entity record's two rows are both quarantined.
    deal = opportunities.single("opportunity_id", open_deal)
    twin = {**deal, "amount": str(round(float(deal["amount"]) * 10, 2))}
    cases["conflict"] = {
        "id": deal["opportunity_id"],
        "rows": [opportunities.number("opportunity_id", deal["opportunity_id"]), opportunities.append(twin)],
    }
    day = spend.rows[100]
    cases["conflict_unversioned"] = {
        "rows": [101, spend.append({**day, "amount": str(float(day["amount"]) + 1)})],
        "id": f"{day['campaign_id']}|{day['spend_date']}",
    }
    # An event's rows that differ: the one whose values sort last is kept, whatever the file order
    # (outcomes: 'positive' > 'negative'); the other is quarantined, naming the kept row.
    first = activities.single("activity_id", lambda row: row["outcome"] == "positive")
    second = activities.single("activity_id", lambda row: row["outcome"] == "negative")
    first_row, second_row = (activities.number("activity_id", row["activity_id"]) for row in (first, second))
    lower = activities.append({**first, "outcome": "negative"})  # appended, sorts lower: the original stays
    higher = activities.append({**second, "outcome": "positive"})  # appended, sorts higher: it replaces the original
    cases["event_conflict"] = {
        "original_kept": (first["activity_id"], first_row, lower),
        "appended_kept": (second["activity_id"], higher, second_row),
    }
    # Equivalent spellings of one record version: a copy, staged once, nothing quarantined.
    lead = leads.single("lead_id", lambda row: row["updated_at"].endswith("Z") and row["is_deleted"] == "false")
    spelled = {**lead, "status": lead["status"].upper(), "updated_at": lead["updated_at"][:-1] + "+00:00"}
    change = next(row for row in history.rows if row["status"] == "sql" and row["changed_at"].endswith("Z"))
    respelled = {**change, "status": "SQL", "changed_at": change["changed_at"][:-1] + "+00:00"}
    cases["spelling"] = {
        "lead": lead["lead_id"],
        "rows": [leads.append(spelled), history.append(respelled)],
        "change": (change["lead_id"], change["changed_at"]),
    }
    # Non-finite and out-of-range numbers.
    nan_deal = opportunities.single("opportunity_id", open_deal)
    nan_deal["amount"] = "NaN"
    invoices.rows[10]["amount"] = "Infinity"
    spend.rows[200]["amount"] = "1e20"
    cases["not_finite"] = {
        "opportunities": opportunities.number("opportunity_id", nan_deal["opportunity_id"]),
        "invoices": 11,
        "campaign_spend": 201,
    }
    # Fractional and out-of-range scores.
    tables["survey_responses"].rows[5]["score"] = "7.5"
    tables["employee_survey_responses"].rows[5]["score"] = "11"
    cases["scores"] = {"survey_responses": 6, "employee_survey_responses": 6}
    # Negative amounts where the contract forbids them.
    tables["quotas"].rows[3]["amount"] = "-100"
    invoices.rows[20]["amount"] = "-5"
    cases["negative"] = {"quotas": 4, "invoices": 21}
    # Dates outside the plausible window: a typo cannot stretch the spine or the as-of date.
    old_lead = leads.single("lead_id", lambda row: row["is_deleted"] == "false")
    old_lead["created_at"] = "1900-01-01T00:00:00Z"
    future_deal = opportunities.single("opportunity_id", open_deal)
    future_deal["close_date"] = "2205-01-01"
    cases["dates"] = {
        "leads": leads.number("lead_id", old_lead["lead_id"]),
        "opportunities": opportunities.number("opportunity_id", future_deal["opportunity_id"]),
    }
    # An orphan key: a deal of an account that is not in the export.
    orphan = opportunities.single("opportunity_id", open_deal)
    orphan["account_id"] = "acc_not_exported"
    cases["orphan"] = {"row": opportunities.number("opportunity_id", orphan["opportunity_id"])}
    # Soft-deleted records that others point to: a converted lead (its deal keeps its bookings, the
    # reference is cleared) and an account (its deals are quarantined).
    sourced = opportunities.single("opportunity_id", lambda row: open_deal(row) and bool(row["source_lead_id"]))
    converted = leads.single("lead_id", lambda row: row["lead_id"] == sourced["source_lead_id"])
    leads.append({**converted, "is_deleted": "true", "updated_at": "2026-10-30T12:00:00Z"})
    accounts = tables["accounts"]
    taken = {row["account_id"] for row in opportunities.rows if row["opportunity_id"] in USED}
    with_deals = {row["account_id"] for row in opportunities.rows} - taken
    gone = accounts.single("account_id", lambda row: row["account_id"] in with_deals)
    accounts.append({**gone, "is_deleted": "true", "updated_at": "2026-10-30T12:00:00Z"})
    cases["soft_deleted"] = {
        "lead": converted["lead_id"],
        "deal": sourced["opportunity_id"],
        "deal_row": opportunities.number("opportunity_id", sourced["opportunity_id"]),
        "account": gone["account_id"],
        "account_deal_rows": [
            index for index, row in enumerate(opportunities.rows, 1) if row["account_id"] == gone["account_id"]
        ],
    }
    # A lead's two rows of one version that differ in the email: both quarantined on the email, whose raw
    # value the audit report masks (personal data).
    person = leads.single(
        "lead_id", lambda row: row["is_deleted"] == "false" and row["email"].isascii() and "@" in row["email"]
    )
    cases["pii"] = {
        "id": person["lead_id"],
        "emails": [person["email"], "other." + person["email"]],
        "rows": [
            leads.number("lead_id", person["lead_id"]),
            leads.append({**person, "email": "other." + person["email"]}),
        ],
    }
    # A row with a missing key can still be found: its row number.
    cases["null_key"] = {"row": leads.append({**lead, "lead_id": ""})}
    for table in tables.values():
        if table is not tables["users"]:
            table.write()
    # BOM, CRLF and reordered columns: read as the same table.
    users = tables["users"]
    users.write(header=list(reversed(users.header)), bom=True, crlf=True)
    return cases


@pytest.fixture(scope="module")
def mutated(tmp_path_factory: pytest.TempPathFactory) -> Mutated:
    raw = tmp_path_factory.mktemp("mutated_raw")
    for path in DEMO.glob("*.csv"):
        shutil.copyfile(path, raw / path.name)
    cases = _mutate(raw)
    return Mutated(build_warehouse(tmp_path_factory.mktemp("mutated_build"), raw_path=raw), cases)


@pytest.mark.slow
def test_every_table_balances_from_the_file(mutated: Mutated) -> None:
    rows = mutated.rows(
        "select table_name, file_rows, staged_rows + superseded_rows + deleted_records + quarantined_rows, is_balanced "
        "from audit.audit_crm__row_accounting"
    )
    assert len(rows) == 24
    assert [row for row in rows if not row[3] or row[1] != row[2]] == []
    for table in ("opportunities", "activities", "leads"):
        in_file = len(CsvTable.read(mutated.warehouse.raw_dir / f"{table}.csv").rows)
        assert (table, in_file) in {(row[0], row[1]) for row in rows}


@pytest.mark.slow
def test_conflicting_duplicates_of_an_entity_record_are_both_quarantined(mutated: Mutated) -> None:
    case = mutated.cases["conflict"]
    reason = "conflicting duplicate: 2 rows with the same opportunity_id and updated_at differ in amount"
    for row in case["rows"]:  # type: ignore[attr-defined]
        found = mutated.quarantined("opportunities", row)
        assert found is not None and (found[1], found[3]) == ("amount", reason)
    assert mutated.rows(f"select * from staging.stg_crm__opportunities where opportunity_id = '{case['id']}'") == []
    case = mutated.cases["conflict_unversioned"]
    for row in case["rows"]:  # type: ignore[attr-defined]
        found = mutated.quarantined("campaign_spend", row)
        assert found is not None and found[0] == case["id"] and found[1] == "amount"
        assert found[3] == "conflicting duplicate: 2 rows with the same campaign_id and spend_date differ in amount"


@pytest.mark.slow
def test_an_events_conflicting_rows_keep_the_row_whose_values_sort_last(mutated: Mutated) -> None:
    for activity_id, kept_row, lost_row in mutated.cases["event_conflict"].values():  # type: ignore[attr-defined]
        kept = mutated.rows(f"select outcome from staging.stg_crm__activities where activity_id = '{activity_id}'")
        assert kept == [("positive",)], "the row that sorts last ('positive' > 'negative') is kept"
        found = mutated.quarantined("activities", lost_row)
        assert found is not None and found[1:3] == ("outcome", "negative")
        assert found[3] == (
            f"conflicting duplicate: rows with the same activity_id differ; staging keeps row {kept_row} "
            "(of the rows that differ, the one whose values sort last)"
        )
        assert mutated.quarantined("activities", kept_row) is None


@pytest.mark.slow
def test_equivalent_spellings_of_one_version_are_one_record(mutated: Mutated) -> None:
    case = mutated.cases["spelling"]
    lead_row, history_row = case["rows"]  # type: ignore[misc]
    assert mutated.quarantined("leads", lead_row) is None
    assert mutated.quarantined("lead_status_history", history_row) is None
    assert mutated.rows(f"select count(*) from staging.stg_crm__leads where lead_id = '{case['lead']}'") == [(1,)]
    lead_id, _ = case["change"]  # type: ignore[misc]
    assert mutated.rows(
        f"select count(*) from staging.stg_crm__lead_status_history where lead_id = '{lead_id}' and status = 'sql'"
    ) == [(1,)]


@pytest.mark.slow
def test_non_finite_and_huge_numbers_are_quarantined(mutated: Mutated) -> None:
    for table, row in mutated.cases["not_finite"].items():
        found = mutated.quarantined(table, row)
        assert found is not None and found[3] == NOT_FINITE, (table, found)
    assert mutated.quarantined("opportunities", mutated.cases["not_finite"]["opportunities"])[2] == "NaN"  # type: ignore[index]


@pytest.mark.slow
def test_fractional_and_out_of_range_scores_are_quarantined(mutated: Mutated) -> None:
    scores = mutated.cases["scores"]
    assert mutated.quarantined("survey_responses", scores["survey_responses"])[1:] == (  # type: ignore[index]
        "score",
        "7.5",
        "cannot parse as integer",
    )
    assert mutated.quarantined("employee_survey_responses", scores["employee_survey_responses"])[1:] == (  # type: ignore[index]
        "score",
        "11",
        "score out of range (0-10)",
    )


@pytest.mark.slow
def test_negative_amounts_are_quarantined_where_the_contract_forbids_them(mutated: Mutated) -> None:
    negative = mutated.cases["negative"]
    assert mutated.quarantined("quotas", negative["quotas"])[1:] == ("amount", "-100.0", "negative amount")  # type: ignore[index]
    assert mutated.quarantined("invoices", negative["invoices"])[1:] == ("amount", "-5.0", "negative amount")  # type: ignore[index]


@pytest.mark.slow
def test_dates_outside_the_plausible_window_neither_stage_nor_stretch_the_spine(mutated: Mutated) -> None:
    dates = mutated.cases["dates"]
    assert mutated.quarantined("leads", dates["leads"])[1:] == ("created_at", "1900-01-01T00:00:00Z", OUTSIDE_DATES)  # type: ignore[index]
    assert mutated.quarantined("opportunities", dates["opportunities"])[1:] == (
        "close_date",
        "2205-01-01",
        OUTSIDE_DATES,
    )  # type: ignore[index]
    assert mutated.warehouse.as_of == date(2026, 10, 31)
    # The date table holds whole calendar years (the first data date's to the last expected close date's).
    assert mutated.rows("select min(date_day), max(date_day) from marts.dim_dates") == [
        (date(2024, 1, 1), date(2026, 12, 31))
    ]


@pytest.mark.slow
def test_an_orphan_key_is_flagged_in_the_audit_schema_not_a_failing_test(mutated: Mutated) -> None:
    row = mutated.cases["orphan"]["row"]
    reason = "account_id not in accounts (absent from the export, or quarantined there)"
    assert mutated.quarantined("opportunities", row)[1:] == ("account_id", "acc_not_exported", reason)  # type: ignore[index]
    assert mutated.rows(
        "select referenced_key, referenced_table, referenced_state, outcome from audit.audit_crm__orphan_keys "
        f"where table_name = 'opportunities' and source_row_number = {row}"
    ) == [("acc_not_exported", "accounts", "absent from the export, or quarantined", "row quarantined")]


@pytest.mark.slow
def test_soft_deleted_records_that_others_point_to(mutated: Mutated) -> None:
    case = mutated.cases["soft_deleted"]
    # The deal of a deleted converted lead keeps its bookings; its source lead is cleared.
    assert mutated.rows(
        "select source_lead_id, amount is not null from marts.fct_opportunities "
        f"where opportunity_id = '{case['deal']}'"
    ) == [(None, True)]
    assert mutated.rows(
        "select referenced_key, referenced_state, outcome from audit.audit_crm__orphan_keys "
        f"where table_name = 'opportunities' and source_row_number = {case['deal_row']}"
    ) == [(case["lead"], "soft-deleted", "reference cleared in staging")]
    # The deals of a deleted account are quarantined with it, each with its row number.
    reason = "account_id points to a soft-deleted accounts record"
    for row in case["account_deal_rows"]:  # type: ignore[attr-defined]
        assert mutated.quarantined("opportunities", row)[1::2] == ("account_id", reason)  # type: ignore[index]
    assert mutated.rows(f"select count(*) from marts.fct_opportunities where account_id = '{case['account']}'") == [
        (0,)
    ]


@pytest.mark.slow
def test_a_quarantined_value_of_personal_data_is_masked_in_the_audit_schema(mutated: Mutated) -> None:
    case = mutated.cases["pii"]
    reason = "conflicting duplicate: 2 rows with the same lead_id and updated_at differ in email"
    for row in case["rows"]:  # type: ignore[attr-defined]
        assert mutated.quarantined("leads", row) == (case["id"], "email", "(masked: personal data)", reason)
    for email in case["emails"]:  # type: ignore[attr-defined]
        assert mutated.rows(
            "select count(*) from audit.audit_crm__quarantined_rows "
            f"where strpos(lower(raw_value), lower('{email}')) > 0"
        ) == [(0,)]
    # Staging keeps the value, for the lead's own record.
    assert mutated.rows(
        f"select quarantine_value from staging.base_crm__leads where source_row_number = {case['rows'][0]}"  # type: ignore[index]
    ) == [(case["emails"][0],)]  # type: ignore[index]


@pytest.mark.slow
def test_lead_person_key_is_salted(mutated: Mutated) -> None:
    salt = pii_salt(mutated.warehouse.db_path)
    email, key = mutated.rows(
        "select email, lead_person_key from staging.stg_crm__leads where email is not null order by lead_id limit 1"
    )[0]
    assert key == hashlib.md5((salt + str(email).lower()).encode()).hexdigest()
    assert key != hashlib.md5(str(email).lower().encode()).hexdigest()
    assert mutated.rows(f"select count(*) from marts.fct_leads where lead_person_key = '{key}'") == [(1,)]


def test_the_salt_comes_from_the_environment_and_must_be_long_enough(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_KPI_PII_SALT", "a secret of the company")
    assert BuildSettings(db_path=tmp_path / "w.duckdb").environment()["CRM_KPI_PII_SALT"] == ("a secret of the company")
    assert not pii_salt_path(tmp_path / "w.duckdb").exists()
    monkeypatch.setenv("CRM_KPI_PII_SALT", "short")
    with pytest.raises(ValueError, match="CRM_KPI_PII_SALT .* must hold at least 16 characters"):
        BuildSettings(db_path=tmp_path / "w.duckdb").environment()
    # Unset: a random salt kept beside the published warehouse, readable by its owner only, shared by its
    # candidate builds.
    monkeypatch.delenv("CRM_KPI_PII_SALT")
    candidate = BuildSettings(db_path=tmp_path / "w.duckdb.build" / "w.duckdb").environment()
    path = tmp_path / "w.duckdb.pii_salt"
    assert candidate["CRM_KPI_PII_SALT"] == path.read_text(encoding="utf-8").strip()
    assert len(candidate["CRM_KPI_PII_SALT"]) == 64 and path.stat().st_mode & 0o777 == 0o600
    assert (
        BuildSettings(db_path=tmp_path / "w.duckdb").environment()["CRM_KPI_PII_SALT"]
        == (candidate["CRM_KPI_PII_SALT"])
    )


@pytest.mark.slow
def test_a_row_with_a_missing_key_is_found_by_its_row_number(mutated: Mutated) -> None:
    found = mutated.quarantined("leads", mutated.cases["null_key"]["row"])
    assert found == ("", "lead_id", None, "missing required value")


@pytest.mark.slow
def test_bom_crlf_and_reordered_columns_read_as_the_same_table(mutated: Mutated) -> None:
    assert mutated.rows(
        "select staged_rows, quarantined_rows from audit.audit_crm__row_accounting where table_name = 'users'"
    ) == [(44, 0)]


# ------------------------------------------------------------------------------- file-level classes


def _copy_required(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    shutil.copytree(FIXTURES / "required_tables_only", raw)
    return raw


def test_a_missing_column_is_refused_before_dbt_runs_naming_file_and_column(tmp_path: Path) -> None:
    raw = _copy_required(tmp_path)
    table = CsvTable.read(raw / "leads.csv")
    table.write(header=[name for name in table.header if name != "phone"])
    with pytest.raises(preflight.RawExportError, match=r"leads\.csv: lacks the column\(s\) phone of the raw contract"):
        preflight.check_raw_folder(raw, "csv")


def test_a_parquet_amount_in_integer_cents_is_refused_naming_file_and_column(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    with duckdb.connect() as connection:
        for path in (FIXTURES / "required_tables_only").glob("*.csv"):
            select = "select * replace (cast(round(cast(amount as double) * 100) as bigint) as amount)"
            query = (
                f"{select if path.stem == 'opportunities' else 'select *'} from read_csv('{path}', all_varchar = true)"
            )
            connection.execute(f"copy ({query}) to '{raw / (path.stem + '.parquet')}' (format parquet)")
    with pytest.raises(preflight.RawExportError) as refused:
        preflight.check_raw_folder(raw, "parquet")
    assert "opportunities.parquet: column amount is int64 in Parquet, the contract wants a decimal" in str(
        refused.value
    )
    assert "in cents" in str(refused.value)


def test_a_missing_or_zero_byte_required_file_is_refused(tmp_path: Path) -> None:
    raw = _copy_required(tmp_path)
    (raw / "users.csv").write_bytes(b"")
    (raw / "stages.csv").unlink()
    with pytest.raises(preflight.RawExportError) as refused:
        preflight.check_raw_folder(raw, "csv")
    assert "users.csv: the required table users is empty (0 bytes, not even a header)" in str(refused.value)
    assert "stages.csv: the required table stages is missing" in str(refused.value)


@pytest.mark.slow
def test_absent_header_only_and_zero_byte_optional_files_give_empty_kpis_and_say_why(tmp_path: Path) -> None:
    raw = _copy_required(tmp_path)
    (raw / "campaign_spend.csv").write_text("campaign_id,spend_date,amount,currency\n", encoding="utf-8")
    (raw / "subscriptions.csv").write_bytes(b"")
    assert preflight.check_raw_folder(raw, "csv")[:2] == ["teams (absent)", "team_memberships (absent)"]
    warehouse = build_warehouse(tmp_path / "build", raw_path=raw)
    settings = BuildSettings(db_path=warehouse.db_path, artifacts_dir=warehouse.artifacts_dir)
    with duckdb.connect(str(warehouse.db_path), read_only=True) as connection:
        accounting = dict(
            connection.execute(
                "select table_name, (file_present, file_rows) from audit.audit_crm__row_accounting"
            ).fetchall()
        )
        assert connection.execute("select count(*) from marts.kpi_campaign_cac").fetchone() == (0,)
    assert accounting["campaigns"] == (False, 0)
    assert accounting["campaign_spend"] == (True, 0)
    assert accounting["subscriptions"] == (False, 0)
    reasons = summary.empty_kpi_reasons(settings, ["kpi_campaign_cac", "kpi_churn_by_cohort"])
    assert reasons["kpi_campaign_cac"].startswith("inputs absent or empty: ")
    assert {"campaign_spend empty (header only)", "campaigns absent"} <= set(
        reasons["kpi_campaign_cac"][24:].split(", ")
    )
    assert "subscriptions absent" in reasons["kpi_churn_by_cohort"][24:].split(", ")


@pytest.mark.slow
def test_an_as_of_date_before_the_data_gives_empty_kpis_and_says_why(tmp_path: Path) -> None:
    raw = _copy_required(tmp_path)
    settings = BuildSettings(
        db_path=tmp_path / "w.duckdb",
        raw_path=raw,
        as_of_date="2000-01-01",
        artifacts_dir=tmp_path,
        quiet=True,
        unit_tests=False,
    )
    dbt_invoke.build(settings)
    counts = warehouse.mart_row_counts(settings, manifest.built_marts(settings.target_dir))
    empty = [name for name, count in counts.items() if name.startswith("kpi_") and count == 0]
    assert "kpi_funnel_conversion" in empty and "kpi_revenue_per_rep" in empty
    assert summary.empty_kpi_reasons(settings, ["kpi_funnel_conversion"]) == {
        "kpi_funnel_conversion": "the as-of date 2000-01-01 is before the first data date 2025-01-15"
    }


@pytest.mark.slow
def test_the_last_plausible_as_of_date_builds_and_the_spines_reach_it(tmp_path: Path) -> None:
    """The date spines span the plausible window (1990-2099 by default), not 20000 days from the first data
    date (which stopped in 2079): every data test passes and each spine ends where it should."""
    raw = _copy_required(tmp_path)
    settings = BuildSettings(
        db_path=tmp_path / "w.duckdb", raw_path=raw, as_of_date="2099-12-31", artifacts_dir=tmp_path, quiet=True
    )
    dbt_invoke.build(settings)
    assert warehouse.query(
        settings,
        "select (select max(date_day) from intermediate.int_dates_spined), "
        "(select max(month_start) from intermediate.int_months_spined), "
        "(select min(date_day) from marts.dim_dates), (select max(date_day) from marts.dim_dates)",
    ) == [(date(2099, 12, 31), date(2099, 12, 1), date(2025, 1, 1), date(2099, 12, 31))]


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ("2025-02-30", "is not a date YYYY-MM-DD"),
        ("2025-01-01'; drop table marts.x; --", "is not a date YYYY-MM-DD"),
        ("1800-01-01", "is outside 1990-01-01 to 2099-12-31"),
    ],
)
def test_an_as_of_date_from_the_user_is_validated(tmp_path: Path, as_of: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BuildSettings(db_path=tmp_path / "w.duckdb", as_of_date=as_of)


@pytest.mark.slow
def test_vars_that_reach_sql_are_validated_by_dbt_too(tmp_path: Path) -> None:
    settings = BuildSettings(
        db_path=tmp_path / "w.duckdb", artifacts_dir=tmp_path, quiet=True, extra_vars={"reporting_currency": "US'D"}
    )
    with pytest.raises(dbt_invoke.DbtFailed, match='var reporting_currency = "US\'D" is not valid'):
        dbt_invoke.run_dbt(settings, ["run", "--select", "stg_crm__stages"])


# Every user var with a value that Jinja's `| int` or `| float` would have read as 0 or pasted into SQL: named
# at once by a plain dbt command (validate_vars, on-run-start), each with what it should hold.
BAD_VARS: dict[str, object] = {
    "enps_min_responses": "three",
    "attribution_window_days": "90 or 1 = 1",
    "clv_trailing_months": "12) union select 1 --",
    "follow_up_days": "2; drop table marts.fct_leads",
    "opportunity_score_stale_after_days": "(select count(*) from read_text('/etc/hostname'))",
    "campaign_overhead_rate": -0.5,
    "fiscal_year_start_month": 13,
    "incremental_lookback_days": 2.5,
    "opportunity_score_weights": {"stage": "x", "amount": 0.15, "age": 0.2, "activity": 0.2, "fit": 0.1},
}
BAD_VAR_MESSAGES = (
    'var enps_min_responses = "three" is not valid: expected a whole number of respondents, at least 2 '
    "(fewer would let a score name a person)",
    'var attribution_window_days = "90 or 1 = 1" is not valid: expected a whole number of days, 0 to 36500',
    'var clv_trailing_months = "12) union select 1 --" is not valid: expected a whole number of months, 1 to 1200',
    'var follow_up_days = "2; drop table marts.fct_leads" is not valid: expected a number of days, 0 to 36500',
    "var opportunity_score_stale_after_days = \"(select count(*) from read_text('/etc/hostname'))\" is not valid: "
    "expected a whole number of days, 1 to 36500",
    "var campaign_overhead_rate = -0.5 is not valid: expected a fraction of spend, 0 to 100",
    "var fiscal_year_start_month = 13 is not valid: expected a month number 1-12 (out of range)",
    "var incremental_lookback_days = 2.5 is not valid: expected a whole number of days, 0 to 36500",
    "var opportunity_score_weights = {'stage': 'x', 'amount': 0.15, 'age': 0.2, 'activity': 0.2, 'fit': 0.1} is not "
    "valid: expected a mapping of stage, amount, age, activity and fit to non-negative numbers, at least one "
    "positive (weight stage is not a non-negative number)",
)


@pytest.mark.slow
def test_every_bad_var_is_named_at_once_by_a_plain_dbt_command(tmp_path: Path) -> None:
    settings = BuildSettings(
        db_path=tmp_path / "w.duckdb", artifacts_dir=tmp_path, quiet=True, extra_vars=dict(BAD_VARS)
    )
    with pytest.raises(dbt_invoke.DbtFailed) as failed:
        dbt_invoke.run_dbt(settings, ["run", "--select", "stg_crm__stages"])
    message = " ".join(str(failed.value).split())
    for expected in BAD_VAR_MESSAGES:
        assert expected in message
    assert not (tmp_path / "w.duckdb").exists() or warehouse.query(
        settings, "select count(*) from information_schema.tables where table_name = 'stg_crm__stages'"
    ) == [(0,)]


@pytest.mark.slow
def test_a_var_is_checked_where_it_is_read_too(tmp_path: Path) -> None:
    """The accessor every model reads a var through refuses a bad value itself (run-operation runs no
    on-run-start hook), and no model, macro or test reads a user var any other way."""
    settings = BuildSettings(
        db_path=tmp_path / "w.duckdb", artifacts_dir=tmp_path, quiet=True, extra_vars={"enps_min_responses": 1}
    )
    with pytest.raises(dbt_invoke.DbtFailed) as failed:
        dbt_invoke.run_dbt(settings, ["run-operation", "checked_var", "--args", '{"name": "enps_min_responses"}'])
    assert (
        "var enps_min_responses = 1 is not valid: expected a whole number of respondents, at least 2 (fewer would "
        "let a score name a person) (out of range)" in " ".join(str(failed.value).split())
    )


def test_no_sql_reads_a_user_var_but_through_checked_var() -> None:
    rules = (project_root() / "macros" / "staging" / "validate_vars.sql").read_text(encoding="utf-8")
    names = re.findall(r"^ {8}'(\w+)': \{'kind'", rules, flags=re.MULTILINE)
    assert "enps_min_responses" in names and len(names) == 19
    reads = re.compile(r"""\bvar\(\s*['"](""" + "|".join(names) + r""")['"]""")
    found = [
        f"{path.relative_to(project_root())}: {match.group(0)}"
        for folder in ("models", "macros", "tests", "analyses")
        for path in sorted((project_root() / folder).rglob("*.sql"))
        if path.name != "validate_vars.sql"
        for match in reads.finditer(re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.DOTALL))
    ]
    assert found == []
