"""What a Spark build wrote, seen from the DuckDB warehouse.

dbt-spark writes each model as a Parquet table under ``<spark warehouse>/<layer>.db/<model>``, the
Spark warehouse being ``CPWH_SPARK_WAREHOUSE`` (default ``$CPWH_HOME/spark/warehouse``; the spark
target of profiles.yml reads the same setting).
The steps after dbt (the Great Expectations suites, publication, the report, ``cpwh sql --warehouse``)
read the warehouse file; after a Spark build each of its layers' tables there becomes a view over the
Parquet files Spark wrote, so those steps check and publish exactly what Spark built, unchanged.
Before a DuckDB build those views go again (``detach_spark_tables``): dbt-duckdb writes tables.
The models dbt makes views (``int_*__unioned``, ``int_children__grouped``) are views in Spark's
catalog, with no Parquet files: they are not attached, and nothing after dbt reads them.
"""

from __future__ import annotations

import os
from pathlib import Path

from orchestration.warehouse import connect, quote_identifier

LAYERS = ("reference", "staging", "intermediate", "marts")


def spark_warehouse(home: Path) -> Path:
    return Path(os.environ.get("CPWH_SPARK_WAREHOUSE") or Path(home) / "spark" / "warehouse")


def attach_spark_tables(database: Path, home: Path) -> list[str]:
    """Point the warehouse's layers at the tables of the last Spark build; returns their names."""
    attached = []
    con = connect(database)
    try:
        for layer in LAYERS:
            folder = spark_warehouse(home) / f"{layer}.db"
            if not folder.is_dir():
                continue
            con.execute(f"create schema if not exists {quote_identifier(layer)}")
            kinds = dict(
                con.execute(
                    "select table_name, table_type from information_schema.tables where table_schema = ?", [layer]
                ).fetchall()
            )
            for table in sorted(p for p in folder.iterdir() if p.is_dir() and any(p.glob("*.parquet"))):
                name = f"{quote_identifier(layer)}.{quote_identifier(table.name)}"
                if kinds.get(table.name) == "BASE TABLE":
                    con.execute(f"drop table {name}")
                files = str(table / "*.parquet").replace("'", "''")
                con.execute(f"create or replace view {name} as select * from read_parquet('{files}')")
                attached.append(f"{layer}.{table.name}")
    finally:
        con.close()
    return attached


def detach_spark_tables(database: Path) -> int:
    """Drop the views an earlier Spark build left in the layers: those over Parquet files. The
    models dbt itself makes views (the unioned rows, the children's groups) stay."""
    con = connect(database)
    try:
        views = con.execute(
            "select schema_name, view_name from duckdb_views() where not internal and schema_name in ?"
            " and sql like '%read_parquet(%'",
            [list(LAYERS)],
        ).fetchall()
        for schema, view in views:
            con.execute(f"drop view {quote_identifier(schema)}.{quote_identifier(view)}")
    finally:
        con.close()
    return len(views)
