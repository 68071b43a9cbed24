"""The raw layer as Parquet, for an engine that reads files rather than the DuckDB warehouse (Spark).

With ``CPWH_ENGINE=spark`` each raw table is also written to
``<lake>/raw/<iso3>__<table>/_export_date=<date>/<load_id>-<key check>.parquet``, the lake being
``CPWH_LAKE`` (default ``$CPWH_HOME/lake``; on a cluster, a folder its nodes mount too): one folder per country
and export, Hive-style, so Spark finds the exports as partitions. The rows and lineage columns are
the raw table's; beside each id column staging pseudonymises (``Profile.id_columns``) comes
``<column>__pseudonym``, the keyed HMAC computed here with the same function as dbt-duckdb's plugin.
So Spark never needs the key, and both engines give the same pseudonyms. The load ledgers are
written whole (``raw/export_loads``, ``raw/export_files``). The DuckDB raw tables stay the record:
an export folder is rewritten only when its load or the key changed (the file name carries the
load id and the key's check value), and a folder whose export left the warehouse is removed. Each
folder is written beside its place and renamed into it, so a reader never sees half an export.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from orchestration import pseudonym
from orchestration.ingest.loader import ensure_raw_tables, raw_columns
from orchestration.ingest.profiles import Profile
from orchestration.warehouse import connect, quote_identifier

LEDGERS = ("export_loads", "export_files")
PARTITION_COLUMN = "_export_date"
PSEUDONYM_SUFFIX = "__pseudonym"
# Spark's names of the raw layer's DuckDB types.
SPARK_TYPES = {"VARCHAR": "string", "DATE": "date", "BIGINT": "bigint", "INTEGER": "int", "TIMESTAMP": "timestamp_ntz"}


def lake_root(home: Path) -> Path:
    """Where the raw Parquet goes; the Spark target reads the same setting (register_raw_sources)."""
    return Path(os.environ.get("CPWH_LAKE") or Path(home) / "lake") / "raw"


def lake_columns(profile: Profile) -> dict[str, list[tuple[str, str]]]:
    """Each raw table's columns in the lake with their Spark types, the partition column last: what
    the Spark target declares its raw tables with (``register_raw_sources``)."""
    tables = {}
    id_columns = profile.id_columns()
    for spec in profile.tables:
        table = profile.raw_table_name(spec.table)
        columns = [(c, SPARK_TYPES[kind]) for c, kind in raw_columns(spec).items() if c != PARTITION_COLUMN]
        columns += [(f"{column}{PSEUDONYM_SUFFIX}", "string") for column in id_columns.get(table, ())]
        tables[table] = [*columns, (PARTITION_COLUMN, "date")]
    return tables


def _write(con: duckdb.DuckDBPyConnection, query: str, folder: Path, name: str, parameters: dict) -> None:
    """The query's rows as ``folder/name``, replacing the folder whole. It is written under a name
    starting with a dot first: Spark skips such folders, so one left by a crash is never read.
    Values and the path are bound, never pasted into SQL."""
    staging = folder.with_name(f".{folder.name}.writing")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    con.execute(
        f"copy ({query}) to $path (format parquet, compression zstd)", {**parameters, "path": str(staging / name)}
    )
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)


def _mirror_table(con, profile: Profile, table: str, root: Path, key_check: str) -> int:
    """Rewrite the table's changed exports; remove the ones no longer loaded. Returns folders written."""
    loaded = con.execute(f"select distinct {PARTITION_COLUMN}, _load_id from raw.{quote_identifier(table)}").fetchall()
    exports = {f"{PARTITION_COLUMN}={day.isoformat()}": (day, load_id) for day, load_id in loaded}
    folder = root / table
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.iterdir():
        if stale.name not in exports:
            shutil.rmtree(stale)
    columns = [r[0] for r in con.execute(f"describe raw.{quote_identifier(table)}").fetchall()]
    selected = [quote_identifier(c) for c in columns if c != PARTITION_COLUMN]
    ids = profile.id_columns().get(table, ())
    selected += [
        f"cpwh_pseudonym($country, nullif(trim({quote_identifier(c)}), '')) as {quote_identifier(c + PSEUDONYM_SUFFIX)}"
        for c in ids
    ]
    country = {"country": profile.country_code} if ids else {}  # DuckDB refuses a parameter the query does not use
    query = (
        f"select {', '.join(selected)} from raw.{quote_identifier(table)}"
        f" where {PARTITION_COLUMN} = $day order by _source_file, _source_row, _item_index"
    )
    written = 0
    for partition, (day, load_id) in sorted(exports.items()):
        name = f"{load_id}-{key_check}.parquet"
        if (folder / partition / name).exists():
            continue
        _write(con, query, folder / partition, name, {**country, "day": day})
        written += 1
    return written


def mirror_countries(database: Path, home: Path, profiles: list[Profile]) -> dict[str, int]:
    """Bring the lake in line with the warehouse's raw layer for these countries, and the ledgers.
    Returns the export folders written per raw table."""
    root = lake_root(home)
    con = connect(database)
    try:
        key = pseudonym.load_key(home)
        pseudonym.register(con, key)
        key_check = pseudonym.key_check(key)
        written = {}
        for profile in profiles:
            ensure_raw_tables(con, profile)
            for spec in profile.tables:
                table = profile.raw_table_name(spec.table)
                written[table] = _mirror_table(con, profile, table, root, key_check)
        for ledger in LEDGERS:
            _write(con, f"select * from raw.{ledger}", root / ledger, "ledger.parquet", {})
    finally:
        con.close()
    return written
