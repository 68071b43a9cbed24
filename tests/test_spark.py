"""The same dbt project on Apache Spark: one set of generated exports (fixed seed, every defect)
built by `cpwh build --engine duckdb` and `cpwh build --engine spark` into two homes, then compared
table by table. Spark runs in local mode from `.venv-spark` (`make spark`) and needs Java 17."""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.ingest.lake import PSEUDONYM_SUFFIX, lake_root
from orchestration.settings import ENGINES
from orchestration.transform.dbt_project import SPARK_DBT_EXECUTABLE
from orchestration.transform.spark_output import LAYERS, spark_warehouse
from synthetic import generate_exports
from synthetic.parameters import DEFECT_CODES
from tests.conftest import KEY, cpwh, run_dbt_unit_tests

pytestmark = pytest.mark.slow
THE_REVIEWS_MARTS = ("mart_indicators", "mart_sex_differences", "mart_data_quality")
# Appended per build, with the run's id and time: not a figure of the data.
PER_RUN_TABLES = {"mart_data_quality_trend"}


def _spark_or_skip() -> None:
    spark_dbt = Path(os.environ.get("CPWH_SPARK_DBT") or SPARK_DBT_EXECUTABLE)
    missing = [what for what, ok in (("java", shutil.which("java")), (str(spark_dbt), spark_dbt.exists())) if not ok]
    if missing:
        message = f"Spark is not installed here ({', '.join(missing)} missing): `make spark` and Java 17"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs both: a skip there would hide a broken engine
        pytest.skip(message)


@pytest.fixture(scope="module")
def engine_homes(tmp_path_factory) -> dict[str, Path]:
    _spark_or_skip()
    root = tmp_path_factory.mktemp("engines")
    landing = root / "landing"
    generate_exports(landing, scale=0.03, seed=41, defects={code: 0.04 for code in DEFECT_CODES})
    homes = {}
    for engine in ENGINES:
        homes[engine] = root / engine
        run = cpwh(["build", "--engine", engine, "--landing", str(landing)], homes[engine], timeout=1800)
        assert run.returncode == 0, f"{engine}: " + run.stdout[-3000:] + run.stderr[-3000:]
    return homes


def _warehouse(home: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)


def _rows(con, table: str) -> tuple[list[str], list[tuple]]:
    """The table's rows in one order: by every column that is not a floating number, then the rest."""
    columns = con.execute(f"select * from {table} limit 0").description
    names = [c[0] for c in columns]
    exact = [f'"{c[0]}"' for c in columns if c[1] not in ("DOUBLE", "FLOAT")]
    floating = [f'"{c[0]}"' for c in columns if c[1] in ("DOUBLE", "FLOAT")]
    order = ", ".join(exact + floating) or "1"
    return names, con.execute(f"select * from {table} order by {order}").fetchall()


def _differences(table: str, duck, spark) -> list[str]:
    names, left = _rows(duck, table)
    spark_names, right = _rows(spark, table)
    if names != spark_names:
        return [f"{table}: columns {names} on DuckDB, {spark_names} on Spark"]
    if len(left) != len(right):
        return [f"{table}: {len(left)} rows on DuckDB, {len(right)} on Spark"]
    found = []
    for number, (a, b) in enumerate(zip(left, right, strict=True)):
        for name, x, y in zip(names, a, b, strict=True):
            if isinstance(x, float) and isinstance(y, float):
                same = abs(x - y) <= 1e-9 or (math.isnan(x) and math.isnan(y))
            else:
                same = x == y and type(x) is type(y)
            if not same:
                found.append(f"{table} row {number} {name}: DuckDB {x!r}, Spark {y!r}")
    return found


def test_the_reviews_marts_are_equal_row_for_row(engine_homes):
    with _warehouse(engine_homes["duckdb"]) as duck, _warehouse(engine_homes["spark"]) as spark:
        for mart in THE_REVIEWS_MARTS:
            table = f"marts.{mart}"
            assert duck.execute(f"select count(*) from {table}").fetchone()[0] > 100
            assert _differences(table, duck, spark) == []


def test_every_table_of_every_layer_is_equal(engine_homes):
    """Seeds, staging (the pseudonyms included), intermediate and marts: the whole warehouse."""
    with _warehouse(engine_homes["duckdb"]) as duck, _warehouse(engine_homes["spark"]) as spark:
        # Tables only: the models dbt makes views (the unioned rows, the children's groups) are views in
        # Spark's catalog, not attached to the warehouse file; every table they feed is compared.
        tables = duck.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
            " where table_schema in ? and table_type = 'BASE TABLE' order by 1",
            [list(LAYERS)],
        ).fetchall()
        names = [t for (t,) in tables if t.split(".")[1] not in PER_RUN_TABLES]
        assert len(names) > 50
        differences = [d for table in names for d in _differences(table, duck, spark)]
        assert differences[:20] == []


def test_the_reconciliation_balances_on_both(engine_homes):
    for engine, home in engine_homes.items():
        with _warehouse(home) as con:
            rows = con.execute(
                "select count(*), count(*) filter (where not is_balanced) from intermediate.int_rows__reconciled"
            ).fetchone()
            assert rows[0] > 0 and rows[1] == 0, engine


def test_spark_built_the_tables_the_checks_and_publication_read(engine_homes):
    home = engine_homes["spark"]
    with _warehouse(home) as con:
        views = dict(
            con.execute(
                "select schema_name || '.' || view_name, sql from duckdb_views()"
                " where not internal and schema_name in ?",
                [list(LAYERS)],
            ).fetchall()
        )
    assert str(spark_warehouse(home) / "marts.db" / "mart_indicators") in views["marts.mart_indicators"]
    assert len(views) > 50
    # The raw layer Spark read: one folder per country table and export, the pseudonyms beside the ids.
    cases = lake_root(home) / "bgd__cases" / "_export_date=2023-12-31"
    columns = duckdb.sql(f"select * from read_parquet('{cases}/*.parquet') limit 0").columns
    assert f"id{PSEUDONYM_SUFFIX}" in columns and "_load_id" in columns
    with duckdb.connect(str(home / "published" / "marts.duckdb"), read_only=True) as published:
        run = published.execute("select count(*) from mart_indicators").fetchone()[0]
    assert run > 100
    # Spark's console progress bar would break dbt's JSON events (dagster-dbt then misses models
    # and skips publication at larger scales): the profile turns it off.
    assert not [p for p in (home / "logs").glob("build-*.log") if "[Stage " in p.read_text(errors="replace")]


def test_both_publications_hold_the_same_figures(engine_homes):
    paths = {engine: home / "published" / "marts.duckdb" for engine, home in engine_homes.items()}
    with (
        duckdb.connect(str(paths["duckdb"]), read_only=True) as duck,
        duckdb.connect(str(paths["spark"]), read_only=True) as spark,
    ):
        tables = [t for (t,) in duck.execute("select table_name from information_schema.tables").fetchall()]
        figures = [t for t in tables if t.startswith(("mart_", "dim_")) and t not in PER_RUN_TABLES]
        assert len(figures) > 10
        assert [d for table in figures for d in _differences(table, duck, spark)] == []


def test_the_key_appears_in_no_file_of_the_spark_home(engine_homes):
    """The pseudonym key (here from the environment) is in no SQL, log, lake or Spark file."""
    home = engine_homes["spark"]
    key = KEY.encode()
    files = [p for p in home.rglob("*") if p.is_file() and not p.is_symlink()]
    assert any(p.suffix == ".sql" for p in files) and any(p.suffix == ".parquet" for p in files)
    holding = [str(p.relative_to(home)) for p in files if key in p.read_bytes()]
    assert holding == []


def test_the_dbt_unit_tests_pass_on_spark(engine_homes, monkeypatch):
    """dbt's unit tests, which builds leave out (tests/test_indicators.py runs them on DuckDB), on
    Spark: the rules' portable SQL (the chi-square p-value among them) gives the rows the YAML expects."""
    home = engine_homes["spark"]
    monkeypatch.setenv("CPWH_HOME", str(home))
    declared, tested = run_dbt_unit_tests(home, "spark")
    assert declared and tested == dict.fromkeys(declared, "pass")
