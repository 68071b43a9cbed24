"""Readers for the three export formats, driven by a profile's file spec.

Each reader yields ``(table_spec, sheet, batch)`` where ``batch`` is an Arrow table of text values
(null for empty) with the canonical field names and a ``_source_row`` column: the row as a person
finds it in the file (CSV line and xlsx row count the header as 1; JSON Lines count lines). Arrow,
not pandas: DuckDB hands a CSV's rows over as Arrow and takes them back without converting a value.
A file that cannot be read raises ``ExportFileError`` naming the file, line or sheet, and rule;
row contents are never put in an error message (they hold children's personal data).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import fastexcel
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import python_calamine

from orchestration.ingest.profiles import FileSpec, TableSpec, raw_column_name

BATCH_ROWS = 50_000


class ExportFileError(Exception):
    """A file of an export that cannot be read; the country's load fails, other countries go on."""

    def __init__(self, file: Path, where: str, rule: str, detail: str, hint: str = ""):
        self.file, self.where, self.rule, self.detail = file, where, rule, detail
        message = f"{file}: {where}: {detail} (rule: {rule})"
        super().__init__(message + (f". {hint}" if hint else ""))


# The reader's own numbers: where a row (and a nested item) is found in its file.
INDEX_COLUMNS = frozenset(("_source_row", "_item_index"))

# Columns the loader adds to every raw row (and the key a nested service gets): no source column may
# take one of these names, or it would overwrite the lineage.
RESERVED_COLUMNS = frozenset(
    (
        "_country",
        "_export_date",
        "_source_file",
        "_source_sheet",
        "_source_row",
        "_item_index",
        "_file_sha256",
        "_load_id",
        "_loaded_at",
    )
)


def _warehouse_name(spec: TableSpec, column: object) -> str | None:
    """The warehouse column name of a source column; None for a blank header cell."""
    return raw_column_name(spec.field_name(str(column))) if column is not None and str(column).strip() else None


def _repeated(names: list[str]) -> list[str]:
    return sorted({n for n in names if names.count(n) > 1})


def _check_column_names(file: Path, where: str, spec: TableSpec, header: list[str]) -> None:
    names = [name for name in (_warehouse_name(spec, h) for h in header) if name]
    reserved = sorted({n for n in names if n in RESERVED_COLUMNS})
    repeated = _repeated(names)
    if reserved or repeated:
        detail = "; ".join(
            part
            for part in (
                f"column(s) named like lineage columns: {', '.join(reserved)}" if reserved else "",
                f"column(s) that appear more than once (ignoring case and punctuation): {', '.join(repeated)}"
                if repeated
                else "",
            )
            if part
        )
        raise ExportFileError(
            file,
            where,
            "each column appears once and none takes the name of a lineage column",
            detail,
            "Re-export the file from Primero without the added or duplicated columns.",
        )


def _check_header(file: Path, where: str, spec: TableSpec, header: list[str], delimiter: str | None) -> None:
    _check_column_names(file, where, spec, header)
    missing = [c for c in spec.required_headers if c not in header]
    if not missing:
        return
    if delimiter and len(header) == 1 and any(d in header[0] for d in ",;\t|" if d != delimiter):
        raise ExportFileError(
            file,
            where,
            f"fields are separated by {delimiter!r}",
            f"the header reads as one column {header[0][:80]!r}",
            "The file was written with another delimiter; re-export it as the profile says.",
        )
    raise ExportFileError(
        file,
        where,
        "every column of the profile is present",
        f"required column(s) missing: {', '.join(repr(m) for m in missing)}",
        "Re-export with the full form, or update the country profile if the instance changed.",
    )


def _rename(batch: pa.Table, spec: TableSpec, file: Path, where: str) -> pa.Table:
    """Warehouse column names. A blank header cell becomes ``unnamed_<position>`` (the batch's
    position) so the values under it are kept; names that still collide are refused."""
    names = [_warehouse_name(spec, c) or f"unnamed_{k}" for k, c in enumerate(batch.column_names)]
    repeated = _repeated(names)
    if repeated:
        raise ExportFileError(
            file, where, "each column appears once", f"column(s) that appear more than once: {', '.join(repeated)}"
        )
    return batch.rename_columns(names)


def _with_source_rows(batch: pa.Table, first_row: int) -> pa.Table:
    return batch.add_column(0, "_source_row", pa.array(range(first_row, first_row + batch.num_rows), pa.int64()))


def read_csv(file: Path, spec: FileSpec) -> Iterator[tuple[TableSpec, str | None, pa.Table]]:
    (table,) = spec.tables
    if file.stat().st_size == 0:
        raise ExportFileError(file, "line 1", "an export file starts with a header row", "the file is empty")
    with open(file, "rb") as handle:
        first = handle.readline()
    try:
        header_text = first.decode(spec.encoding)
    except UnicodeDecodeError as error:
        raise ExportFileError(
            file, "line 1", f"the file is {spec.encoding}", f"undecodable bytes: {error.reason}"
        ) from None
    if re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", header_text):
        raise ExportFileError(
            file,
            "line 1",
            "a CSV header is a line of column names",
            "the header holds control characters (binary data?)",
        )
    header = next(csv.reader(io.StringIO(header_text.lstrip("\ufeff")), delimiter=spec.delimiter))
    _check_header(file, "line 1", table, header, spec.delimiter)
    if len(set(header)) != len(header):
        raise ExportFileError(file, "line 1", "column names are unique", "the header repeats a column name")
    columns = {name: "VARCHAR" for name in header}
    reader = duckdb.connect()
    try:
        # Streamed in Arrow batches: a DB-API result (fetch_df_chunk) is materialised whole first,
        # several times the file's size in memory (a 700 MB file took the process to 6.8 GB).
        stream = reader.sql(
            "select * from read_csv(?, header = true, delim = ?, quote = '\"', escape = '\"', columns = ?,"
            " auto_detect = false, strict_mode = true, null_padding = false, encoding = 'utf-8')",
            params=[str(file), spec.delimiter, columns],
        ).to_arrow_reader(BATCH_ROWS)
        row = 2
        for record_batch in stream:
            if not record_batch.num_rows:
                continue
            batch = _with_source_rows(pa.Table.from_batches([record_batch]), row)
            row += batch.num_rows
            yield table, None, _rename(batch, table, file, "line 1")
    except (duckdb.Error, pa.ArrowException) as error:  # DuckDB's error, raised through the stream
        raise _csv_error(file, spec, str(error)) from None
    finally:
        reader.close()


def _csv_error(file: Path, spec: FileSpec, message: str) -> ExportFileError:
    line = re.search(r"CSV Error on Line: (\d+)", message)
    where = f"line {line.group(1)}" if line else "file"
    found = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", message)
    if found:
        return ExportFileError(
            file,
            where,
            f"every row has the header's {found.group(1)} fields",
            f"the row has {found.group(2)} fields (truncated, or a stray delimiter)",
        )
    size = re.search(r"Maximum line size of (\d+) bytes exceeded\. Actual Size: ?(\d+) bytes", message)
    if size:
        return ExportFileError(
            file,
            where,
            f"a line is at most {int(size.group(1)):,} bytes",
            f"the line has {int(size.group(2)):,} bytes (a runaway field, or a quote never closed)",
            "Remove the oversized value from the export, or check the file's quoting.",
        )
    if "unterminated quote" in message:
        return ExportFileError(file, where, "quoted values are closed", "a quoted value is never closed (truncated?)")
    if "unicode" in message.lower():
        return ExportFileError(file, where, f"the file is {spec.encoding}", "undecodable bytes")
    # Only DuckDB's first line: the next ones quote the offending row, which holds personal data.
    first_line = message.splitlines()[0][:200]
    return ExportFileError(file, where, "the file is a well-formed CSV", first_line)


def _cell_text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep="T")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):  # a cell formatted as a duration: read as the date-time of its serial
        return _date_text(_serial_moment(value))
    return str(value)


def _header_text(value: object) -> str:
    return str(_calamine_moment(_serial_moment(value)) if isinstance(value, dt.timedelta) else value)


# Excel counts days from 1900-01-01 as day 1 and, keeping Lotus's error, holds 1900-02-29 as day 60:
# calamine places days below 60 from 1899-12-31 and the others from 1899-12-30, as here.
def _serial_moment(duration: dt.timedelta) -> dt.datetime:
    days = duration / dt.timedelta(days=1)
    return dt.datetime(1899, 12, 31 if days < 60 else 30) + dt.timedelta(milliseconds=round(days * 86_400_000))


def _calamine_moment(moment: dt.datetime) -> dt.time | dt.date | dt.datetime:
    """A date cell as calamine's Python values give it: a time of day below day 1, a date at
    midnight, else a date and time."""
    if moment < dt.datetime(1900, 1, 1):
        return moment.time()
    if moment.time() == dt.time():
        return moment.date()
    return moment


def _date_text(moment: dt.datetime) -> str:
    value = _calamine_moment(moment)
    return value.isoformat(sep="T") if isinstance(value, dt.datetime) else value.isoformat()


# A workbook is a zip of XML parts. Sheet XML compresses about ten to twenty times; a part that
# expands far more, or past a size no export reaches, is a zip bomb and is refused before reading.
MAX_PART_BYTES = 8 << 30
MAX_PART_RATIO = 100
RATIO_CHECKED_FROM = 64 << 20


def _unopenable(file: Path, error: Exception) -> ExportFileError:
    return ExportFileError(
        file,
        "workbook",
        "the file is a complete xlsx workbook",
        f"it cannot be opened ({type(error).__name__}: {str(error)[:120]})",
        "The file is empty, truncated or not an xlsx file; copy it again.",
    )


def _check_package(file: Path) -> int:
    """Refuse what is not a workbook or expands like a zip bomb; return the largest part's size."""
    try:
        with zipfile.ZipFile(file) as package:
            parts = package.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise _unopenable(file, error) from None
    for part in parts:
        expands = part.file_size / max(part.compress_size, 1)
        if part.file_size > MAX_PART_BYTES or (part.file_size > RATIO_CHECKED_FROM and expands > MAX_PART_RATIO):
            raise ExportFileError(
                file,
                f"part {part.filename}",
                f"an xlsx part expands at most {MAX_PART_RATIO} times and to at most {MAX_PART_BYTES >> 30} GiB",
                f"it expands from {part.compress_size:,} to {part.file_size:,} bytes (a zip bomb?)",
                "The workbook was not written by Primero; do not load it.",
            )
    return max((part.file_size for part in parts), default=0)


# A sheet up to this size (its XML, unpacked) is read whole by fastexcel, straight into Arrow:
# about four times faster than calamine's rows as Python values, and needing about as much memory
# as the sheet's XML. A larger sheet is streamed row by row (memory stays flat at any size).
WHOLE_SHEET_BYTES = 2 << 30


def read_xlsx(file: Path, spec: FileSpec) -> Iterator[tuple[TableSpec, str | None, pa.Table]]:
    whole = _check_package(file) <= WHOLE_SHEET_BYTES
    try:
        open_workbook = fastexcel.read_excel if whole else python_calamine.CalamineWorkbook.from_path
        workbook = open_workbook(str(file))
    except Exception as error:  # both readers raise several error types for damaged files
        raise _unopenable(file, error) from None
    names = [n.casefold() for n in workbook.sheet_names]
    twice = sorted({n for n in workbook.sheet_names if names.count(n.casefold()) > 1})
    if twice:
        raise ExportFileError(
            file,
            "workbook",
            "each sheet appears once (ignoring case)",
            f"sheets that appear more than once: {twice}",
            "Re-export the workbook from Primero without the copied sheets.",
        )
    for table in spec.tables:
        if table.sheet not in workbook.sheet_names:
            raise ExportFileError(
                file,
                f"sheet {table.sheet!r}",
                "every sheet of the profile is present",
                f"the sheet is missing (sheets present: {workbook.sheet_names})",
            )
        yield from (_read_whole_sheet if whole else _stream_sheet)(file, workbook, table)


def _unreadable_sheet(file: Path, where: str, error: Exception) -> ExportFileError:
    return ExportFileError(file, where, "the sheet can be read", f"{type(error).__name__}: {str(error)[:120]}")


def _empty_sheet(file: Path, where: str) -> ExportFileError:
    return ExportFileError(file, f"{where}, row 1", "a sheet starts with a header row", "the sheet is empty")


def _stream_sheet(file: Path, workbook, table: TableSpec):
    where = f"sheet {table.sheet!r}"
    try:
        rows = workbook.get_sheet_by_name(table.sheet).iter_rows()
        header = next(rows, None)
    except Exception as error:
        raise _unreadable_sheet(file, where, error) from None
    if not header or all(c == "" for c in header):
        raise _empty_sheet(file, where)
    header = [_header_text(c) for c in header]
    _check_header(file, f"{where}, row 1", table, header, None)
    batch, row = [], 2
    for values in rows:
        # Most cells are text: only the others take the call (a workbook at scale 10 has 11 million cells).
        batch.append([v if v.__class__ is str and v else _cell_text(v) for v in values])
        if len(batch) >= BATCH_ROWS:
            yield table, table.sheet, _sheet_frame(file, batch, header, row, table)
            row += len(batch)
            batch = []
    if batch:
        yield table, table.sheet, _sheet_frame(file, batch, header, row, table)


def _sheet_frame(file: Path, batch: list, header: list[str], first_row: int, table: TableSpec) -> pa.Table:
    width = len(header)
    columns = zip(*((r + [None] * width)[:width] for r in batch), strict=True)
    frame = pa.table([pa.array(values, pa.string()) for values in columns], names=header)  # _rename refuses repeats
    return _rename(_with_source_rows(frame, first_row), table, file, f"sheet {table.sheet!r}, row 1")


# fastexcel writes every cell as text the way calamine's Python values read through _cell_text do,
# except a date cell ("2023-01-05 00:00:00", not "2023-01-05"), minus zero ("-0", not "0") and
# numbers below 1e-4 ("0.00001", not "1e-05"); header cells that are not text also differ ("3",
# not "3.0"). Only a column holding such a rendering is read again, as date-times: there a text cell
# reads null, so a cell that reads a date-time is a number or date and takes _cell_text's form.
_DATE_RENDERING = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?")
_NUMBER_RENDERING = re.compile(r"-0|-?0\.0000\d*")
_UNLIKE_PYTHON = f"^({_DATE_RENDERING.pattern}|{_NUMBER_RENDERING.pattern})$"
_MAYBE_NOT_TEXT = re.compile(r"-?\d+(\.\d+)?|true|false|" + _DATE_RENDERING.pattern)


def _read_whole_sheet(file: Path, workbook, table: TableSpec):
    where = f"sheet {table.sheet!r}"
    try:
        sheet = workbook.load_sheet(table.sheet, header_row=None, skip_rows=0, dtypes="string", eager=True)
    except Exception as error:
        raise _unreadable_sheet(file, where, error) from None
    header = _header(workbook, table, sheet) if sheet.num_rows else []
    if all(h == "" for h in header):
        raise _empty_sheet(file, where)
    _check_header(file, f"{where}, row 1", table, header, None)
    columns = [_blank_as_null(c) for c in sheet.slice(1).columns]
    unlike = [k for k, c in enumerate(columns) if pc.any(pc.match_substring_regex(c, _UNLIKE_PYTHON)).as_py()]
    if unlike:
        try:
            moments = workbook.load_sheet(
                table.sheet, header_row=None, skip_rows=1, use_columns=unlike, dtypes="datetime", eager=True
            )
        except Exception as error:
            raise _unreadable_sheet(file, where, error) from None
        for k, when in zip(unlike, moments.columns, strict=True):
            columns[k] = _as_python_reads(columns[k], when)
    data = pa.table(columns, names=header)  # _rename refuses repeated names
    for start in range(0, data.num_rows, BATCH_ROWS):
        frame = _with_source_rows(data.slice(start, BATCH_ROWS), 2 + start)
        yield table, table.sheet, _rename(frame, table, file, f"{where}, row 1")


def _header(workbook, table: TableSpec, sheet: pa.RecordBatch) -> list[str]:
    """Row 1 as calamine's Python values read through ``str`` (a number header is "3.0")."""
    header = ["" if v is None else v for v in sheet.slice(0, 1).to_pylist()[0].values()]
    if any(_MAYBE_NOT_TEXT.fullmatch(h) for h in header):  # rare: read row 1 again, each cell typed
        typed = workbook.load_sheet(table.sheet, header_row=None, skip_rows=0, n_rows=1, schema_sample_rows=1)
        cells = typed.to_arrow().to_pylist()[0].values()
        header = ["" if v is None else str(_calamine_moment(v) if isinstance(v, dt.datetime) else v) for v in cells]
    return header


def _blank_as_null(column: pa.Array) -> pa.Array:
    blank = pc.equal(column, "")
    return pc.if_else(blank, None, column) if pc.any(blank).as_py() else column


def _as_python_reads(text: pa.Array, moments: pa.Array) -> pa.Array:
    def where(condition: pa.Array) -> pa.Array:  # a null (an empty cell) is not a match
        return pc.and_(pc.fill_null(condition, False), pc.is_valid(moments))

    dated = where(pc.match_substring_regex(text, f"^{_DATE_RENDERING.pattern}$"))
    # Nearly all: a date at midnight, from 1900 on; done in Arrow. The others one by one.
    midnight = pc.equal(pc.floor_temporal(moments, unit="day"), moments)
    modern = pc.greater_equal(moments, pa.scalar(dt.datetime(1900, 1, 1), moments.type))
    plain_date = pc.and_(dated, where(pc.and_(midnight, modern)))
    text = pc.if_else(plain_date, pc.strftime(moments, "%Y-%m-%d"), text)
    number = where(pc.match_substring_regex(text, f"^({_NUMBER_RENDERING.pattern})$"))
    others = pc.indices_nonzero(pc.or_(pc.and_(dated, pc.invert(plain_date)), number)).to_pylist()
    if not others:
        return text
    values = text.to_pylist()
    for k in others:
        value = values[k]
        values[k] = _date_text(moments[k].as_py()) if _DATE_RENDERING.fullmatch(value) else _cell_text(float(value))
    return pa.array(values, pa.string())


def _json_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _cell_text(float(value)) if isinstance(value, float) else str(value)
    return orjson.dumps(value).decode()


def read_jsonl(file: Path, spec: FileSpec) -> Iterator[tuple[TableSpec, str | None, pa.Table]]:
    cases = next(t for t in spec.tables if t.nested_in is None)
    nested = [t for t in spec.tables if t.nested_in]
    if file.stat().st_size == 0:
        raise ExportFileError(file, "line 1", "one JSON object a line", "the file is empty")
    records, children, seen_keys, checked_keys = [], {t.table: [] for t in nested}, set(), set()
    with open(file, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            record = _parse_line(file, number, line)
            keys = tuple(record)
            if keys not in checked_keys:  # most lines share their keys: check each set once
                _check_column_names(file, f"line {number}", cases, list(keys))
                checked_keys.add(keys)
            seen_keys.update(record)
            records.append({"_source_row": number, **{k: _json_text(v) for k, v in record.items()}})
            for table in nested:
                items = record.get(table.nested_in) or []
                if not isinstance(items, list):
                    raise ExportFileError(
                        file,
                        f"line {number}",
                        f"{table.nested_in} is a list of objects",
                        f"{table.nested_in} holds a JSON {type(items).__name__}",
                    )
                for index, item in enumerate(items):
                    item = item if isinstance(item, dict) else {"value": item}
                    item_keys = (table.table, *item)
                    if item_keys not in checked_keys:  # an item may not overwrite its lineage or case
                        _check_column_names(file, f"line {number}", table, [*item, "case_id"])
                        checked_keys.add(item_keys)
                    children[table.table].append(
                        {
                            "_source_row": number,
                            "_item_index": index + 1,
                            "case_id": _json_text(record.get("id")),
                            **{k: _json_text(v) for k, v in item.items()},
                        }
                    )
            if len(records) >= BATCH_ROWS:
                yield from _jsonl_batches(file, cases, records, nested, children)
                records, children = [], {t.table: [] for t in nested}
    missing = [k for k in cases.required_headers if k not in seen_keys]
    if missing:
        raise ExportFileError(file, "every line", "each case has its record id", f"key(s) never present: {missing}")
    yield from _jsonl_batches(file, cases, records, nested, children)


_KEY = re.compile(rb'"\s*:')


def _key_count(value: object) -> int:
    if isinstance(value, dict):
        return len(value) + sum(_key_count(v) for v in value.values())
    if isinstance(value, list):
        return sum(_key_count(v) for v in value)
    return 0


def _refuse_repeated_keys(pairs: list[tuple[str, object]]) -> dict:
    keys = [k for k, _ in pairs]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ValueError(f"key(s) {repeated} appear twice in one object")
    return dict(pairs)


def _parse_line(file: Path, number: int, line: bytes) -> dict:
    try:
        record = orjson.loads(line)
        # A key given twice keeps only its last value in any JSON parser: one value would be lost.
        # Every key is followed by '":', so fewer keys than those marks is checked exactly (rarely:
        # a value holding '":' also triggers the exact check, which then passes).
        if len(_KEY.findall(line)) > _key_count(record):
            json.loads(line, object_pairs_hook=_refuse_repeated_keys)
    except orjson.JSONDecodeError as error:
        raise ExportFileError(
            file,
            f"line {number}",
            "each line is one JSON object",
            f"the line does not parse ({str(error).split(':')[0]})",
        ) from None
    except ValueError as error:
        raise ExportFileError(
            file, f"line {number}", "each key appears once in a JSON object", str(error)[:200]
        ) from None
    if not isinstance(record, dict):
        raise ExportFileError(
            file, f"line {number}", "each line is one JSON object", f"the line holds a JSON {type(record).__name__}"
        )
    return record


def _text_table(records: list[dict]) -> pa.Table:
    """Records (keys in order of first appearance, as in the file) as an Arrow table of text."""
    names = dict.fromkeys(key for record in records for key in record)
    return pa.Table.from_pylist(
        records, schema=pa.schema([(n, pa.int64() if n in INDEX_COLUMNS else pa.string()) for n in names])
    )


def _jsonl_batches(file: Path, cases: TableSpec, records: list, nested: list, children: dict):
    if records:
        yield cases, None, _rename(_text_table(records), cases, file, "every line")
    for table in nested:
        if children[table.table]:
            frame = _text_table(children[table.table])
            yield table, None, _rename(frame, table, file, f"every line's {table.nested_in}")


READERS = {"csv": read_csv, "xlsx": read_xlsx, "jsonl": read_jsonl}
