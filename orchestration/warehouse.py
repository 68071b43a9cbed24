"""Opening the embedded DuckDB warehouse: one writing process at a time, so wait for the lock."""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb


def connect(database: Path, read_only: bool = False, attempts: int | None = None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, waiting (``CPWH_LOCK_WAIT_SECONDS``, default 60) while another process
    holds its write lock."""
    if not read_only:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    attempts = attempts or max(1, int(os.environ.get("CPWH_LOCK_WAIT_SECONDS", "60")))
    for attempt in range(attempts):
        try:
            con = duckdb.connect(str(database), read_only=read_only)
            con.execute("set enable_progress_bar = false")  # no terminal bars in logs
            return con
        except duckdb.IOException as error:
            if "lock" not in str(error).lower() or attempt == attempts - 1:
                raise
            time.sleep(1.0)
    raise AssertionError("unreachable")
