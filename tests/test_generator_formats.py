"""Generated exports read back with independent parsers: every profile rule of exports.md."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re

import pytest
from python_calamine import CalamineWorkbook

from orchestration.ingest.profiles import get_profile
from orchestration.transform.seeds import categorisation

EXPORT_DATE = "2023-12-31"
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
DATE_PATTERNS = {
    "BGD": r"^\d{4}-\d{2}-\d{2}$",
    "KEN": r"^\d{2}-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{4}$",
    "LBN": r"^\d{2}/\d{2}/\d{4}$",
    "MMR": r"^\d{2}/\d{2}/\d{4}$",
    "UKR": r"^\d{4}-\d{2}-\d{2}$",
}


def _folder(small_export, country):
    landing, _ = small_export
    return landing / country / EXPORT_DATE


def _csv_rows(path, encoding, delimiter):
    with open(path, encoding=encoding, newline="") as handle:
        return list(csv.reader(handle, delimiter=delimiter))


def _options(country, field, column="option_id"):
    seed = categorisation()
    return set(seed[(seed.country_code == country) & (seed.field == field)][column])


def _assert_dates(country, values, allow=("unknown",)):
    pattern = re.compile(DATE_PATTERNS[country])
    bad = [v for v in values if v and v not in allow and not pattern.match(v)]
    assert not bad, f"{country}: dates not in the profile's format: {bad[:5]}"


@pytest.mark.parametrize("country", ["BGD", "LBN", "MMR"])
def test_csv_layout_encoding_and_delimiter(small_export, country):
    profile = get_profile(country)
    for spec in profile.files:
        path = _folder(small_export, country) / spec.canonical_name
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") == (spec.encoding == "utf-8-sig"), f"{path.name}: byte-order mark"
        rows = _csv_rows(path, spec.encoding, spec.delimiter)
        assert rows[0] == list(spec.tables[0].columns)
        assert all(len(r) == len(rows[0]) for r in rows), f"{path.name}: ragged rows"
        assert len(rows) > 10


@pytest.mark.parametrize("country", ["BGD", "LBN", "MMR"])
def test_csv_dates_and_timestamps(small_export, country):
    profile = get_profile(country)
    spec = profile.files[0]
    rows = _csv_rows(_folder(small_export, country) / spec.canonical_name, spec.encoding, spec.delimiter)
    header = [spec.tables[0].field_name(h) for h in rows[0]]
    records = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    for field in ("registration_date", "date_of_birth", "date_closure"):
        _assert_dates(country, [r[field] for r in records])
    assert all(TIMESTAMP.match(r["last_updated_at"]) for r in records)


def test_bgd_option_ids_and_json_multiselect(small_export):
    rows = _csv_rows(_folder(small_export, "BGD") / "cases.csv", "utf-8", ",")
    records = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    concerns = [json.loads(r["protection_concerns"]) for r in records if r["protection_concerns"]]
    assert concerns and all(isinstance(c, list) for c in concerns)
    used = {v for c in concerns for v in c}
    assert used <= _options("BGD", "protection_concerns")
    exact = {r["sex"] for r in records if r["sex"] == r["sex"].strip()}
    assert {v.lower() for v in exact} <= _options("BGD", "sex")


def test_lbn_labels_english_or_arabic_per_row(small_export):
    folder = _folder(small_export, "LBN")
    rows = _csv_rows(folder / "cases.csv", "utf-8-sig", ",")
    header = rows[0]
    assert "Governorate, Caza, Municipality" in header
    records = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    english, arabic = _options("LBN", "status", "label_en"), _options("LBN", "status", "label_local")
    statuses = [r["Case Status"].strip() for r in records]
    assert any(s in arabic for s in statuses) and any(s in english for s in statuses)
    sex_en, sex_ar = _options("LBN", "sex", "label_en"), _options("LBN", "sex", "label_local")
    for record in records:
        status, sex = record["Case Status"], record["Sex"]
        if status in arabic and sex and sex in sex_en | sex_ar:
            assert sex in sex_ar, "a row's option values are all in one language"
    labels = _options("LBN", "protection_concerns", "label_en") | _options("LBN", "protection_concerns", "label_local")
    used = {v for r in records for v in r["Protection Concerns"].split("; ") if v}
    assert used and used <= labels
    assert {r["Is the age estimated?"] for r in records} <= {"Yes", "No", ""}
    services = _csv_rows(folder / "services.csv", "utf-8-sig", ",")
    assert services[0] == [
        "Case ID",
        "Service ID",
        "Type of Service",
        "Type of Response",
        "Service Implemented",
        "Service Implemented Date",
    ]
    displayed = {r["Case ID"] for r in records}
    assert sum(s[0] in displayed for s in services[1:]) > 0.9 * (len(services) - 1), "Case ID -> Case ID"


def test_mmr_wide_services_and_free_text_closure(small_export):
    rows = _csv_rows(_folder(small_export, "MMR") / "cases.csv", "utf-8", ";")
    header = rows[0]
    for n in range(1, 6):
        assert f"services_section_{n}_service_implemented_day_time" in header
    records = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    assert any(r["services_section_2_service_type"] for r in records)
    reasons = {r["closure_reason"] for r in records if r["closure_reason"]}
    assert reasons and reasons <= _options("MMR", "closure_reason")
    assert any(" ||| " in r["protection_concerns"] for r in records)


def test_ken_workbook_sheets_and_text_dates(small_export):
    book = CalamineWorkbook.from_path(str(_folder(small_export, "KEN") / "cpims_export.xlsx"))
    profile = get_profile("KEN")
    assert book.sheet_names == [t.sheet for t in profile.tables]
    sizes = {}
    for spec in profile.tables:
        rows = book.get_sheet_by_name(spec.sheet).to_python()
        assert rows[0] == list(spec.columns)
        assert rows[0][:2] == ["_id", "model_type"]
        sizes[spec.table] = len(rows)
        if spec.table == "basic_identity":
            records = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
            _assert_dates("KEN", [r["registration_date"] for r in records])
            _assert_dates("KEN", [r["date_of_birth"] for r in records])
        if spec.table == "closure":
            assert any(" ||| " in str(r[2]) for r in rows[1:]), "closure_reason is a multi-select"
    assert sizes["basic_identity"] == sizes["protection_concern"] == sizes["closure"]


def test_nga_real_date_cells_hash_ids_and_two_closure_fields(small_export):
    book = CalamineWorkbook.from_path(str(_folder(small_export, "NGA") / "cpims_nigeria_export.xlsx"))
    assert book.sheet_names == ["cases", "services"]
    rows = book.get_sheet_by_name("cases").to_python()
    records = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    registration = [r["registration_date"] for r in records if r["registration_date"] not in ("", "unknown")]
    assert registration and all(isinstance(v, dt.date) for v in registration)
    assert any(r["primary_reason_closure"] for r in records) and any(r["closure_reason"] for r in records)
    assert any(r["primary_reason_closure"] and r["closure_reason"] for r in records), "both fields on some cases"
    services = book.get_sheet_by_name("services").to_python()
    assert all(re.search(r"_\d{5}$", s[2]) for s in services[1:]), "service ids carry hash suffixes"
    assert any("," in r["protection_concerns"] for r in records)


def test_ukr_json_lines(small_export):
    profile = get_profile("UKR")
    keys = set(profile.tables[0].columns)
    lines = (_folder(small_export, "UKR") / "cases.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert all(isinstance(r, dict) and set(r) <= keys for r in records)
    assert any(len(r) < len(keys) for r in records), "keys may be absent"
    assert any(None in r.values() for r in records), "... or null"
    assert any(isinstance(r.get("protection_concerns"), list) for r in records)
    nested = [s for r in records for s in (r.get("services_section") or [])]
    assert nested and set(nested[0]) == set(profile.table("services").columns) - {"case_id"}
    _assert_dates("UKR", [r.get("registration_date") for r in records])
    assert min(r["registration_date"] for r in records if r.get("registration_date")) >= "2018-01-01"


def test_ready_marker_is_written_last(small_export):
    landing, _ = small_export
    for folder in landing.glob("*/*"):
        ready = folder / "_READY"
        assert ready.exists() and ready.stat().st_size == 0
        assert all(f.stat().st_mtime_ns <= ready.stat().st_mtime_ns for f in folder.iterdir())


@pytest.mark.parametrize("country", ["KEN", "NGA"])
def test_workbooks_read_the_same_with_three_readers(small_export, country):
    """Each sheet carries its <dimension>, so openpyxl's read-only mode (which sizes rows by it) and
    pandas see the full rectangle calamine sees, cell for cell."""
    import openpyxl
    import pandas as pd

    def same(value):  # the readers agree on values, not on Python types (date or midnight datetime, 14 or 14.0)
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return ""
        if isinstance(value, dt.datetime) and value.time() == dt.time():
            return value.date()
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else value

    landing, _ = small_export
    [path] = (landing / country / EXPORT_DATE).glob("*.xlsx")
    calamine = CalamineWorkbook.from_path(str(path))
    streamed = openpyxl.load_workbook(path, read_only=True)
    assert streamed.sheetnames == calamine.sheet_names
    assert streamed.properties.creator, "docProps/core.xml is read"
    for name in calamine.sheet_names:
        expected = [[same(v) for v in row] for row in calamine.get_sheet_by_name(name).to_python()]
        sheet = streamed[name]
        assert (sheet.max_row, sheet.max_column) == (len(expected), len(expected[0]))
        rows = [[same(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        assert rows == expected, f"{name}: openpyxl read-only differs from calamine"
        frame = pd.read_excel(path, sheet_name=name, header=None, engine="openpyxl", dtype=object)
        assert frame.shape == (len(expected), len(expected[0]))
        as_read = [[same(v) for v in row] for row in frame.itertuples(index=False)]
        assert as_read == expected, f"{name}: pandas differs from calamine"
