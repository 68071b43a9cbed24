"""Streaming writers, one per file format: frames are appended chunk by chunk."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import orjson
import pandas as pd

from orchestration.ingest.profiles import FileSpec, Profile
from synthetic.xlsx import StreamingWorkbook

EXCEL_MAX_DATA_ROWS = 1_048_575  # 1,048,576 rows a sheet, one of them the header


class CsvWriter:
    def __init__(self, path: Path, spec: FileSpec):
        self.handle = open(path, "w", encoding=spec.encoding, newline="")  # noqa: SIM115 (closed in close)
        self.delimiter = spec.delimiter
        self.header = True

    def append(self, frames: dict[str, pd.DataFrame], spec: FileSpec) -> None:
        (table,) = spec.tables
        frames[table.table].to_csv(
            self.handle,
            sep=self.delimiter,
            index=False,
            header=self.header,
            lineterminator="\n",
            quoting=csv.QUOTE_MINIMAL,
        )
        self.header = False

    def close(self) -> None:
        self.handle.close()


class JsonlWriter:
    """One JSON object a line; a field with no value is left out or written as null (both occur)."""

    def __init__(self, path: Path, spec: FileSpec):
        self.handle = open(path, "wb")  # noqa: SIM115 (closed in close)
        self.lines = 0

    def append(self, frames: dict[str, pd.DataFrame], spec: FileSpec) -> None:
        cases = frames[spec.tables[0].table]
        columns = list(cases.columns)
        out = []
        for values in cases.itertuples(index=False, name=None):
            self.lines += 1
            record = {}
            for key, value in zip(columns, values, strict=True):
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    if self.lines % 2:
                        continue  # absent key
                    value = None
                elif key == "age":
                    value = int(value)
                elif key == "estimated":
                    value = value == "true"
                record[key] = value
            out.append(orjson.dumps(record))
        self.handle.write(b"\n".join(out) + b"\n")

    def close(self) -> None:
        self.handle.close()


class XlsxWriter:
    """A workbook with the profile's sheets, split into parts when a sheet would overflow.

    Parts are whole workbooks (``<name>_part1.xlsx``, ...) holding complete cases; a single part
    is renamed to the plain file name when the export is finished.
    """

    def __init__(self, folder: Path, spec: FileSpec, profile: Profile, max_rows: int = EXCEL_MAX_DATA_ROWS):
        self.folder, self.spec, self.max_rows = folder, spec, max_rows
        self.excel_dates = profile.date_format == "excel"
        self.date_fields = {"registration_date", "date_of_birth", "date_closure", "service_implemented_day_time"}
        self.parts: list[Path] = []
        self.book = None

    def _open_part(self) -> None:
        if self.book is not None:
            self.book.close()
        path = self.folder / self.spec.part_name(len(self.parts) + 1)
        self.parts.append(path)
        self.book = StreamingWorkbook(path, [t.sheet for t in self.spec.tables])
        self.sheets = {}
        for index, table in enumerate(self.spec.tables):
            self.book.write_rows(index, [list(table.columns)])
            dates = frozenset(i for i, c in enumerate(table.columns) if c in self.date_fields and self.excel_dates)
            self.sheets[table.table] = [index, 1, dates]

    def append(self, frames: dict[str, pd.DataFrame], spec: FileSpec) -> None:
        case_table = next(t for t in spec.tables if t.case_key is None)
        service_table = next((t for t in spec.tables if t.case_key is not None), None)
        cases = frames[case_table.table]
        case_key = cases[case_table.columns[0]].to_numpy()
        services = frames[service_table.table] if service_table else None
        start = 0
        while start < len(cases):
            if self.book is None or self._room() <= 0:
                self._open_part()
            take = self._cases_that_fit(cases, services, service_table, start)
            chosen = set(case_key[start : start + take])
            for table in spec.tables:
                frame = frames[table.table]
                if table is service_table:
                    mask = frame[table.columns[0]].isin(chosen)
                    if start + take >= len(cases):
                        mask |= ~frame[table.columns[0]].isin(set(case_key))  # orphans go with the last cases
                    self._write(table.table, frame[mask.to_numpy()])
                else:
                    self._write(table.table, frame.iloc[start : start + take])
            start += take

    def _room(self) -> int:
        return self.max_rows - max(row - 1 for _, row, _ in self.sheets.values())

    def _cases_that_fit(self, cases, services, service_table, start: int) -> int:
        room = self._room()
        take = min(room, len(cases) - start)
        if services is None:
            return take
        counts = services[service_table.columns[0]].value_counts()
        keys = cases[cases.columns[0]].to_numpy()
        while take > 1:
            chunk_keys = keys[start : start + take]
            needed = int(counts.reindex(chunk_keys).fillna(0).sum())
            if needed <= room:
                break
            take = max(1, take // 2)
        return take

    def _write(self, table: str, frame: pd.DataFrame) -> None:
        index, rows, date_columns = self.sheets[table]
        values = (
            [None if isinstance(v, float) and math.isnan(v) else v for v in row]
            for row in frame.itertuples(index=False, name=None)
        )
        self.book.write_rows(index, values, date_columns)
        self.sheets[table][1] = rows + len(frame)

    def close(self) -> None:
        if self.book is None:
            self._open_part()
        self.book.close()
        if len(self.parts) == 1:
            self.parts[0].rename(self.folder / self.spec.canonical_name)


def open_writer(folder: Path, spec: FileSpec, profile: Profile, max_rows: int):
    if spec.format == "csv":
        return CsvWriter(folder / spec.canonical_name, spec)
    if spec.format == "jsonl":
        return JsonlWriter(folder / spec.canonical_name, spec)
    if spec.format == "xlsx":
        return XlsxWriter(folder, spec, profile, max_rows)
    raise ValueError(f"profile {profile.country_code}: unknown file format {spec.format!r}")
