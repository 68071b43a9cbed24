"""The hostile corpus: malformed exports of all six profiles and three formats, as a careless
operator or an attacker would deliver them. Each either fails its country with one clear error
(file, place, rule; never a traceback, a crash or a hang) or loads with every row kept, and the
next country still loads into the same warehouse. Property tests corrupt rows at random."""

from __future__ import annotations

import csv
import json
import shutil
import signal
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from orchestration.ingest.loader import CountryLoadError, load_country
from orchestration.ingest.profiles import get_profile
from orchestration.ingest.readers import READERS, ExportFileError

EXPORT = "2023-12-31"
FILES = {
    "BGD": "cases.csv",
    "LBN": "cases.csv",
    "MMR": "cases.csv",
    "KEN": "cpims_export.xlsx",
    "NGA": "cpims_nigeria_export.xlsx",
    "UKR": "cases.jsonl",
}
NEXT_COUNTRY = {"BGD": "KEN", "KEN": "LBN", "LBN": "MMR", "MMR": "NGA", "NGA": "UKR", "UKR": "BGD"}


# --- ways to damage a file ---------------------------------------------------------------------


def _spec(country: str, name: str):
    return next(f for f in get_profile(country).files if f.matches(name))


def _csv(country: str, change: Callable[[list[list[str]]], list[list[str]]], name: str = "cases.csv"):
    def damage(folder: Path) -> None:
        spec = _spec(country, name)
        path = folder / name
        with open(path, encoding=spec.encoding, newline="") as handle:
            rows = list(csv.reader(handle, delimiter=spec.delimiter))
        with open(path, "w", encoding=spec.encoding, newline="") as handle:
            csv.writer(handle, delimiter=spec.delimiter).writerows(change(rows))

    return damage


def _bytes(name: str, change: Callable[[bytes], bytes]):
    def damage(folder: Path) -> None:
        path = folder / name
        path.write_bytes(change(path.read_bytes()))

    return damage


def _lines(change: Callable[[list[str]], list[str]]):
    def damage(folder: Path) -> None:
        path = folder / "cases.jsonl"
        path.write_text("\n".join(change(path.read_text(encoding="utf-8").splitlines())) + "\n", encoding="utf-8")

    return damage


def _record(index: int, change: Callable[[dict], object]):
    def edit(lines: list[str]) -> list[str]:
        record = json.loads(lines[index])
        result = change(record)
        lines[index] = result if isinstance(result, str) else json.dumps(record if result is None else result)
        return lines

    return _lines(edit)


def _workbook(name: str, change: Callable[[dict[str, list[list]]], dict[str, list[list]]], formulas: bool = False):
    """Rewrite a workbook with xlsxwriter (a second writer), changing its sheets on the way."""

    def damage(folder: Path) -> None:
        path = folder / name
        book = CalamineWorkbook.from_path(str(path))
        sheets = change({s: book.get_sheet_by_name(s).to_python() for s in book.sheet_names})
        out = xlsxwriter.Workbook(str(path) + ".new", {"strings_to_formulas": formulas})
        dates = out.add_format({"num_format": "yyyy-mm-dd"})
        for sheet_name, rows in sheets.items():
            sheet = out.add_worksheet(sheet_name)
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    if hasattr(value, "isoformat") and not isinstance(value, str):
                        sheet.write_datetime(r, c, value, dates)
                    elif value != "":
                        sheet.write(r, c, value)
        out.close()
        Path(str(path) + ".new").replace(path)

    return damage


def _copied_sheet(folder: Path) -> None:
    """A sheet copied under a name differing only in case (xlsxwriter refuses; the streaming writer does not)."""
    from synthetic.xlsx import StreamingWorkbook

    path = folder / FILES["NGA"]
    book = CalamineWorkbook.from_path(str(path))
    sheets = {n: book.get_sheet_by_name(n).to_python() for n in book.sheet_names}
    sheets["CASES"] = sheets["cases"][:3]
    writer = StreamingWorkbook(path, list(sheets))
    for k, rows in enumerate(sheets.values()):
        writer.write_rows(k, [[v if isinstance(v, str) else str(v) for v in row] for row in rows])
    writer.close()


def _zip_bomb(folder: Path) -> None:
    path = folder / "cpims_export.xlsx"
    with (
        zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as package,
        package.open("xl/media/padding.bin", "w") as part,
    ):
        for _ in range(128):
            part.write(b" " * (1 << 20))


def _corrupt_member(folder: Path) -> None:
    path = folder / "cpims_nigeria_export.xlsx"
    data = bytearray(path.read_bytes())
    info = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 40
    data[start : start + 64] = b"\x00" * 64
    path.write_bytes(bytes(data))


def _rename_folder(new_name: str):
    def damage(folder: Path) -> Path:
        target = folder.with_name(new_name)
        folder.rename(target)
        return target

    return damage


def _link_file_outside(folder: Path) -> None:
    outside = folder.parent.parent.parent / "outside.csv"
    shutil.copy(folder / "cases.csv", outside)
    (folder / "cases.csv").unlink()
    (folder / "cases.csv").symlink_to(outside)


def _link_folder_outside(folder: Path) -> None:
    outside = folder.parent.parent.parent / "elsewhere"
    shutil.move(folder, outside)
    folder.symlink_to(outside, target_is_directory=True)


def _replace_with_folder(folder: Path) -> None:
    (folder / "services.csv").unlink()
    (folder / "services.csv").mkdir()


def _column(rows, name):
    return rows[0].index(name)


def _set_cells(name: str, values: list[str]):
    def change(rows):
        k = _column(rows, name)
        for row, value in zip(rows[1:], values * len(rows), strict=False):
            row[k] = value
        return rows

    return change


FORMULAS = ['=HYPERLINK("http://x","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1,1)", "=1+1"]


@dataclass(frozen=True)
class Case:
    country: str
    damage: Callable
    fails: tuple[str, ...] = ()  # fragments of the error; empty: the export loads
    rows_delta: int = 0  # loaded: case rows against the good export


def loads(country, damage, rows_delta=0) -> Case:
    return Case(country, damage, (), rows_delta)


def fails(country, damage, *fragments) -> Case:
    return Case(country, damage, tuple(fragments))


CORPUS: dict[str, Case] = {
    # CSV: BGD (utf-8, comma), LBN (utf-8 with BOM, display labels), MMR (utf-8, semicolon)
    "bgd_empty_file": fails("BGD", _bytes("cases.csv", lambda b: b""), "cases.csv", "line 1", "empty"),
    "bgd_truncated_mid_row": fails("BGD", _bytes("cases.csv", lambda b: b[: int(len(b) * 0.6)]), "cases.csv", "line"),
    "bgd_unterminated_quote": fails(
        "BGD", _bytes("cases.csv", lambda b: b.replace(b"\n", b'\n"', 3)[:-1]), "cases.csv", "line"
    ),
    "bgd_extra_field_in_a_row": fails("BGD", _csv("BGD", lambda r: [*r[:5], [*r[5], "x"], *r[6:]]), "line 6", "fields"),
    "bgd_missing_field_in_a_row": fails("BGD", _csv("BGD", lambda r: [*r[:4], r[4][:-2], *r[5:]]), "line 5", "fields"),
    "bgd_binary_garbage": fails(
        "BGD", _bytes("cases.csv", lambda b: bytes(range(256)) * 40), "cases.csv", "line 1", "control characters"
    ),
    "bgd_missing_required_column": fails(
        "BGD", _csv("BGD", lambda r: [[v for i, v in enumerate(row) if i != 2] for row in r]), "required column"
    ),
    "bgd_columns_differing_only_in_case": fails(
        "BGD", _csv("BGD", lambda r: [[*r[0], r[0][2].upper()], *[[*x, ""] for x in r[1:]]]), "more than once"
    ),
    "bgd_lineage_column_in_header": fails(
        "BGD", _csv("BGD", lambda r: [[*r[0], "_load_id"], *[[*x, "1"] for x in r[1:]]]), "lineage columns"
    ),
    "bgd_services_file_missing": fails("BGD", lambda f: (f / "services.csv").unlink(), "services.csv", "missing"),
    "bgd_services_is_a_folder": fails("BGD", _replace_with_folder, "services.csv", "missing"),
    "bgd_services_wrong_delimiter": fails(
        "BGD", _bytes("services.csv", lambda b: b.replace(b",", b"\t")), "services.csv", "separated by ','"
    ),
    "bgd_file_linked_outside": fails("BGD", _link_file_outside, "outside the landing zone"),
    "bgd_formula_looking_cells": loads("BGD", _csv("BGD", _set_cells("name", FORMULAS))),
    "bgd_blank_header_cells": loads(
        "BGD", _csv("BGD", lambda r: [[*r[0], "", " "], *[[*x, "kept", "also kept"] for x in r[1:]]])
    ),
    "bgd_sql_looking_header": loads(
        "BGD", _csv("BGD", lambda r: [[*r[0], 'x"; drop table raw.export_loads; --'], *[[*x, "y"] for x in r[1:]]])
    ),
    "bgd_crlf_line_endings": loads("BGD", _bytes("cases.csv", lambda b: b.replace(b"\n", b"\r\n"))),
    "bgd_nul_bytes_in_a_value": loads(  # kept as written; staging finds the id unusual, nothing is lost
        "BGD", _bytes("cases.csv", lambda b: b.replace(b"\n", b"\n\x00\x00", 1))
    ),
    "lbn_stray_bytes": fails(
        "LBN", _bytes("cases.csv", lambda b: b[:400] + b"\xff\xfe\xc3" + b[400:]), "cases.csv", "undecodable"
    ),
    "lbn_utf16_file": fails(
        "LBN", _bytes("cases.csv", lambda b: b.decode("utf-8-sig").encode("utf-16")), "cases.csv", "line 1"
    ),
    "lbn_renamed_column": fails(
        "LBN",
        _bytes("cases.csv", lambda b: b.replace(b"Risk Level", b"Risk level (new)", 1)),
        "'Risk Level'",
    ),
    "lbn_without_byte_order_mark": loads("LBN", _bytes("cases.csv", lambda b: b.removeprefix(b"\xef\xbb\xbf"))),
    "lbn_header_only": fails("LBN", _csv("LBN", lambda r: r[:1]), "no case rows"),
    "lbn_extra_unknown_column": loads(
        "LBN", _csv("LBN", lambda r: [[*r[0], "New Field"], *[[*x, "v"] for x in r[1:]]])
    ),
    "mmr_wrong_delimiter": fails(
        "MMR", _bytes("cases.csv", lambda b: b.replace(b";", b",")), "separated by ';'", "line 1"
    ),
    "mmr_duplicated_column": fails("MMR", _csv("MMR", lambda r: [[*x, x[3]] for x in r]), "more than once"),
    "mmr_blank_lines_between_rows": loads("MMR", _bytes("cases.csv", lambda b: b.replace(b"\n", b"\n\n", 3))),
    "mmr_oversized_field": fails(
        "MMR", _csv("MMR", lambda r: [*r[:3], [*r[3][:-1], "x" * 3_000_000], *r[4:]]), "line 4", "a line is at most"
    ),
    "mmr_folder_name_with_quote_and_semicolon": fails(
        "MMR", _rename_folder("2023-12-31'; drop table raw.export_loads; --"), "the name is not a date"
    ),
    "mmr_folder_name_with_double_quote": fails("MMR", _rename_folder('2023-12-31"'), "the name is not a date"),
    "mmr_folder_dated_in_the_future": fails("MMR", _rename_folder("2999-01-01"), "after today"),
    # XLSX: KEN (five sheets, text dates), NGA (two sheets, real date cells)
    "ken_truncated_workbook": fails(
        "KEN", _bytes(FILES["KEN"], lambda b: b[: len(b) // 2]), "workbook", "cannot be opened"
    ),
    "ken_zip_bomb": fails("KEN", _zip_bomb, "padding.bin", "zip bomb"),
    "ken_missing_sheet": fails(
        "KEN", _workbook(FILES["KEN"], lambda s: dict(list(s.items())[:-1])), "sheet '(4) Closure'", "missing"
    ),
    "ken_duplicated_sheet_column": fails(
        "KEN",
        _workbook(
            FILES["KEN"],
            lambda s: {
                n: [[*r, r[2]] for r in rows] if n == "(1) Protection Concern" else rows for n, rows in s.items()
            },
        ),
        "more than once",
    ),
    "ken_empty_sheet": fails(
        "KEN",
        _workbook(FILES["KEN"], lambda s: {n: [] if n == "(2) Care Arrangements" else r for n, r in s.items()}),
        "(2) Care Arrangements",
        "empty",
    ),
    "ken_formula_cells": loads(
        "KEN",
        _workbook(
            FILES["KEN"],
            lambda s: {
                n: [r[0], *[[*x[:-1], "=1+1"] for x in r[1:]]] if n == "(4) Closure" else r for n, r in s.items()
            },
            formulas=True,
        ),
    ),
    "ken_rewritten_by_another_writer": loads("KEN", _workbook(FILES["KEN"], lambda s: s)),
    "nga_empty_file": fails("NGA", _bytes(FILES["NGA"], lambda b: b""), "workbook", "cannot be opened"),
    "nga_text_file_named_xlsx": fails(
        "NGA", _bytes(FILES["NGA"], lambda b: b"id,name\n1,x\n"), "workbook", "cannot be opened"
    ),
    "nga_renamed_sheet": fails(
        "NGA", _workbook(FILES["NGA"], lambda s: {("Cases" if n == "cases" else n): r for n, r in s.items()}), "'cases'"
    ),
    "nga_missing_column": fails(
        "NGA",
        _workbook(FILES["NGA"], lambda s: {n: [x[1:] for x in r] if n == "cases" else r for n, r in s.items()}),
        "required column",
    ),
    "nga_header_only": fails(
        "NGA", _workbook(FILES["NGA"], lambda s: {n: r[:1] for n, r in s.items()}), "no case rows"
    ),
    "nga_sheets_differing_only_in_case": fails("NGA", _copied_sheet, "appear more than once", "'CASES'"),
    "nga_corrupt_sheet_data": fails("NGA", _corrupt_member, FILES["NGA"]),
    # JSON Lines: UKR
    "ukr_empty_file": fails("UKR", _bytes("cases.jsonl", lambda b: b""), "cases.jsonl", "empty"),
    "ukr_truncated_line": fails("UKR", _bytes("cases.jsonl", lambda b: b[: len(b) // 2]), "does not parse"),
    "ukr_array_line": fails("UKR", _record(2, lambda r: json.dumps([r])), "line 3", "JSON list"),
    "ukr_keys_differing_only_in_case": fails("UKR", _record(0, lambda r: {**r, "ID": r["id"]}), "more than once"),
    "ukr_services_section_is_text": fails(
        "UKR", _record(1, lambda r: {**r, "services_section": "none"}), "line 2", "list of objects"
    ),
    "ukr_stray_bytes": fails("UKR", _bytes("cases.jsonl", lambda b: b[:300] + b"\xff" + b[300:]), "line 1"),
    "ukr_deeply_nested_value": fails(
        "UKR", _record(0, lambda r: json.dumps(r)[:-1] + ', "deep": ' + "[" * 5000 + "]" * 5000 + "}"), "line 1"
    ),
    "ukr_no_record_ids": fails(
        "UKR",
        _lines(lambda lines: [json.dumps({k: v for k, v in json.loads(x).items() if k != "id"}) for x in lines]),
        "never present",
    ),
    "ukr_object_in_a_field_and_blank_lines": loads(
        "UKR",
        _lines(lambda lines: ["", *[x.replace('"risk_level":', '"extra":{"a":[1]},"risk_level":') for x in lines], ""]),
    ),
    "ukr_repeated_key": fails(
        "UKR", _record(3, lambda r: json.dumps(r)[:-1] + ', "sex": "male"}'), "line 4", "appear twice"
    ),
    "ukr_repeated_key_in_a_service": fails(
        "UKR",
        _lines(lambda lines: [x.replace('"service_type":', '"service_type": "x", "service_type":', 1) for x in lines]),
        "appear twice",
    ),
    "ukr_service_item_with_lineage_keys": fails(
        "UKR",
        _lines(lambda lines: [x.replace('"service_type":', '"_source_row": "1", "service_type":', 1) for x in lines]),
        "lineage columns: _source_row",
    ),
    "ukr_folder_linked_outside": fails("UKR", _link_folder_outside, "outside the landing zone"),
    "ukr_nan_literal": fails("UKR", _record(4, lambda r: json.dumps(r)[:-1] + ', "score": NaN}'), "line 5"),
}


@pytest.fixture(autouse=True)
def no_hang():
    """A case that hangs fails after a minute instead of stalling the suite."""

    def timeout(*_):
        raise TimeoutError("the load did not finish within 60 s")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _case_rows(database: Path, country: str) -> int:
    profile = get_profile(country)
    table = profile.raw_table_name(profile.harmonise["case_tables"][0])
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(f'select count(*) from raw."{table}"').fetchone()[0]


def test_the_corpus_covers_every_profile_and_is_large_enough():
    assert len(CORPUS) >= 40
    assert {c.country for c in CORPUS.values()} == set(FILES)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_hostile_export(tiny_export, tmp_path, name):
    case = CORPUS[name]
    landing = tmp_path / "landing"
    for country in (case.country, NEXT_COUNTRY[case.country]):
        shutil.copytree(tiny_export / country / EXPORT, landing / country / EXPORT)
    folder = case.damage(landing / case.country / EXPORT) or landing / case.country / EXPORT
    database = tmp_path / "warehouse.duckdb"
    good = _good_rows(tiny_export, case.country)
    if case.fails:
        with pytest.raises(CountryLoadError) as caught:
            load_country(database, landing, get_profile(case.country))
        message = str(caught.value)
        assert "rule:" in message and folder.name in message, message
        for fragment in case.fails:
            assert fragment in message, f"{fragment!r} not in {message!r}"
        assert "Traceback" not in message and len(message) < 2000
        assert _case_rows(database, case.country) == 0, "nothing of a failed export is loaded"
    else:
        results = load_country(database, landing, get_profile(case.country))
        assert [r.status for r in results] == ["loaded"]
        assert _case_rows(database, case.country) == good + case.rows_delta, "every row is kept"
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("select count(*) from raw.export_loads").fetchone()[0] >= 1, "the ledger is intact"
    neighbour = NEXT_COUNTRY[case.country]
    assert [r.status for r in load_country(database, landing, get_profile(neighbour))] == ["loaded"]
    assert _case_rows(database, neighbour) == _good_rows(tiny_export, neighbour)


_GOOD: dict[str, int] = {}


def _good_rows(tiny_export: Path, country: str) -> int:
    """Case rows of the undamaged export, as the reader counts them."""
    if country not in _GOOD:
        profile = get_profile(country)
        case_table = profile.harmonise["case_tables"][0]
        total = 0
        for spec in profile.files:
            for path in (tiny_export / country / EXPORT).iterdir():
                if spec.matches(path.name):
                    total += sum(len(b) for t, _, b in READERS[spec.format](path, spec) if t.table == case_table)
        _GOOD[country] = total
    return _GOOD[country]


# --- property tests: random row-level corruption never escapes the readers ---------------------

PROPERTY = settings(  # fixed examples (derandomize) and no example database written into the checkout
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _read_all(path: Path, spec) -> dict[str, list[dict]]:
    tables: dict[str, list[dict]] = {}
    for table, _, batch in READERS[spec.format](path, spec):
        names = batch.column_names
        assert len(set(names)) == len(names), f"a batch with repeated columns would lose values: {names}"
        tables.setdefault(table.table, []).extend(batch.to_pylist())
    return tables


@PROPERTY
@given(data=st.data())
@pytest.mark.parametrize("country", ["BGD", "LBN", "MMR"])
def test_csv_cells_of_any_text_read_back_exactly(tiny_export, tmp_path_factory, country, data):
    """Any text a caseworker could type, written by a correct CSV writer, reads back unchanged."""
    spec = _spec(country, "cases.csv")
    source = tiny_export / country / EXPORT / "cases.csv"
    with open(source, encoding=spec.encoding, newline="") as handle:
        rows = list(csv.reader(handle, delimiter=spec.delimiter))[:6]
    column = data.draw(st.integers(0, len(rows[0]) - 1))
    values = data.draw(st.lists(st.text(st.characters(exclude_categories=["Cs"]), max_size=40), min_size=5, max_size=5))
    for row, value in zip(rows[1:], values, strict=True):
        row[column] = value
    path = tmp_path_factory.mktemp("prop") / "cases.csv"
    with open(path, "w", encoding=spec.encoding, newline="") as handle:
        csv.writer(handle, delimiter=spec.delimiter).writerows(rows)
    try:
        read = _read_all(path, spec)["cases"]
    except ExportFileError as error:  # a value no CSV reader can take back (a NUL byte) is refused clearly
        assert "\x00" in "".join(values) and "rule:" in str(error)
        return
    name = next(k for k in read[0] if k != "_source_row" and list(read[0]).index(k) == column + 1)
    assert [r[name] for r in read] == [v if v != "" else None for v in values]


@PROPERTY
@given(data=st.data())
@pytest.mark.parametrize("country", ["BGD", "MMR", "UKR"])
def test_random_bytes_anywhere_give_rows_or_a_clear_error(tiny_export, tmp_path_factory, country, data):
    """Bytes inserted or overwritten at random places: the reader returns rows or raises its own error."""
    spec = _spec(country, FILES[country])
    good = (tiny_export / country / EXPORT / FILES[country]).read_bytes()
    position = data.draw(st.integers(0, len(good)))
    noise = data.draw(st.binary(min_size=1, max_size=16))
    overwrite = data.draw(st.booleans())
    damaged = good[:position] + noise + good[position + (len(noise) if overwrite else 0) :]
    path = tmp_path_factory.mktemp("prop") / FILES[country]
    path.write_bytes(damaged)
    try:
        tables = _read_all(path, spec)
    except ExportFileError as error:
        assert str(path) in str(error) and "rule:" in str(error)
        return
    assert tables, "a file that reads holds rows"


@PROPERTY
@given(
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=8,
    )
)
def test_json_values_of_any_shape_load_as_text(tiny_export, tmp_path_factory, value):
    spec = _spec("UKR", "cases.jsonl")
    lines = (tiny_export / "UKR" / EXPORT / "cases.jsonl").read_text(encoding="utf-8").splitlines()[:3]
    record = json.loads(lines[1])
    record["risk_level"] = value
    lines[1] = json.dumps(record)
    path = tmp_path_factory.mktemp("prop") / "cases.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    read = _read_all(path, spec)["cases"]
    assert len(read) == 3
    stored = read[1]["risk_level"]
    assert stored is None if value in (None, "") else isinstance(stored, str)


@PROPERTY
@given(values=st.lists(st.text(max_size=30), min_size=3, max_size=3))
def test_workbook_cells_of_any_text_give_rows_or_a_clear_error(tiny_export, tmp_path_factory, values):
    """Text in cells, control characters included, through the generator's own xlsx writer."""
    from synthetic.xlsx import StreamingWorkbook

    book = CalamineWorkbook.from_path(str(tiny_export / "NGA" / EXPORT / FILES["NGA"]))
    folder = tmp_path_factory.mktemp("prop")
    writer = StreamingWorkbook(folder / FILES["NGA"], book.sheet_names)
    for k, name in enumerate(book.sheet_names):
        rows = [
            ["" if v is None else (v if isinstance(v, str) else str(v)) for v in row]
            for row in book.get_sheet_by_name(name).to_python()[:4]
        ]
        if name == "cases":
            for row, value in zip(rows[1:], values, strict=True):
                row[4] = value
        writer.write_rows(k, rows)
    writer.close()
    try:
        tables = _read_all(folder / FILES["NGA"], _spec("NGA", FILES["NGA"]))
    except ExportFileError as error:
        assert "rule:" in str(error)
        return
    assert len(tables["cases"]) == 3
    assert [r["name"] for r in tables["cases"]] == [v or None for v in values]


def test_corpus_counts_are_reported():
    """The README's count of malformed inputs is this corpus plus the reliability and loader cases."""
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert f"| Malformed exports tried (tests/test_hostile.py) | {len(CORPUS)} |" in readme
