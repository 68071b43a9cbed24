"""What the generator intends is what its files say: read back, harmonised independently, compared."""

from __future__ import annotations

import hashlib
import math

import duckdb
import numpy as np
import pytest

from orchestration.ingest.loader import load_country
from orchestration.ingest.profiles import COUNTRY_CODES, get_profile
from synthetic import generate_country, generate_exports
from synthetic.parameters import DEFECT_CODES, parse_defects
from tests.reference import children, harmonise, measure_defects

COMPARED = [
    "age_years",
    "sex",
    "uasc_status",
    "displacement",
    "risk",
    "care",
    "is_closed",
    "closure_category",
    "case_duration_months",
    "concerns",
    "services",
]


def _same(expected, actual, numeric: bool) -> np.ndarray:
    both_missing = expected.isna().to_numpy() & actual.isna().to_numpy()
    equal = np.isclose(expected.astype(float), actual.astype(float)) if numeric else (expected == actual).to_numpy()
    return both_missing | equal


@pytest.mark.parametrize("country", COUNTRY_CODES)
def test_files_harmonise_to_the_intended_children_exactly(small_export, small_con, country):
    _, results = small_export
    truth = results[country].truth["2023-12-31"]
    expected = truth[truth.in_scope].set_index("id")
    actual = children(harmonise(small_con, country), country).set_index("id")
    assert sorted(expected.index) == sorted(actual.index), "the same children are in scope"
    actual = actual.loc[expected.index]
    for column in COMPARED:
        numeric = column in ("age_years", "case_duration_months")
        same = _same(expected[column], actual[column], numeric)
        differing = list(zip(expected[column][~same][:3], actual[column][~same][:3], strict=True))
        assert same.all(), f"{country} {column}: {differing}"


@pytest.mark.parametrize("country", COUNTRY_CODES)
def test_injected_defects_are_exactly_what_the_files_show(small_export, small_con, country):
    _, results = small_export
    injected = results[country].defects["2023-12-31"]
    measured = measure_defects(harmonise(small_con, country), country)
    assert {code: count for code, (count, _) in measured.items()} == {c: injected[c] for c in DEFECT_CODES}


def _load(landing, database, countries):
    for country in countries:
        load_country(database, landing, get_profile(country))
    return duckdb.connect(str(database), read_only=True)


def test_defect_rates_are_what_was_asked(tmp_path):
    asked = {code: 0.05 for code in DEFECT_CODES}
    countries = ["NGA", "LBN"]
    generate_exports(tmp_path / "landing", countries=countries, scale=0.25, seed=3, defects=asked)
    con = _load(tmp_path / "landing", tmp_path / "w.duckdb", countries)
    for country in countries:
        for code, (count, denominator) in measure_defects(harmonise(con, country), country).items():
            if code == "D5" and country != "NGA":
                continue
            rate = count / denominator
            tolerance = 3 * math.sqrt(0.05 * 0.95 / denominator) + 1 / denominator
            assert abs(rate - 0.05) <= tolerance, f"{country} {code}: {count}/{denominator} = {rate:.3f}"


def test_no_defects_means_clean_files(tmp_path):
    generate_exports(tmp_path / "landing", scale=0.02, seed=4, defects=parse_defects("none"))
    con = _load(tmp_path / "landing", tmp_path / "w.duckdb", COUNTRY_CODES)
    for country in COUNTRY_CODES:
        measured = measure_defects(harmonise(con, country), country)
        assert {code: count for code, (count, _) in measured.items()} == {code: 0 for code in DEFECT_CODES}


def test_defect_option_parsing():
    assert parse_defects("default") is None
    assert parse_defects("D1=0.1,d10=0.02") == {"D1": 0.1, "D10": 0.02}
    with pytest.raises(ValueError, match="D14"):
        parse_defects("D14=0.1")
    with pytest.raises(ValueError, match="between 0 and 0.5"):
        parse_defects("D1=0.9")


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*.csv"))}


def test_same_seed_same_files_other_seed_other_files(tmp_path):
    for name, seed in (("a", 9), ("b", 9), ("c", 10)):
        generate_country("BGD", tmp_path / name, scale=0.01, seed=seed)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_snapshots_show_cases_progressing(tmp_path):
    result = generate_country(
        "UKR", tmp_path, scale=0.05, seed=8, snapshots=3, keep_truth=True, defects=parse_defects("none")
    )
    assert result.export_dates == ["2023-10-31", "2023-11-30", "2023-12-31"]
    con = _load(tmp_path, tmp_path / "w.duckdb", ["UKR"])
    states = [harmonise(con, "UKR", d)["cases"].set_index("id") for d in result.export_dates]
    first, last = states[0], states[-1]
    assert len(first) < len(last), "new cases are registered between exports"
    assert set(first.index) <= set(last.index), "ids are stable across exports"
    common = first.index
    reopened = (first.loc[common, "status"] == "closed") & (last.loc[common, "status"] != "closed")
    assert set(last.loc[common][reopened].status) <= {"open"}, "a closed case comes back only when it is reopened"
    closed_later = (first.loc[common, "status"] == "open") & (last.loc[common, "status"] == "closed")
    assert closed_later.sum() > 0, "open cases close in later exports"


def test_large_workbooks_are_split_into_parts_of_whole_cases(tmp_path):
    result = generate_country("NGA", tmp_path, scale=0.05, seed=2, max_xlsx_rows=300)
    folder = tmp_path / "NGA" / "2023-12-31"
    parts = sorted(p.name for p in folder.glob("*.xlsx"))
    assert len(parts) >= 4 and parts[0] == "cpims_nigeria_export_part1.xlsx"
    con = _load(tmp_path, tmp_path / "w.duckdb", ["NGA"])
    assert con.execute("select count(*) from raw.nga__cases").fetchone()[0] == result.rows["2023-12-31"]
    orphans = con.execute(
        "select count(*) from raw.nga__services s where not exists "
        "(select 1 from raw.nga__cases c where c.id = s.case_id)"
    ).fetchone()[0]
    assert orphans == result.defects["2023-12-31"]["D12"]
    elsewhere = con.execute(
        "select count(*) from raw.nga__services s join raw.nga__cases c on c.id = s.case_id "
        "where c._source_file <> s._source_file"
    ).fetchone()[0]
    assert elsewhere == 0, "a part holds its cases' services"
