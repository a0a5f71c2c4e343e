"""The raw-data generator: deterministic, reproduces the committed demo set, and writes data that keeps
the raw contract (columns, keys, references, value rules) except for exactly the INJECTED_DEFECTS."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from crm_kpi.contract import TABLES, TABLES_BY_NAME
from crm_kpi.generator import INJECTED_DEFECTS, generate
from crm_kpi.paths import project_root

DEMO_DIR = project_root() / "seeds" / "demo"
END = date(2026, 10, 31)
ENTITY_TABLES = ("users", "campaigns", "leads", "accounts", "opportunities")
DEFECT_IDS = {defect["table"]: defect["id"] for defect in INJECTED_DEFECTS}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("generated_demo")
    generate(out)
    return out


@pytest.fixture(scope="module")
def db(demo: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The generated demo as text tables, plus `<table>_latest`: the latest row per id of entity tables."""
    connection = duckdb.connect()
    connection.execute("set TimeZone = 'UTC'")
    for table in TABLES:
        connection.execute(
            f"create table {table.name} as select * from read_csv('{demo / table.name}.csv', header = true, "
            "all_varchar = true, quote = '\"', escape = '\"')"
        )
    for name in ENTITY_TABLES:
        key = TABLES_BY_NAME[name].primary_key[0]
        connection.execute(
            f"create table {name}_latest as select * from {name} "
            f"qualify row_number() over (partition by {key} order by try_cast(updated_at as timestamptz) desc) = 1"
        )
    yield connection
    connection.close()


def rows(db: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[object, ...]]:
    return db.execute(sql).fetchall()


def test_same_arguments_give_identical_files(demo: Path, tmp_path: Path) -> None:
    generate(tmp_path)
    for table in TABLES:
        assert (tmp_path / f"{table.name}.csv").read_bytes() == (demo / f"{table.name}.csv").read_bytes(), table.name


def test_another_seed_gives_other_data(tmp_path: Path) -> None:
    generate(tmp_path, leads=500, seed=7)
    generate(tmp_path / "again", leads=500, seed=8)
    assert (tmp_path / "leads.csv").read_bytes() != (tmp_path / "again" / "leads.csv").read_bytes()


def test_committed_demo_set_is_reproduced_byte_for_byte(demo: Path) -> None:
    for table in TABLES:
        committed = DEMO_DIR / f"{table.name}.csv"
        assert committed.exists(), f"{committed} is missing: run `crm-kpi generate`"
        assert committed.read_bytes() == (demo / f"{table.name}.csv").read_bytes(), f"{table.name} differs"


def test_every_contract_column_in_order(demo: Path) -> None:
    for table in TABLES:
        with (demo / f"{table.name}.csv").open(encoding="utf-8", newline="") as handle:
            header = handle.readline()
        assert header == ",".join(table.column_names) + "\n", table.name


def test_csv_form(demo: Path) -> None:
    text = (demo / "leads.csv").read_bytes()
    assert b"\r" not in text
    text.decode("utf-8")
    assert b'"' in text  # company names with commas or quotes are quoted
    assert not any(line.startswith(b'"lead_') for line in text.splitlines())  # ids are not quoted


def test_primary_keys_unique_after_dedupe(db: duckdb.DuckDBPyConnection) -> None:
    for table in TABLES:
        key = ", ".join(table.primary_key)
        source = f"{table.name}_latest" if table.name in ENTITY_TABLES else table.name
        duplicates = rows(db, f"select {key}, count(*) from {source} group by all having count(*) > 1 limit 5")
        assert duplicates == [], table.name


def test_reexports_are_older_and_never_tie(db: duckdb.DuckDBPyConnection) -> None:
    for name in ENTITY_TABLES:
        key = TABLES_BY_NAME[name].primary_key[0]
        ties = rows(db, f"select {key}, updated_at from {name} group by all having count(*) > 1")
        assert ties == [], name
        total, distinct = rows(db, f"select count(*), count(distinct {key}) from {name}")[0]
        assert isinstance(total, int) and isinstance(distinct, int)
        assert total > distinct, f"{name}: no re-exported rows"
        assert total - distinct <= max(2, 0.05 * distinct), name


REFERENCES = (
    ("users", "manager_user_id", "users", "user_id"),
    ("teams", "manager_user_id", "users", "user_id"),
    ("team_memberships", "user_id", "users", "user_id"),
    ("team_memberships", "team_id", "teams", "team_id"),
    ("quotas", "user_id", "users", "user_id"),
    ("quotas", "team_id", "teams", "team_id"),
    ("campaign_spend", "campaign_id", "campaigns", "campaign_id"),
    ("leads", "source_campaign_id", "campaigns", "campaign_id"),
    ("leads", "owner_user_id", "users", "user_id"),
    ("leads", "converted_account_id", "accounts", "account_id"),
    ("leads", "converted_opportunity_id", "opportunities", "opportunity_id"),
    ("lead_status_history", "lead_id", "leads", "lead_id"),
    ("campaign_touches", "campaign_id", "campaigns", "campaign_id"),
    ("campaign_touches", "lead_id", "leads", "lead_id"),
    ("accounts", "owner_user_id", "users", "user_id"),
    ("opportunities", "account_id", "accounts", "account_id"),
    ("opportunities", "owner_user_id", "users", "user_id"),
    ("opportunities", "source_lead_id", "leads", "lead_id"),
    ("opportunities", "competitor_id", "competitors", "competitor_id"),
    ("opportunity_stage_history", "opportunity_id", "opportunities", "opportunity_id"),
    ("opportunity_line_items", "opportunity_id", "opportunities", "opportunity_id"),
    ("opportunity_line_items", "product_id", "products", "product_id"),
    ("subscriptions", "account_id", "accounts", "account_id"),
    ("subscriptions", "product_id", "products", "product_id"),
    ("invoices", "account_id", "accounts", "account_id"),
    ("invoices", "opportunity_id", "opportunities", "opportunity_id"),
    ("invoices", "subscription_id", "subscriptions", "subscription_id"),
    ("refunds", "invoice_id", "invoices", "invoice_id"),
    ("activities", "user_id", "users", "user_id"),
    ("activities", "lead_id", "leads", "lead_id"),
    ("activities", "opportunity_id", "opportunities", "opportunity_id"),
    ("activities", "account_id", "accounts", "account_id"),
    ("survey_responses", "account_id", "accounts", "account_id"),
    ("survey_responses", "product_id", "products", "product_id"),
    ("employee_survey_responses", "user_id", "users", "user_id"),
    ("competitor_prices", "competitor_id", "competitors", "competitor_id"),
    ("competitor_prices", "product_id", "products", "product_id"),
)
# Children that may point to a soft-deleted parent (documented in the generator's docstring).
CHILDREN_OF_DELETED = {
    ("lead_status_history", "lead_id"),
    ("campaign_touches", "lead_id"),
    ("activities", "lead_id"),
    ("opportunity_stage_history", "opportunity_id"),
    ("opportunity_line_items", "opportunity_id"),
    ("activities", "opportunity_id"),
}


def _live(parent: str, key: str) -> str:
    source = f"{parent}_latest" if parent in ENTITY_TABLES else parent
    deleted = "coalesce(trim(lower(is_deleted)), 'false') = 'true'" if parent in ENTITY_TABLES else "false"
    return f"select {key} from {source} where not ({deleted})"


def test_references_point_to_live_records(db: duckdb.DuckDBPyConnection) -> None:
    invalid_lead = DEFECT_IDS["leads"]
    for child, column, parent, key in REFERENCES:
        allowed = f"{_live(parent, key)}"
        if (child, column) in CHILDREN_OF_DELETED:
            allowed = f"select {key} from {parent}"
        exempt = f"'{invalid_lead}'" if (child, column) == ("lead_status_history", "lead_id") else "''"
        missing = rows(
            db,
            f"select distinct {column} from {child} where {column} is not null and {column} not in ({allowed}) "
            f"and {column} not in ({exempt}) limit 5",
        )
        assert missing == [], f"{child}.{column} -> {parent}: {missing}"
    stage = rows(
        db,
        "select stage from opportunities union all select stage from opportunity_stage_history "
        "except select stage from stages",
    )
    assert {str(value).strip().lower() for (value,) in stage} <= {
        row[0] for row in rows(db, "select stage from stages")
    }


def test_children_of_deleted_and_the_invalid_lead(db: duckdb.DuckDBPyConnection) -> None:
    invalid = DEFECT_IDS["leads"]
    assert rows(db, f"select status from lead_status_history where lead_id = '{invalid}'") == [("new",)]
    for table in ("campaign_touches", "activities", "opportunities"):
        column = "source_lead_id" if table == "opportunities" else "lead_id"
        assert rows(db, f"select count(*) from {table} where {column} = '{invalid}'") == [(0,)]
    deleted = rows(db, "select count(*) from leads_latest where is_deleted = 'true'")[0][0]
    total = rows(db, "select count(*) from leads_latest")[0][0]
    assert isinstance(deleted, int) and isinstance(total, int) and 0.003 * total < deleted < 0.02 * total
    assert rows(db, "select count(*) from opportunities_latest where is_deleted = 'true'")[0][0] >= 1
    assert rows(db, "select count(*) from campaigns_latest where is_deleted = 'true'")[0][0] == 2
    assert rows(db, "select count(*) from users_latest where is_deleted = 'true'")[0][0] >= 1
    ghost_refs = rows(
        db,
        "select count(*) from activities where user_id in (select user_id from users where is_deleted = 'true')",
    )
    assert ghost_refs == [(0,)]


def test_enumerations_after_trim_and_lower(db: duckdb.DuckDBPyConnection) -> None:
    exceptions = {("leads", "channel"): {"tv"}}
    for table in TABLES:
        for column in table.columns:
            if not column.accepted_values:
                continue
            values = {
                str(value).strip().lower()
                for (value,) in rows(
                    db, f"select distinct {column.name} from {table.name} where {column.name} is not null"
                )
            }
            unknown = values - set(column.accepted_values)
            assert unknown == exceptions.get((table.name, column.name), set()), f"{table.name}.{column.name}: {unknown}"
    raw = {value for (value,) in rows(db, "select distinct channel from leads")}
    assert any(value != value.strip().lower() for value in raw), "no enum written in another case or padded"


def test_survey_scores_in_range_except_the_defect(db: duckdb.DuckDBPyConnection) -> None:
    bad = rows(
        db,
        "select response_id from survey_responses where case trim(lower(survey_type)) "
        "when 'nps' then cast(score as int) not between 0 and 10 else cast(score as int) not between 1 and 10 end",
    )
    assert bad == [(DEFECT_IDS["survey_responses"],)]
    assert rows(db, "select count(*) from employee_survey_responses where cast(score as int) not between 0 and 10") == [
        (0,)
    ]


def test_timestamps_parse_and_nothing_happens_after_the_end(db: duckdb.DuckDBPyConnection) -> None:
    cut = f"timestamptz '{END.isoformat()} 23:59:59+00'"
    for table in TABLES:
        for column in table.columns:
            if column.type != "timestamp":
                continue
            bad = rows(
                db,
                f"select {column.name} from {table.name} where {column.name} is not null "
                f"and (try_cast({column.name} as timestamptz) is null "
                f"or try_cast({column.name} as timestamptz) > {cut})",
            )
            expected = [("not a date",)] if (table.name, column.name) == ("activities", "occurred_at") else []
            assert bad == expected, f"{table.name}.{column.name}: {bad[:3]}"
    forms = rows(
        db,
        "select count(*) filter (where created_at like '%T%+%' or created_at like '%T%-__:__'), "
        "count(*) filter (where created_at like '%Z'), count(*) filter (where created_at not like '%T%' "
        "and created_at not like '%Z') from leads",
    )[0]
    assert all(isinstance(count, int) and count > 100 for count in forms)
    crossing = rows(
        db,
        "select count(*) from leads where created_at like '%T%' and "
        "month(cast(left(created_at, 19) as timestamp)) <> month(timezone('UTC', cast(created_at as timestamptz)))",
    )[0][0]
    assert isinstance(crossing, int) and crossing >= 4


def test_money_dates_and_booleans_are_well_formed(db: duckdb.DuckDBPyConnection) -> None:
    for table in TABLES:
        for column in table.columns:
            pattern = {
                "decimal": r"^[0-9]+\.[0-9]{2}([0-9]{4})?$",
                "date": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                "boolean": r"^(true|false)$",
                "integer": r"^[0-9]+$",
            }.get(column.type)
            if pattern is None:
                continue
            bad = rows(
                db,
                f"select {column.name} from {table.name} where {column.name} is not null "
                f"and not regexp_matches({column.name}, '{pattern}') limit 3",
            )
            assert bad == [], f"{table.name}.{column.name}: {bad}"


def test_every_currency_has_rates_except_the_defect(db: duckdb.DuckDBPyConnection) -> None:
    rated = {row[0] for row in rows(db, "select distinct currency from exchange_rates")} | {"USD"}
    assert "USD" not in {row[0] for row in rows(db, "select distinct currency from exchange_rates")}
    for table in TABLES:
        if "currency" not in table.column_names or table.name == "exchange_rates":
            continue
        keys = " || '|' || ".join(table.primary_key)
        bad = rows(db, f"select {keys} from {table.name} where currency not in ({', '.join(repr(c) for c in rated)})")
        expected = [(DEFECT_IDS["campaign_spend"],)] if table.name == "campaign_spend" else []
        assert bad == expected, table.name


def test_exchange_rates_cover_every_day(db: duckdb.DuckDBPyConnection) -> None:
    days = rows(
        db, "select currency, count(*), min(rate_date), max(rate_date) from exchange_rates group by 1 order by 1"
    )
    assert [row[0] for row in days] == ["EUR", "GBP", "INR"]
    assert {row[1:] for row in days} == {(730 + 30, "2024-10-02", "2026-10-31")}


def test_opportunity_is_its_last_history_row(db: duckdb.DuckDBPyConnection) -> None:
    differences = rows(
        db,
        """
        with last_change as (
            select * from opportunity_stage_history
            qualify row_number() over (
                partition by opportunity_id order by try_cast(changed_at as timestamptz) desc) = 1
        )
        select o.opportunity_id from opportunities_latest o join last_change h using (opportunity_id)
        where trim(lower(o.stage)) <> trim(lower(h.stage)) or o.amount <> h.amount or o.close_date <> h.close_date
        """,
    )
    assert differences == []
    assert rows(db, "select count(*) from opportunities_latest where opportunity_id not in "
                    "(select opportunity_id from opportunity_stage_history)") == [(0,)]  # fmt: skip


def test_deals_behave(db: duckdb.DuckDBPyConnection) -> None:
    outcome = dict(rows(db, "select trim(lower(stage)), count(*) from opportunities_latest group by 1"))
    assert {"closed_won", "closed_lost", "prospecting"} <= set(outcome)
    won, lost = outcome["closed_won"], outcome["closed_lost"]
    assert isinstance(won, int) and isinstance(lost, int) and 0.2 < won / (won + lost) < 0.6
    kinds = {row[0] for row in rows(db, "select distinct trim(lower(opportunity_type)) from opportunities")}
    assert kinds == {"new_business", "upsell", "cross_sell", "renewal"}
    closed_late = rows(
        db,
        "select count(*) from opportunities_latest where trim(lower(stage)) like 'closed%' "
        f"and cast(close_date as date) > date '{END.isoformat()}'",
    )
    assert closed_late == [(0,)]
    lost_to_competitors = rows(
        db, "select count(*) from opportunities_latest where lost_reason = 'competitor' and competitor_id is not null"
    )[0][0]
    assert isinstance(lost_to_competitors, int) and lost_to_competitors > 0
    line_items = rows(
        db,
        """
        select count(*) filter (where abs(o.amount::decimal(18,2) - i.total) > 0.02 * o.amount::decimal(18,2) + 1)
        from opportunities_latest o join (
            select opportunity_id, sum(quantity::int * unit_price::decimal(18,2) * (1 - discount::decimal(5,2))) total
            from opportunity_line_items group by 1
        ) i using (opportunity_id)
        where trim(lower(o.stage)) = 'closed_won'
        """,
    )
    assert line_items == [(0,)]
    slips = rows(
        db,
        "select count(*) from (select opportunity_id, count(distinct date_trunc('month', close_date::date)) n_months "
        "from opportunity_stage_history group by 1) where n_months > 1",
    )[0][0]
    assert isinstance(slips, int) and slips > 10


def test_lead_status_is_its_last_history_status(db: duckdb.DuckDBPyConnection) -> None:
    differences = rows(
        db,
        """
        with last_change as (
            select * from lead_status_history
            qualify row_number() over (partition by lead_id order by try_cast(changed_at as timestamptz) desc) = 1
        )
        select l.lead_id from leads_latest l join last_change h using (lead_id)
        where trim(lower(l.status)) <> trim(lower(h.status))
        """,
    )
    assert differences == []
    assert rows(
        db, "select count(*) from leads_latest where lead_id not in (select lead_id from lead_status_history)"
    ) == [(0,)]
    skipped_mql = rows(
        db,
        """
        select count(*) from (select lead_id, list(trim(lower(status))) statuses from lead_status_history group by 1)
        where list_contains(statuses, 'sql') and not list_contains(statuses, 'mql')
        """,
    )[0][0]
    assert isinstance(skipped_mql, int) and skipped_mql > 0


def test_conversions_are_consistent(db: duckdb.DuckDBPyConnection) -> None:
    bad = rows(
        db,
        """
        select l.lead_id from leads_latest l
        left join opportunities_latest o on o.opportunity_id = l.converted_opportunity_id
        where trim(lower(l.status)) = 'converted' and (o.source_lead_id is distinct from l.lead_id
            or o.account_id is distinct from l.converted_account_id or l.converted_at is null)
        union all
        select lead_id from leads_latest
        where trim(lower(status)) <> 'converted' and converted_opportunity_id is not null
        """,
    )
    assert bad == []


def test_subscription_periods_chain(db: duckdb.DuckDBPyConnection) -> None:
    assert rows(
        db, "select count(*) from subscriptions where period_end is not null and period_end <= period_start"
    ) == [(0,)]
    broken = rows(
        db,
        """
        select * from (
            select subscription_id, period_start, mrr,
                lag(period_end) over (partition by subscription_id order by period_start) previous_end,
                lag(mrr) over (partition by subscription_id order by period_start) previous_mrr
            from subscriptions
        ) where previous_end is not null and (previous_end <> period_start or previous_mrr = mrr)
        """,
    )
    assert broken == []
    churned = rows(
        db,
        "select count(*) from (select subscription_id from subscriptions group by 1 "
        "having count(*) filter (where period_end is null) = 0)",
    )[0][0]
    changed = rows(
        db, "select count(*) from (select subscription_id from subscriptions group by 1 having count(*) > 1)"
    )
    assert isinstance(churned, int) and churned > 0 and changed[0][0] > 0
    open_ended = rows(db, "select count(*) from subscriptions where period_end is null and period_start > '2026-10-31'")
    assert open_ended == [(0,)]


def test_first_touch_is_the_source_campaign(db: duckdb.DuckDBPyConnection) -> None:
    bad = rows(
        db,
        """
        with first_touch as (
            select * from campaign_touches
            qualify row_number() over (partition by lead_id order by try_cast(touched_at as timestamptz), touch_id) = 1
        )
        select l.lead_id from leads_latest l join first_touch t using (lead_id)
        where l.source_campaign_id is not null and t.campaign_id <> l.source_campaign_id
        union all
        select lead_id from leads_latest
        where source_campaign_id is not null and lead_id not in (select lead_id from campaign_touches)
        """,
    )
    assert bad == []
    before = rows(
        db,
        "select avg((try_cast(t.touched_at as timestamptz) <= try_cast(l.created_at as timestamptz))::int) "
        "from campaign_touches t join leads_latest l using (lead_id) where t.campaign_id = l.source_campaign_id",
    )[0][0]
    assert isinstance(before, float) and before > 0.8


def test_first_outbound_activity_follows_lead_creation(db: duckdb.DuckDBPyConnection) -> None:
    summary = rows(
        db,
        """
        with first_activity as (
            select lead_id, min(try_cast(occurred_at as timestamptz)) first_at from activities
            where lead_id is not null and trim(lower(direction)) = 'outbound' group by 1
        )
        select count(*) filter (where f.first_at < try_cast(l.created_at as timestamptz)),
            count(*) filter (where f.lead_id is null),
            median(epoch(f.first_at - try_cast(l.created_at as timestamptz)) / 3600)
        from leads_latest l left join first_activity f using (lead_id)
        """,
    )[0]
    early, never, median_hours = summary
    assert early == 0
    assert isinstance(never, int) and never > 50
    assert isinstance(median_hours, float) and 0.5 < median_hours < 48


def test_injected_defects_are_present(db: duckdb.DuckDBPyConnection) -> None:
    assert len(INJECTED_DEFECTS) == 4
    for defect in INJECTED_DEFECTS:
        table = TABLES_BY_NAME[defect["table"]]
        keys = " || '|' || ".join(table.primary_key)
        found = rows(db, f"select {defect['column']} from {table.name} where {keys} = '{defect['id']}'")
        assert [str(value).strip().lower() for (value,) in found] == [defect["value"].lower()], defect


def test_volumes_of_the_demo(db: duckdb.DuckDBPyConnection) -> None:
    activities = rows(db, "select count(*) from activities")[0][0]
    assert isinstance(activities, int) and 20_000 <= activities <= 35_000
    users = rows(db, "select count(distinct user_id) from users")[0][0]
    assert isinstance(users, int) and 40 <= users <= 60


def test_parquet_has_the_same_content(demo: Path, tmp_path: Path) -> None:
    counts = generate(tmp_path, fmt="parquet")
    connection = duckdb.connect()
    for table in TABLES:
        parquet = tmp_path / f"{table.name}.parquet"
        csv = demo / f"{table.name}.csv"
        (count,) = connection.execute(f"select count(*) from read_parquet('{parquet}')").fetchone() or (None,)
        assert count == counts[table.name], table.name
        differences = connection.execute(
            f"select count(*) from (select * from read_parquet('{parquet}') except all "
            f"select * from read_csv('{csv}', header = true, all_varchar = true))"
        ).fetchone()
        assert differences == (0,), table.name
    connection.close()
