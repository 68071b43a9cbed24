"""The generic raw loader: every row kept, counts reconcile file by file, bad files fail clearly."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import date

import duckdb
import pytest
from python_calamine import CalamineWorkbook

from orchestration.ingest.loader import CountryLoadError, load_country
from orchestration.ingest.profiles import COUNTRY_CODES, get_profile
from synthetic import generate_exports
from synthetic.parameters import DEFECT_CODES

EXPORT = "2023-12-31"


def _rows_in_file(path, profile) -> dict[str, int]:
    """Data rows per raw table, counted without the loader."""
    spec = next(f for f in profile.files if f.matches(path.name))
    if spec.format == "csv":
        with open(path, encoding=spec.encoding, newline="") as handle:
            return {spec.tables[0].table: sum(1 for _ in csv.reader(handle, delimiter=spec.delimiter)) - 1}
    if spec.format == "xlsx":
        book = CalamineWorkbook.from_path(str(path))
        return {t.table: len(book.get_sheet_by_name(t.sheet).to_python()) - 1 for t in spec.tables}
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {"cases": len(lines), "services": sum(len(r.get("services_section") or []) for r in lines)}


@pytest.mark.parametrize("country", COUNTRY_CODES)
def test_row_counts_reconcile_file_by_file(small_export, small_con, country):
    landing, _ = small_export
    profile = get_profile(country)
    for path in sorted((landing / country / EXPORT).iterdir()):
        if path.name == "_READY":
            continue
        for table, expected in _rows_in_file(path, profile).items():
            raw = profile.raw_table_name(table)
            loaded = small_con.execute(
                f"select count(*) from raw.{raw} where _source_file = ?", [path.name]
            ).fetchone()[0]
            ledger = small_con.execute(
                "select sum(rows_loaded) from raw.export_files where source_file = ? and raw_table = ?",
                [path.name, raw],
            ).fetchone()[0]
            assert loaded == expected == ledger, f"{country} {path.name} {table}"


def test_lineage_columns_are_filled(small_con):
    missing = small_con.execute(
        "select count(*) from raw.bgd__cases where _country is null or _export_date is null or _source_row is null"
        " or _file_sha256 is null or _load_id is null or _loaded_at is null"
    ).fetchone()[0]
    assert missing == 0
    rows = small_con.execute("select min(_source_row), count(distinct _source_row) = count(*) from raw.bgd__cases")
    assert rows.fetchone() == (2, True), "CSV rows are numbered as lines, the header being line 1"


def test_odd_values_are_kept_as_text(small_con):
    unknown = small_con.execute("select count(*) from raw.nga__cases where registration_date = 'unknown'")
    assert unknown.fetchone()[0] > 0, "an unparseable date is kept as written"


def test_reloading_the_same_export_changes_nothing(small_export, tmp_path):
    landing, _ = small_export
    database = tmp_path / "w.duckdb"
    first = load_country(database, landing, get_profile("LBN"))
    with duckdb.connect(str(database)) as con:
        before = con.execute("select * from raw.lbn__cases order by _source_row").fetchall()
    second = load_country(database, landing, get_profile("LBN"))
    with duckdb.connect(str(database)) as con:
        after = con.execute("select * from raw.lbn__cases order by _source_row").fetchall()
        loads = con.execute("select count(*) from raw.export_loads").fetchone()[0]
    assert [r.status for r in first] == ["loaded"] and [r.status for r in second] == ["unchanged"]
    assert before == after and loads == 1


def test_files_put_back_after_a_correction_are_loaded_again(tiny_export, tmp_path):
    """An export is loaded, replaced by other files (a correction), then put back as first copied:
    the raw layer holds the first files' rows again. The ledger once recorded those files as loaded,
    but their rows were replaced, so they are not "already loaded"."""
    landing = tmp_path / "landing"
    shutil.copytree(tiny_export / "LBN", landing / "LBN")
    folder = landing / "LBN" / EXPORT
    first_copy = {path.name: path.read_bytes() for path in folder.iterdir()}
    corrected = tmp_path / "corrected"
    no_defects = dict.fromkeys(DEFECT_CODES, 0.0)
    generate_exports(corrected, countries=["LBN"], scale=0.003, seed=24, as_of=date(2023, 12, 31), defects=no_defects)
    database = tmp_path / "w.duckdb"
    first = load_country(database, landing, get_profile("LBN"))
    for path in (corrected / "LBN" / EXPORT).iterdir():
        shutil.copy(path, folder / path.name)
    second = load_country(database, landing, get_profile("LBN"))
    for name, data in first_copy.items():
        (folder / name).write_bytes(data)
    again = load_country(database, landing, get_profile("LBN"))
    assert [r.status for r in first + second + again] == ["loaded"] * 3
    assert again[0].load_id == first[0].load_id != second[0].load_id
    with duckdb.connect(str(database)) as con:
        assert con.execute("select distinct _load_id from raw.lbn__cases").fetchall() == [(first[0].load_id,)]
        rows = con.execute("select count(*) from raw.lbn__cases").fetchone()[0]
    assert rows == first[0].rows["lbn__cases"] == again[0].rows["lbn__cases"]


def _copy_export(small_export, tmp_path, country):
    landing, _ = small_export
    target = tmp_path / "landing"
    shutil.copytree(landing / country, target / country)
    return target, target / country / EXPORT


def _break_then_load(tmp_path, landing, country):
    with pytest.raises(CountryLoadError) as caught:
        load_country(tmp_path / "w.duckdb", landing, get_profile(country))
    return str(caught.value)


def _truncate(path, keep_fraction=0.5):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep_fraction)])


BREAKAGES = {
    "empty": ("BGD", "cases.csv", lambda p: p.write_bytes(b""), ["cases.csv", "line 1", "empty"]),
    "truncated_row": (
        "MMR",
        "cases.csv",
        lambda p: p.write_bytes(p.read_bytes().rstrip(b"\n")[:-40] + b"\n"),
        ["cases.csv", "line ", "fields"],
    ),
    "wrong_delimiter": (
        "BGD",
        "cases.csv",
        lambda p: p.write_text(p.read_text().replace(",", ";")),
        ["cases.csv", "line 1", "separated by ','"],
    ),
    "missing_column": (
        "LBN",
        "cases.csv",
        lambda p: p.write_text(p.read_text(encoding="utf-8-sig").replace("Risk Level", "Risk"), encoding="utf-8-sig"),
        ["cases.csv", "line 1", "'Risk Level'"],
    ),
    "bad_bytes": (
        "BGD",
        "services.csv",
        lambda p: p.write_bytes(p.read_bytes()[:300] + b"\xff\xfe" + p.read_bytes()[300:]),
        ["services.csv", "line ", "undecodable"],
    ),
    "broken_json": ("UKR", "cases.jsonl", lambda p: _truncate(p), ["cases.jsonl", "line ", "does not parse"]),
    "truncated_workbook": (
        "NGA",
        "cpims_nigeria_export.xlsx",
        lambda p: _truncate(p),
        ["cpims_nigeria_export.xlsx", "workbook", "cannot be opened"],
    ),
    "missing_file": ("BGD", "services.csv", lambda p: p.unlink(), ["services.csv", "missing"]),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_a_broken_file_fails_its_country_with_a_clear_error(small_export, tmp_path, breakage):
    country, file_name, damage, expected = BREAKAGES[breakage]
    landing, folder = _copy_export(small_export, tmp_path, country)
    damage(folder / file_name)
    message = _break_then_load(tmp_path, landing, country)
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert "rule:" in message
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        table = get_profile(country).raw_table_name(get_profile(country).tables[0].table)
        assert con.execute(f"select count(*) from raw.{table}").fetchone()[0] == 0, "nothing half-loaded"
        assert con.execute("select status from raw.export_loads").fetchall() == [("failed",)]


def test_missing_sheet_names_the_sheet(small_export, tmp_path):
    import xlsxwriter

    landing, folder = _copy_export(small_export, tmp_path, "KEN")
    book = CalamineWorkbook.from_path(str(folder / "cpims_export.xlsx"))
    rewritten = xlsxwriter.Workbook(str(folder / "cpims_export.xlsx.new"))
    for name in book.sheet_names[:-1]:
        sheet = rewritten.add_worksheet(name)
        for r, row in enumerate(book.get_sheet_by_name(name).to_python()):
            sheet.write_row(r, 0, row)
    rewritten.close()
    (folder / "cpims_export.xlsx.new").replace(folder / "cpims_export.xlsx")
    message = _break_then_load(tmp_path, landing, "KEN")
    assert "sheet '(4) Closure'" in message and "missing" in message


def test_a_broken_new_export_keeps_the_last_good_one(small_export, tmp_path):
    landing, folder = _copy_export(small_export, tmp_path, "BGD")
    database = tmp_path / "w.duckdb"
    load_country(database, landing, get_profile("BGD"))
    newer = folder.parent / "2024-01-31"
    shutil.copytree(folder, newer)
    (newer / "cases.csv").write_bytes(b"")
    with pytest.raises(CountryLoadError, match="2024-01-31"):
        load_country(database, landing, get_profile("BGD"))
    with duckdb.connect(str(database)) as con:
        kept = con.execute("select distinct _export_date::varchar from raw.bgd__cases").fetchall()
    assert kept == [(EXPORT,)]


def test_an_export_still_being_copied_is_not_read(small_export, tmp_path):
    landing, folder = _copy_export(small_export, tmp_path, "MMR")
    (folder / "_READY").unlink()
    assert load_country(tmp_path / "w.duckdb", landing, get_profile("MMR")) == []
