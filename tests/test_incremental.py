"""A build of some countries rebuilds only theirs in the models kept by country, and gives the
same tables as a full build of the same exports."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pytest

from orchestration.ingest.profiles import COUNTRY_CODES
from orchestration.transform import incremental
from synthetic import generate_exports
from tests.conftest import KEY, cpwh

# Columns that name the run or the time of the build, not the data.
RUN_COLUMNS = {"run_id", "built_at", "published_at", "publication_id", "loaded_at", "_loaded_at"}


def _warehouse_with_loads(path, loads: list[tuple[str, str]]) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.export_loads (load_id varchar, country varchar, status varchar)")
        con.executemany("insert into raw.export_loads values (?, ?, 'loaded')", [[i, c] for c, i in loads])


def test_a_run_of_some_countries_rebuilds_them_and_any_country_whose_exports_changed(tmp_path, monkeypatch):
    monkeypatch.setenv("CPWH_PSEUDONYM_KEY", KEY)
    database = tmp_path / "warehouse.duckdb"
    _warehouse_with_loads(database, [(c, f"{c}-1") for c in COUNTRY_CODES])
    # No record of a last build: every country.
    assert incremental.rebuilt_countries(["KEN"], tmp_path, database, "duckdb")[0] is None
    countries, state = incremental.rebuilt_countries(None, tmp_path, database, "duckdb")
    assert countries is None and state["loads"]["KEN"] == ["KEN-1"]
    incremental.finish(state, tmp_path, "duckdb", every_model=False)  # a few models chosen in the UI
    assert incremental.rebuilt_countries(["KEN"], tmp_path, database, "duckdb")[0] is None
    incremental.finish(state, tmp_path, "duckdb", every_model=True)
    assert incremental.rebuilt_countries(["KEN"], tmp_path, database, "duckdb")[0] == ["KEN"]
    # All countries, no partition (the UI's second run of "Materialize all"), or Spark: every country.
    assert incremental.rebuilt_countries(list(COUNTRY_CODES), tmp_path, database, "duckdb")[0] is None
    assert incremental.rebuilt_countries(None, tmp_path, database, "duckdb")[0] is None
    assert incremental.rebuilt_countries(["KEN"], tmp_path, database, "spark")[0] is None
    # An export loaded since the last build (a run of raw tables only) is rebuilt too.
    with duckdb.connect(str(database)) as con:
        con.execute("insert into raw.export_loads values ('BGD-2', 'BGD', 'loaded'), ('UKR-2', 'UKR', 'failed')")
    assert incremental.rebuilt_countries(["KEN"], tmp_path, database, "duckdb")[0] == ["BGD", "KEN"]
    # Another key: the kept pseudonyms would be wrong, so every country.
    monkeypatch.setenv("CPWH_PSEUDONYM_KEY", KEY + "-other")
    assert incremental.rebuilt_countries(["KEN"], tmp_path, database, "duckdb")[0] is None
    # A build that starts forgets the last one (it may fail half way) and says a full build refreshes.
    monkeypatch.setenv("CPWH_PSEUDONYM_KEY", KEY)
    assert incremental.start(None, tmp_path, "duckdb") == ["--full-refresh"]
    assert not incremental.state_path(tmp_path).exists()
    assert incremental.rebuilt_countries(["KEN"], tmp_path, database, "duckdb")[0] is None
    assert incremental.start(["KEN"], tmp_path, "duckdb") == []
    assert incremental.start(None, tmp_path, "spark") == []


def test_a_changed_dbt_file_means_every_country(tmp_path, monkeypatch):
    monkeypatch.setenv("CPWH_PSEUDONYM_KEY", KEY)
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    for name in ("dbt_project.yml", "profiles.yml", "models/a.sql"):
        (project / name).write_text("select 1\n")
    monkeypatch.setattr(incremental, "DBT_PROJECT_DIR", project)
    before = incremental.project_fingerprint(tmp_path, "duckdb")
    assert incremental.project_fingerprint(tmp_path, "duckdb") == before
    (project / "models/a.sql").write_text("select 2\n")
    assert incremental.project_fingerprint(tmp_path, "duckdb") != before
    assert incremental.project_fingerprint(tmp_path, "spark") != incremental.project_fingerprint(tmp_path, "duckdb")


def _tables(con, catalog: str) -> list[tuple[str, str]]:
    """The tables of the layers dbt builds (the quality trend holds each build's rates, so it differs)."""
    return con.execute(
        "select table_schema, table_name from information_schema.tables where table_catalog = ?"
        " and table_schema in ('staging', 'intermediate', 'marts') and table_type = 'BASE TABLE'"
        " and table_name <> 'mart_data_quality_trend' order by 1, 2",
        [catalog],
    ).fetchall()


@pytest.mark.slow
def test_a_new_export_of_one_country_builds_the_same_tables_as_a_full_build(tmp_path):
    landing = tmp_path / "landing"
    generate_exports(landing, scale=0.005, seed=43, as_of=date(2023, 12, 31))
    kept = tmp_path / "kept"
    assert cpwh(["build", "--landing", str(landing)], kept).returncode == 0
    # Kenya's next export arrives; the sensor (or this command) builds Kenya only.
    generate_exports(landing, countries=["KEN"], scale=0.005, seed=44, as_of=date(2024, 1, 31))
    run = cpwh(["build", "--landing", str(landing), "--countries", "KEN", "--verbose"], kept)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "dbt rebuilds KEN and keeps the other countries' rows" in run.stdout + run.stderr
    compiled = kept / "dbt/target/compiled/cpwh/models/staging"
    assert "where 1 = 0" in (compiled / "bgd/stg_bgd__cases.sql").read_text()  # Bangladesh kept as it was
    assert "where 1 = 0" not in (compiled / "ken/stg_ken__cases.sql").read_text()
    assert json.loads(incremental.state_path(kept).read_text())["loads"]["KEN"]  # recorded for the next
    # Ukraine's export is loaded again with one case fewer (a corrected file, a new load id): its
    # staging drops the rows of the first load and stages the second's (by_export).
    cases = next((landing / "UKR").glob("*/cases.jsonl"))
    records = cases.read_text(encoding="utf-8").splitlines(keepends=True)
    cases.write_text("".join(records[:-1]), encoding="utf-8")
    run = cpwh(["build", "--landing", str(landing), "--countries", "UKR"], kept)
    assert run.returncode == 0, run.stderr[-3000:]
    full = tmp_path / "full"
    assert cpwh(["build", "--landing", str(landing)], full).returncode == 0
    con = duckdb.connect()
    con.execute(f"attach '{kept / 'warehouse.duckdb'}' as kept (read_only)")
    con.execute(f"attach '{full / 'warehouse.duckdb'}' as rebuilt (read_only)")
    tables = _tables(con, "kept")
    assert tables == _tables(con, "rebuilt") and len(tables) > 40
    for schema, table in tables:
        columns = con.execute(
            "select column_name from information_schema.columns where table_catalog = 'kept'"
            " and table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()
        listed = ", ".join(f'"{c}"' for (c,) in columns if c not in RUN_COLUMNS)
        differ = con.execute(
            f'select count(*) from ((select {listed} from kept."{schema}"."{table}"'
            f' except all select {listed} from rebuilt."{schema}"."{table}")'
            f' union all (select {listed} from rebuilt."{schema}"."{table}"'
            f' except all select {listed} from kept."{schema}"."{table}"))'
        ).fetchone()[0]
        assert differ == 0, f"{schema}.{table}: {differ} rows differ from a full build"
    assert con.execute("select count(*) from kept.marts.fct_cases where export_date = '2024-01-31'").fetchone()[0]
