"""The two ways a workbook is read (a sheet whole with fastexcel, or streamed row by row with calamine)
give the same rows, cell for cell, whatever the cells hold."""

from __future__ import annotations

import datetime as dt
import zipfile

import pyarrow as pa
import pytest
import xlsxwriter

from orchestration.ingest import readers
from orchestration.ingest.profiles import FileSpec, TableSpec

# A cell of every kind a workbook can hold, each written as the kind it is.
CELLS = [
    ("text", "Amina"),
    ("blank", ""),
    ("spaces", "  "),
    ("integer", 7),
    ("zero", 0),
    ("minus zero", -0.0),
    ("fraction", 2.5),
    ("tenth", 0.1),
    ("small", 1e-05),
    ("small negative", -0.000025),
    ("ten thousandth", 0.0001),
    ("large", 1e20),
    ("long integer", 123456789012345678),
    ("true", True),
    ("false", False),
    ("text like a date cell", "2023-01-05 00:00:00"),
    ("text like minus zero", "-0"),
    ("text like a small number", "0.00001"),
    ("text like a number", "3.0"),
    ("text date", "05/01/2023"),
]
DATE = "yyyy-mm-dd"
DATES = [
    ("date", 45000, DATE),
    ("date at noon", 45000.5, DATE),
    ("date and time", 45000.123456789, "yyyy-mm-dd hh:mm:ss.000"),
    ("time of day", 0.25, "hh:mm:ss"),
    ("midnight serial", 0, DATE),
    ("Lotus's 29 February", 60, DATE),
    ("day 59", 59, DATE),
    ("day 61", 61, DATE),
    ("duration", 1.75, "[h]:mm:ss"),
    ("long duration", 75.5, "[h]:mm"),
]


def _workbook(path, header):
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("S")
    for c, value in enumerate(header):
        if isinstance(value, dt.datetime):  # a date cell: a number with a date style
            sheet.write_datetime(0, c, value, book.add_format({"num_format": "yyyy-mm-dd hh:mm"}))
        else:
            sheet.write(0, c, value)
    row = 1
    for name, value in CELLS:
        sheet.write_string(row, 0, name)
        if isinstance(value, str):
            sheet.write_string(row, 1, value)
        elif isinstance(value, bool):
            sheet.write_boolean(row, 1, value)
        else:
            sheet.write_number(row, 1, value)
        sheet.write_string(row, 2, "beside")
        sheet.write_string(row, 3, "under a blank header")
        row += 1
    for name, serial, style in DATES:
        sheet.write_string(row, 0, name)
        sheet.write_number(row, 1, serial, book.add_format({"num_format": style}))
        row += 1
    sheet.write_formula(row, 0, "=1+1", None, 2)
    sheet.write_formula(row, 1, "=1/0", None, "#DIV/0!")
    sheet.write_formula(row, 2, '="a"&"b"', None, "ab")
    sheet.write_string(row + 3, 2, "after two empty rows")
    book.close()


def _read(path, header, whole: bool, monkeypatch) -> pa.Table:
    monkeypatch.setattr(readers, "WHOLE_SHEET_BYTES", 1 << 40 if whole else 0)
    table = TableSpec(table="t", columns=tuple(header), sheet="S", required=())
    batches = [batch for _, _, batch in readers.read_xlsx(path, FileSpec("*.xlsx", "xlsx", (table,)))]
    return pa.concat_tables(batches)


@pytest.mark.parametrize(
    "header",
    [
        ["name", "value", "other", "", "more"],
        [3, True, dt.datetime(2023, 1, 5), dt.datetime(2023, 1, 5, 13, 4), ""],
    ],
    ids=["text header", "header cells that are not text"],
)
def test_a_sheet_read_whole_equals_the_sheet_streamed(tmp_path, monkeypatch, header):
    path = tmp_path / "cells.xlsx"
    _workbook(path, header)
    whole = _read(path, header, True, monkeypatch)
    streamed = _read(path, header, False, monkeypatch)
    assert whole.column_names == streamed.column_names
    rows = list(zip(*whole.to_pydict().values(), strict=True))
    assert rows == list(zip(*streamed.to_pydict().values(), strict=True))
    by_name = {r[1]: r[2] for r in rows}
    assert by_name["minus zero"] == "0" and by_name["small"] == "1e-05" and by_name["large"] == "1" + "0" * 20
    assert by_name["date"] == "2023-03-15" and by_name["date at noon"] == "2023-03-15T12:00:00"
    assert by_name["text like a date cell"] == "2023-01-05 00:00:00" and by_name["text like minus zero"] == "-0"
    assert by_name["blank"] is None and by_name["spaces"] == "  " and by_name["true"] == "true"
    assert rows[-1][0] == 2 + len(CELLS) + len(DATES) + 3, "rows keep their number in the sheet"


def test_a_sheet_larger_than_the_limit_is_streamed(tmp_path, monkeypatch):
    """The largest part of the workbook decides: up to the limit a sheet is read whole, past it streamed."""
    path = tmp_path / "cells.xlsx"
    header = ["name", "value", "other"]
    _workbook(path, header)
    with zipfile.ZipFile(path) as package:
        largest = max(part.file_size for part in package.infolist())
    taken = []
    for name in ("_read_whole_sheet", "_stream_sheet"):
        original = getattr(readers, name)
        monkeypatch.setattr(readers, name, lambda *a, _read=original, _name=name: taken.append(_name) or _read(*a))
    table = TableSpec(table="t", columns=tuple(header), sheet="S", required=())
    for limit in (largest, largest - 1):
        monkeypatch.setattr(readers, "WHOLE_SHEET_BYTES", limit)
        list(readers.read_xlsx(path, FileSpec("*.xlsx", "xlsx", (table,))))
    assert taken == ["_read_whole_sheet", "_stream_sheet"]
