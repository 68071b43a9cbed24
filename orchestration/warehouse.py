"""Opening the embedded DuckDB warehouse: one writing process at a time, so wait for the lock."""

from __future__ import annotations

import fcntl
import os
import re
import threading
import time
from pathlib import Path

import duckdb

_IDENTIFIER = re.compile(r"[A-Za-z0-9_]+")
# DuckDB would take 80 % of the machine's memory; a bounded build spills to disk instead, into
# DuckDB's default folder beside the file (warehouse.duckdb.tmp, inside the owner-only home).
# The processes that write here (the loader, publication) append rows and run small queries while
# holding a workbook or a batch in memory: 1GB is plenty. dbt's transformations get their own limit
# in the dbt profile (CPWH_DUCKDB_MEMORY_LIMIT, default 4GB).
WRITER_CONFIG = {"memory_limit": "1GB"}
READER_MEMORY_LIMIT = "1GB"  # the reader a run's checks hold open (hold_for_reading): a country at a time


def quote_identifier(name: str) -> str:
    """A table or column name for SQL text, quoted. Values always travel as bound parameters; names
    cannot, so every name that reaches SQL passes here. Names come from profiles or are normalised
    by ``raw_column_name`` to letters, digits and underscores: anything else is refused, never pasted."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a safe SQL identifier: {name[:60]!r} (only letters, digits and underscores)")
    return f'"{name}"'


def connect(database: Path, read_only: bool = False, attempts: int | None = None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, waiting (``CPWH_LOCK_WAIT_SECONDS``, default 60) while another process
    holds its write lock."""
    if not read_only:
        release_readers(database)  # DuckDB refuses a writer beside a reader of this process
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    attempts = attempts or max(1, int(os.environ.get("CPWH_LOCK_WAIT_SECONDS", "60")))
    for attempt in range(attempts):
        try:
            # Readers keep DuckDB's defaults: a process may already hold the file open read-only
            # (DuckDB refuses a second connection to it with another configuration).
            config = {} if read_only else WRITER_CONFIG
            con = duckdb.connect(str(database), read_only=read_only, config=config)
            con.execute("set enable_progress_bar = false")  # no terminal bars in logs
            return con
        except duckdb.IOException as error:
            if "lock" not in str(error).lower() or attempt == attempts - 1:
                raise
            time.sleep(1.0)
    raise AssertionError("unreachable")


_held_readers: dict[str, duckdb.DuckDBPyConnection] = {}
_held_lock = threading.Lock()


def hold_for_reading(database: Path) -> None:
    """Keep a read-only connection to ``database`` open in this process until ``release_readers``.
    Opening the warehouse reads its catalog (about 25 ms for its 70 tables, 5 ms to close it); while
    one connection is open, DuckDB gives every other read-only connection of this process the same
    database (0.1 ms). A run's checks open the warehouse once per suite, about twenty times. No
    writer may come while it is held: ``connect`` releases it before writing, and the dbt step
    before dbt (another process) writes; the run releases it at its end."""
    key = str(Path(database).resolve())
    with _held_lock:
        if key not in _held_readers:
            held = connect(database, read_only=True)
            # The blocks it reads stay in DuckDB's buffer pool while it is open, across every suite:
            # bounded as the writers' are (the default is 80 % of the machine), for scale 100.
            held.execute(f"set memory_limit = '{READER_MEMORY_LIMIT}'")
            _held_readers[key] = held


def release_readers(database: Path | None = None) -> None:
    """Close the held read-only connection of ``database`` (of every database without one)."""
    key = None if database is None else str(Path(database).resolve())
    with _held_lock:
        for held in [k for k in _held_readers if key in (None, k)]:
            _held_readers.pop(held).close()


class WarehouseBusy(Exception):
    """Another build holds the warehouse's writer lock and did not let go in time."""


class WriterLock:
    """One build writes a home at a time: an advisory lock on ``$CPWH_HOME/.writer.lock``.

    The operating system releases it when the holding process ends, however it ends (a crash or
    SIGKILL included), so a lock is never left stale. The file says who holds it, for messages.
    """

    def __init__(self, home: Path):
        self.path = Path(home) / ".writer.lock"
        self._handle = None

    def holder(self) -> str | None:
        """Who holds the lock now (``pid … since …``), or None when it is free."""
        if self._try_acquire():
            self.release()
            return None
        try:
            return self.path.read_text(encoding="utf-8").strip() or "another process"
        except OSError:
            return "another process"

    def acquire(self, timeout_seconds: float, who: str) -> None:
        deadline = time.monotonic() + timeout_seconds
        while not self._try_acquire():
            if time.monotonic() >= deadline:
                raise WarehouseBusy(
                    f"{self.path.parent}: another build holds the warehouse ({self.holder()}); "
                    f"gave up after {timeout_seconds:.0f} s"
                )
            time.sleep(0.5)
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.write(f"pid {os.getpid()} {who} since {time.strftime('%Y-%m-%d %H:%M:%S')}")
        self._handle.flush()

    def _try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._handle = handle
        return True

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
