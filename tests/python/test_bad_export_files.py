"""The malformed-file classes, each refused before dbt runs (crm_kpi.preflight) naming file, line and column:
a header whose names the reader takes for one column (case, spaces, a byte-order mark), an unterminated quote,
text after a closing quote, a record with a field too few or too many, a record past the reader's length
limit, a byte that is not UTF-8 anywhere in the file, and a path named like a table's file that is not a
file. Each case mutates the small export of the fixtures (the required tables only), so no dbt runs here;
the last test proves that DuckDB, reading with the dialect the sources pin, reads what the check passed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest

from crm_kpi import preflight
from crm_kpi.dbt_yaml import CSV_OPTIONS
from crm_kpi.loaders import contract_spelling
from crm_kpi.paths import project_root
from crm_kpi.settings import BuildSettings

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    folder = tmp_path / "raw"
    shutil.copytree(FIXTURES / "required_tables_only", folder)
    return folder


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def _refusal(raw: Path) -> str:
    with pytest.raises(preflight.RawExportError) as refused:
        preflight.check_raw_folder(raw, "csv")
    return str(refused.value)


def test_two_header_names_that_differ_only_by_case_are_refused(raw: Path) -> None:
    path = raw / "leads.csv"
    lines = _lines(path)
    header = lines[0].rstrip("\n").split(",")
    lines = [
        ",".join([*row.rstrip("\n").split(",")[:3], value, *row.rstrip("\n").split(",")[3:]]) + "\n"
        for row, value in zip(lines, ["Channel", *["email"] * (len(lines) - 1)], strict=True)
    ]
    assert header[3] == "channel"
    path.write_text("".join(lines), encoding="utf-8")
    assert f"{path}: the column channel appears more than once in the header ('Channel', 'channel')" in _refusal(raw)


def test_names_the_reader_reads_as_the_contracts_are_accepted(raw: Path) -> None:
    """A byte-order mark, spaces around a name and another case: DuckDB binds them to the contract's columns."""
    path = raw / "users.csv"
    lines = _lines(path)
    lines[0] = " User_ID " + lines[0].removeprefix("user_id").replace("email", "EMAIL")
    path.write_text("\ufeff" + "".join(lines), encoding="utf-8")
    assert preflight.check_raw_folder(raw, "csv")[0] == "teams (absent)"
    assert preflight.reader_names(preflight.csv_header(path))[:3] == ["user_id", "full_name", "email"]
    assert contract_spelling(preflight.csv_header(path))[:3] == ["user_id", "full_name", "email"]


def test_a_padded_twin_is_a_twin(raw: Path) -> None:
    path = raw / "stages.csv"
    lines = _lines(path)
    lines[0] = lines[0].rstrip("\n") + ", stage\n"
    lines[1:] = [line.rstrip("\n") + ",x\n" for line in lines[1:]]
    path.write_text("".join(lines), encoding="utf-8")
    assert "stages.csv: the column stage appears more than once in the header ('stage', 'stage')" in _refusal(raw)


def test_an_unterminated_quote_is_refused_naming_line_and_column(raw: Path) -> None:
    path = raw / "leads.csv"
    lines = _lines(path)
    lines[2] = lines[2].replace(",Công ty Sao,", ',"Công ty Sao,')
    path.write_text("".join(lines), encoding="utf-8")
    assert f"{path}: line 3, column company: a quote opened here is never closed" in _refusal(raw)


def test_text_after_a_closing_quote_is_refused_naming_line_and_column(raw: Path) -> None:
    path = raw / "leads.csv"
    lines = _lines(path)
    lines[1] = lines[1].replace('"Müller, GmbH"', '"Müller, GmbH" AG')
    path.write_text("".join(lines), encoding="utf-8")
    assert f"{path}: line 2, column company: text after a closing quote" in _refusal(raw)


def test_a_record_with_a_field_too_few_or_too_many_is_refused_naming_its_line(raw: Path) -> None:
    path = raw / "users.csv"
    lines = _lines(path)
    lines[1] = lines[1].rstrip("\n").rsplit(",", 1)[0] + "\n"
    lines[3] = lines[3].rstrip("\n") + ",extra\n"
    path.write_text("".join(lines), encoding="utf-8")
    refused = _refusal(raw)
    assert (
        f"{path}: line 2: 10 fields where the header has 11 (1 field(s) too few: no value from column is_deleted on)"
        in refused
    )
    assert (
        f"{path}: line 4: 12 fields where the header has 11 (1 field(s) too many: a value after the last "
        "column is_deleted)" in refused
    )


def test_a_record_longer_than_the_readers_limit_is_refused_naming_line_and_column(raw: Path) -> None:
    path = raw / "leads.csv"
    lines = _lines(path)
    fields = lines[4].split(",")
    fields[7] = "x" * 3_000_000  # company: 3 MB, past DuckDB's max_line_size (2 MiB)
    lines[4] = ",".join(fields)
    path.write_text("".join(lines), encoding="utf-8")
    refused = _refusal(raw)
    assert f"{path}: line 5, column company: a record of " in refused
    assert "longer than the reader's limit of 2097152 (a field of 3000000 bytes)" in refused


def test_a_byte_that_is_not_utf8_after_the_first_mib_is_refused_naming_line_column_and_byte(raw: Path) -> None:
    path = raw / "leads.csv"
    lines = _lines(path)
    padding = "".join(lines[1].replace("lead_1,", f"lead_x{index},") for index in range(7000))  # > 1 MiB
    before = (lines[0] + padding + lines[1]).encode("utf-8")
    bad = lines[2].replace(",Nguyễn,", ",Ngu\x00n,").encode("utf-8").replace(b"\x00", b"\xe2")
    assert len(before) > 1 << 20
    path.write_bytes(before + bad + "".join(lines[3:]).encode("utf-8"))
    offset = len(before) + bad.index(b"\xe2")
    line = before.count(b"\n") + 1
    assert f"{path}: line {line}, column last_name: not UTF-8 text (byte 0xe2 at offset {offset} of the file)" in (
        _refusal(raw)
    )


@pytest.mark.parametrize("kind", ["directory", "symlink loop", "broken symlink"])
def test_a_path_named_like_an_optional_file_that_is_not_a_file_is_refused(raw: Path, kind: str) -> None:
    path = raw / "campaigns.csv"
    if kind == "directory":
        path.mkdir()
        expected = f"{path}: is a directory, not a file"
    elif kind == "symlink loop":
        os.symlink(path, path)
        expected = f"{path}: is a symlink that leads nowhere (Too many levels of symbolic links), not a file"
    else:
        os.symlink(raw / "nowhere.csv", path)
        expected = f"{path}: is a symlink that leads nowhere (No such file or directory), not a file"
    assert expected in _refusal(raw)


def test_every_class_of_one_file_is_reported_at_once_with_at_most_three_lines_each(raw: Path) -> None:
    path = raw / "stages.csv"
    lines = _lines(path)
    lines[1:] = [line.rstrip("\n") + ",x\n" for line in lines[1:]]
    path.write_text("".join(lines), encoding="utf-8")
    refused = _refusal(raw)
    assert refused.count(f"{path}: line ") == 3
    assert f"{path}: ... and {len(lines) - 4} more such line(s)" in refused


def test_duckdb_reads_with_the_pinned_dialect_what_the_check_passed(raw: Path) -> None:
    """Quoted commas, doubled quotes, a bare quote inside an unquoted value, blank lines: the check and the
    reader agree on the fields; a file the sniffer would read as one column (semicolons) is refused."""
    path = raw / "stages.csv"
    text = 'stage,sort_order,probability,is_closed,is_won\n"a, ""b""",1,0.1,false,false\n\nc"d,2,0.2,false,false\n'
    path.write_text(text, encoding="utf-8")
    assert preflight.csv_problems(path) == []
    with duckdb.connect() as connection:
        rows = connection.execute(f"select stage, sort_order from read_csv('{path}', {CSV_OPTIONS})").fetchall()
    assert rows == [('a, "b"', "1"), ('c"d', "2")]
    path.write_text(text.replace(",", ";"), encoding="utf-8")
    assert f"{path}: lacks the column(s) stage, sort_order, probability, is_closed, is_won" in _refusal(raw)


@pytest.mark.parametrize("name", ["it's.duckdb", 'say "hi".duckdb'])
def test_a_quote_in_the_duckdb_file_name_is_refused_before_dbt(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match=f"DuckDB file name {name!r}: dbt-duckdb names the database after it"):
        BuildSettings(db_path=tmp_path / name)
    assert BuildSettings(db_path=tmp_path / "it's a folder" / "w.duckdb").db_path.name == "w.duckdb"


def test_a_file_or_the_wrong_format_as_the_export_says_what_to_do(tmp_path: Path) -> None:
    """--raw-path naming a file says so and names its folder; --format parquet on a CSV export (or the reverse)
    says which --format to give, not that every required file is missing."""
    raw = tmp_path / "raw"
    shutil.copytree(project_root() / "seeds" / "demo", raw)
    with pytest.raises(preflight.RawExportError, match=rf"leads\.csv is a file: name the folder .*\({raw}\)"):
        preflight.check_raw_folder(raw / "leads.csv", "csv")
    with pytest.raises(preflight.RawExportError, match=r"holds \.csv files, no \.parquet file: .* --format csv$"):
        preflight.check_raw_folder(raw, "parquet")
    (raw / "leads.csv").unlink()  # a required file missing in both formats: the missing file is named
    with pytest.raises(preflight.RawExportError, match=r"leads\.parquet: the required table leads is missing"):
        preflight.check_raw_folder(raw, "parquet")
