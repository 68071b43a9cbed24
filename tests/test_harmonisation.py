"""The dbt harmonisation end to end: generated exports with every defect, built by `cpwh build`,
compared child by child with what the generator intended."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys

import duckdb
import numpy as np
import pandas as pd
import pytest
from dagster import DagsterInstance
from dagster._core.instance.ref import InstanceRef

from orchestration.ingest.profiles import COUNTRY_CODES
from orchestration.pseudonym import _hmac_keys, pseudonym
from synthetic import generate_exports
from tests.conftest import EXPORT, KEY


def _truth(results, country) -> pd.DataFrame:
    truth = results[country].truth[EXPORT]
    truth = truth[truth.row_kind != "D10_copy"].copy()
    truth["case_key"] = [pseudonym(KEY.encode(), country, i) for i in truth.id]
    return truth.set_index("case_key")


@pytest.mark.parametrize("country", COUNTRY_CODES)
def test_facts_equal_the_intended_children_exactly(built_home, country):
    _, results, con = built_home
    truth = _truth(results, country)
    facts = con.execute("select * from marts.fct_cases where country_code = ?", [country]).df().set_index("case_key")
    assert sorted(facts.index) == sorted(truth.index), "one fact row per record, none lost"
    in_scope = truth[truth.in_scope]
    assert set(facts.index[facts.is_in_scope]) == set(in_scope.index)
    facts = facts.loc[in_scope.index]
    pairs = {
        "age_years": "age_years",
        "sex": "sex",
        "uasc_status": "uasc_status",
        "displacement_category": "displacement",
        "risk_level": "risk",
        "care_category": "care",
        "is_closed": "is_closed",
        "closure_category": "closure_category",
        "case_duration_months": "case_duration_months",
    }
    for fact_column, truth_column in pairs.items():
        expected, actual = in_scope[truth_column], facts[fact_column]
        both_missing = expected.isna().to_numpy() & actual.isna().to_numpy()
        if fact_column in ("age_years", "case_duration_months"):
            equal = np.isclose(expected.astype(float), actual.astype(float))
        else:
            equal = (expected.astype(object) == actual.astype(object)).to_numpy()
        wrong = ~(both_missing | equal)
        examples = list(zip(expected[wrong][:3], actual[wrong][:3], strict=True))
        assert not wrong.any(), f"{country} {fact_column}: {examples}"


@pytest.mark.parametrize("country", COUNTRY_CODES)
def test_concerns_and_services_equal_the_intended_ones(built_home, country):
    _, results, con = built_home
    truth = _truth(results, country)
    truth = truth[truth.in_scope]
    concerns = (
        con.execute(
            "select case_key, concern_category from marts.fct_case_concerns where country_code = ? and is_in_scope",
            [country],
        )
        .df()
        .groupby("case_key")
        .concern_category.agg(lambda c: tuple(sorted(c)))
    )
    services = (
        con.execute(
            "select case_key, service_category from marts.fct_case_services"
            " where country_code = ? and is_in_scope and is_implemented",
            [country],
        )
        .df()
        .groupby("case_key")
        .service_category.agg(lambda c: tuple(sorted(c)))
    )
    for key, row in truth.iterrows():
        assert concerns.get(key, ()) == row.concerns, f"{country} concerns"
        assert services.get(key, ()) == row.services, f"{country} services"


def test_every_row_is_harmonised_quarantined_or_resolved(built_home):
    _, results, con = built_home
    reconciliation = con.execute("select * from intermediate.int_rows__reconciled").df()
    assert reconciliation.is_balanced.all()
    assert set(reconciliation.country_code) == set(COUNTRY_CODES)
    for country in COUNTRY_CODES:
        cases = reconciliation[(reconciliation.country_code == country) & (reconciliation.entity == "case")]
        assert int(cases.raw_rows.iloc[0]) == results[country].rows[EXPORT]
        assert int(cases.resolved_duplicate_rows.iloc[0]) == results[country].defects[EXPORT]["D10"]
    quarantined = con.execute(
        "select country_code, count(*) from intermediate.int_rows__quarantined"
        " where quarantine_reason = 'service_without_case' group by 1"
    ).fetchall()
    assert dict(quarantined) == {c: results[c].defects[EXPORT]["D12"] for c in ("BGD", "KEN", "LBN", "NGA")}


def test_defect_flags_count_what_was_injected(built_home):
    _, results, con = built_home
    flags = {
        "D1": "d1_closed_without_closure_date",
        "D2": "d2_closure_date_on_open_case",
        "D3": "d3_closure_before_registration",
        "D4": "d4_closed_without_reason",
        "D5": "d5_closure_fields_disagree",
        "D6": "d6_no_age_no_date_of_birth",
        "D7": "d7_age_contradicts_date_of_birth",
        "D8": "d8_adult_at_registration",
        "D9": "d9_bad_registration_date",
        "D11": "d11_value_not_as_listed",
        "D13": "d13_marked_duplicate",
    }
    for country in COUNTRY_CODES:
        sums = ", ".join(f"sum(case when {flag} then 1 else 0 end)" for flag in flags.values())
        counted = con.execute(
            f"select {sums} from intermediate.int_cases__resolved where country_code = ?", [country]
        ).fetchone()
        injected = results[country].defects[EXPORT]
        assert dict(zip(flags, counted, strict=True)) == {code: injected[code] for code in flags}, country


def test_pseudonyms_are_keyed_and_stable(built_home):
    _, results, con = built_home
    truth = _truth(results, "BGD")
    keys = set(con.execute("select case_key from marts.fct_cases where country_code = 'BGD'").df().case_key)
    assert keys == set(truth.index)
    other_key = {pseudonym(b"another key", "BGD", i) for i in results["BGD"].truth[EXPORT].id}
    assert not keys & other_key


def _personal_values(con) -> set[str]:
    values = set()
    for country in COUNTRY_CODES:
        table = "raw.ken__basic_identity" if country == "KEN" else f"raw.{country.lower()}__cases"
        columns = {"id", "case_id_display", "name", "date_of_birth", "location_current"}
        if country == "KEN":
            columns = {"_id", "case_id", "short_id", "case_id_display", "name", "date_of_birth", "location_current"}
        for column in columns:
            values |= {v for (v,) in con.execute(f"select distinct {column} from {table}").fetchall() if v}
    return values


def test_no_personal_data_past_raw(built_home):
    _, _, con = built_home
    personal = _personal_values(con)
    assert len(personal) > 1000
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables"
        " where table_schema in ('staging', 'intermediate', 'marts')"
    ).fetchall()
    assert len(tables) > 20
    for schema, table in tables:
        columns = con.execute(
            "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()
        names = {c for c, _ in columns}
        assert not names & {"name", "date_of_birth", "location_current", "case_id_display", "id", "_id"}, table
        for column, kind in columns:
            if kind != "VARCHAR":
                continue
            found = con.execute(f'select distinct "{column}" from {schema}.{table}').fetchall()
            leaked = {v for (v,) in found if v} & personal
            assert not leaked, f"{schema}.{table}.{column} holds raw personal values: {sorted(leaked)[:3]}"


@pytest.mark.slow
def test_latest_complete_export_is_used_and_older_ones_reconcile(tmp_path):
    """Two monthly exports; the newest Bangladeshi one is broken: BGD keeps its previous export."""
    landing = tmp_path / "landing"
    generate_exports(landing, countries=["BGD", "UKR"], scale=0.01, seed=5, snapshots=2)
    (landing / "BGD/2023-12-31/services.csv").write_bytes(b"")
    env = {**os.environ, "CPWH_HOME": str(tmp_path), "CPWH_PSEUDONYM_KEY": KEY, "DO_NOT_TRACK": "1"}
    env.pop("CPWH_LANDING", None)
    run = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "build"], env=env, capture_output=True, text=True, timeout=900
    )
    assert run.returncode == 1, run.stderr[-3000:]  # the broken export blocks publication
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        in_use = dict(con.execute("select country_code, export_date_in_use::varchar from marts.dim_country").fetchall())
        assert in_use["BGD"] == "2023-11-30" and in_use["UKR"] == "2023-12-31"
        facts = dict(
            con.execute("select country_code, min(export_date)::varchar from marts.fct_cases group by 1").fetchall()
        )
        assert facts == {"BGD": "2023-11-30", "UKR": "2023-12-31"}
        rows = con.execute(
            "select country_code, export_date::varchar, superseded_rows > 0, is_balanced"
            " from intermediate.int_rows__reconciled where entity = 'case' order by 1, 2"
        ).fetchall()
        assert rows == [
            ("BGD", "2023-11-30", False, True),
            ("UKR", "2023-11-30", True, True),
            ("UKR", "2023-12-31", False, True),
        ]


def _words(text: str) -> list[str]:
    """Text as words, quotes and delimiters removed, the same way for values and for files."""
    return re.sub(r"[\"'<>(){}\[\];|=,:\\]+", " ", text).split()


def _leaks(text: str, personal: set[str]) -> set[str]:
    """The personal values that appear in the text, word for word."""
    by_first: dict[str, list[tuple[str, list[str]]]] = {}
    for value in personal:
        words = _words(value)
        if words and len(" ".join(words)) >= 4:
            by_first.setdefault(words[0], []).append((value, words))
    found, words = set(), _words(text)
    for i, word in enumerate(words):
        for value, value_words in by_first.get(word, ()):
            if words[i : i + len(value_words)] == value_words:
                found.add(value)
    return found


def test_no_personal_data_in_files_logs_or_dagster_metadata(built_home):
    """What people and the UI see outside the warehouse: the published file, the report, the quality
    page, the build logs, the run history and every Dagster event (metadata included)."""
    home, _, con = built_home
    export_dates = {str(d) for (d,) in con.execute("select distinct export_date from raw.export_loads").fetchall()}
    personal = {v for v in _personal_values(con) if v not in export_dates}
    texts = {}
    with duckdb.connect(str(home / "published/marts.duckdb"), read_only=True) as published:
        for (table,) in published.execute("select table_name from information_schema.tables").fetchall():
            texts[f"published {table}"] = published.execute(f"select * from {table}").df().to_csv()
    for path in [*home.glob("reports/**/*.html"), *home.glob("reports/**/*.json"), *home.glob("logs/*.log")]:
        texts[str(path)] = path.read_text(encoding="utf-8", errors="replace")
    with sqlite3.connect(home / "history.sqlite") as history:
        texts["run history"] = repr(history.execute("select * from build_runs").fetchall()) + repr(
            history.execute("select * from export_attempts").fetchall()
        )
    with DagsterInstance.from_ref(InstanceRef.from_dir(str(home / "dagster"))) as instance:
        for run in instance.get_runs():
            texts[f"dagster run {run.run_id}"] = "\n".join(repr(e) for e in instance.all_logs(run.run_id))
    assert any(p.startswith("dagster run") for p in texts) and any("logs" in p for p in texts)
    scannable = {v for v in personal if len(" ".join(_words(v))) >= 4}
    assert len(scannable) > 1000
    planted = "log line: " + repr(sorted(scannable)) + ' "' + '","'.join(sorted(scannable)) + '" (end)'
    assert _leaks(planted, personal) == scannable, "the scan finds every personal value written into a text"
    derived_keys = [k.hex() for k in _hmac_keys(KEY.encode())]  # what cpwh_pseudonym's macro holds
    for place, text in texts.items():
        leaked = _leaks(text, personal)
        assert not leaked, f"{place} shows raw personal values: {sorted(leaked)[:3]}"
        assert KEY not in text, f"{place} shows the pseudonym key"
        assert not any(k in text for k in derived_keys), f"{place} shows a key derived from the pseudonym key"
