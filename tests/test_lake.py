"""The raw layer as Parquet for Spark (orchestration/ingest/lake.py): every raw row once per country
and export, the lineage kept, the keyed pseudonyms beside the ids, rewritten only when an export changes."""

from __future__ import annotations

import shutil

import duckdb

from orchestration.ingest.lake import PARTITION_COLUMN, PSEUDONYM_SUFFIX, lake_columns, mirror_countries
from orchestration.ingest.loader import load_country
from orchestration.ingest.profiles import load_profiles
from orchestration.pseudonym import pseudonym
from tests.conftest import KEY


def _mirrored(small_warehouse, tmp_path, monkeypatch):
    monkeypatch.setenv("CPWH_PSEUDONYM_KEY", KEY)
    database = tmp_path / "warehouse.duckdb"
    shutil.copyfile(small_warehouse, database)
    written = mirror_countries(database, tmp_path, list(load_profiles().values()))
    return database, written


def test_every_raw_row_is_in_the_lake_once_with_its_pseudonyms(small_warehouse, tmp_path, monkeypatch):
    database, written = _mirrored(small_warehouse, tmp_path, monkeypatch)
    assert set(written.values()) == {1}  # one export per country table
    con = duckdb.connect(str(database), read_only=True)
    for profile in load_profiles().values():
        for spec in profile.tables:
            table = profile.raw_table_name(spec.table)
            raw = con.execute(f"select count(*) from raw.{table}").fetchone()[0]
            lake = duckdb.sql(
                f"select count(*), count(distinct {PARTITION_COLUMN}) from read_parquet("
                f"'{tmp_path}/lake/raw/{table}/*/*.parquet', hive_partitioning = true)"
            ).fetchall()
            assert lake == [(raw, 1)], table
            declared = [name for name, _ in lake_columns(profile)[table]]
            present = duckdb.sql(
                f"select * from read_parquet('{tmp_path}/lake/raw/{table}/*/*.parquet', hive_partitioning = true)"
            ).columns
            assert set(declared) <= set(present), (table, set(declared) - set(present))
    # The pseudonyms are the keyed HMAC of the trimmed id; an empty id has none.
    sample = duckdb.sql(
        f"select id, id{PSEUDONYM_SUFFIX} from read_parquet('{tmp_path}/lake/raw/bgd__cases/*/*.parquet')"
    ).fetchall()
    assert len(sample) > 100
    for record_id, keyed in sample:
        expected = pseudonym(KEY.encode(), "BGD", record_id.strip()) if record_id and record_id.strip() else None
        assert keyed == expected


def test_only_a_changed_export_is_written_again(small_warehouse, small_export, tmp_path, monkeypatch):
    database, _ = _mirrored(small_warehouse, tmp_path, monkeypatch)
    profiles = list(load_profiles().values())
    again = mirror_countries(database, tmp_path, profiles)
    assert set(again.values()) == {0}
    # A second export of KEN arrives: only KEN's tables get a folder more, the first one stays.
    landing, _ = small_export
    second = tmp_path / "landing" / "KEN" / "2023-11-30"
    shutil.copytree(next((landing / "KEN").iterdir()), second)
    load_country(database, tmp_path / "landing", load_profiles()["KEN"], [second])
    written = mirror_countries(database, tmp_path, profiles)
    assert {t for t, n in written.items() if n} == {f"ken__{s.table}" for s in load_profiles()["KEN"].tables}
    assert len(list((tmp_path / "lake" / "raw" / "ken__basic_identity").iterdir())) == 2
    # Another key: every export is written again, so no pseudonym of the old key stays behind.
    monkeypatch.setenv("CPWH_PSEUDONYM_KEY", "another-key")
    rewritten = mirror_countries(database, tmp_path, profiles)
    assert rewritten["ken__basic_identity"] == 2 and rewritten["bgd__cases"] == 1
    files = list((tmp_path / "lake" / "raw" / "bgd__cases").rglob("*.parquet"))
    assert len(files) == 1


def test_the_warehouse_reads_spark_tables_and_lets_them_go(tmp_path, monkeypatch):
    """After a Spark build the layers are views over Spark's Parquet tables; a DuckDB build drops them."""
    from orchestration.transform.spark_output import attach_spark_tables, detach_spark_tables, spark_warehouse

    monkeypatch.delenv("CPWH_SPARK_WAREHOUSE", raising=False)
    table = spark_warehouse(tmp_path) / "marts.db" / "mart_indicators"
    table.mkdir(parents=True)
    duckdb.sql(f"copy (select 'BGD' as country_code, 1.5 as value) to '{table}/part-00000.parquet'")
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as con:  # a DuckDB build's table of the same name, and a view of dbt's
        con.execute("create schema marts; create table marts.mart_indicators as select 'old' as country_code")
        con.execute("create schema intermediate; create view intermediate.int_children__grouped as select 1 as n")
    assert attach_spark_tables(database, tmp_path) == ["marts.mart_indicators"]
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("select country_code, value from marts.mart_indicators").fetchall() == [("BGD", 1.5)]
    assert detach_spark_tables(database) == 1
    with duckdb.connect(str(database), read_only=True) as con:
        left = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
    assert left == [("intermediate", "int_children__grouped")]
