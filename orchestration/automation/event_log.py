"""Dagster's SQLite event log, with its connections kept open.

A build stores about 1,400 events (each dbt model, test and suite is one or more), and Dagster's
SQLite event log opens a new engine and connection for every write, often three per event (the
run's database, the asset index, the check index), each committing with a full sync. That cost
4 of the 37 seconds of a scale-1 build, on the main process, competing with dbt for the two
cores. This storage keeps one pooled engine per database file and commits with
``synchronous=NORMAL``, which in WAL mode loses no event when the process dies (only an operating
system crash can lose the last commits, of a history that the warehouse does not depend on).
Everything else is Dagster's own storage: the same files, tables and migrations, so the UI, the
daemon and an instance written before this change read them unchanged.

A batch of events (Dagster sends one when ``DAGSTER_EVENT_BATCH_SIZE`` is set, as ``cpwh build``
does: the planned events of a run, about 340 of them before its first step, and the
materializations of a partitioned asset) is written in one transaction per database instead of
three or four transactions per event (0.7 s of a build's start-up). Should the batch fail, Dagster
writes its events one by one, as without batches.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager

import sqlalchemy as db
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

# A long-lived process (the UI, the daemon) reads many runs: only the most recent databases stay open.
OPEN_SHARDS = 4


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` with a connection pool for each of the last databases used (a
    run's or the index)."""

    def __init__(self, base_dir: str, inst_data=None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._tables: set[str] = set()
        self._batch: _Batch | None = None
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value):  # the parent builds its own class by name
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.get(shard)
        if engine is not None:
            self._engines.move_to_end(shard)
        else:
            # SQLAlchemy pools file databases across threads (check_same_thread off); _db_lock
            # still lets one thread at a time use them, as in the parent.
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=QueuePool,
                pool_size=1,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
            db.event.listen(engine, "connect", _relaxed_sync)
            self._engines[shard] = engine
            while len(self._engines) > OPEN_SHARDS:
                self._engines.popitem(last=False)[1].dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        batch = self._batch
        if batch is not None and batch.thread == threading.get_ident():
            yield batch.connection(shard)
            return
        with self._db_lock, self._ready_engine(shard).connect() as conn, conn.begin():
            yield conn

    def _ready_engine(self, shard: str) -> Engine:
        """The database's engine, its tables created on first use (with the lock held)."""
        engine = self._engine(shard)
        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        return engine

    def _open(self, shard: str, stack: ExitStack) -> Connection:
        """A connection to a database with a transaction begun, both ended by the stack (with the lock held)."""
        conn = stack.enter_context(self._ready_engine(shard).connect())
        stack.enter_context(conn.begin())
        return conn

    def store_event_batch(self, events: Sequence) -> None:
        """The events stored as ``store_event`` stores each, in one transaction per database: all
        of them or, on an error, none (Dagster then stores them one by one)."""
        with self._db_lock, ExitStack() as stack:
            self._batch = _Batch(lambda shard: self._open(shard, stack))
            try:
                for event in events:
                    self.store_event(event)
            finally:
                self._batch = None

    def has_table(self, table_name: str) -> bool:
        """Dagster asks whether the index has a table before each asset check event (``supports_asset_checks``),
        with a new engine each time (0.3 s of a build's start, 0.6 s in all); a table that exists is
        remembered (only ``wipe`` removes tables)."""
        if table_name in self._tables:
            return True
        found = super().has_table(table_name)
        if found:
            self._tables.add(table_name)
        return found

    def _close_all(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def wipe(self) -> None:  # deletes the run databases: none may stay open
        self._close_all()
        self._tables.clear()
        super().wipe()

    def dispose(self) -> None:
        self._close_all()
        super().dispose()


class _Batch:
    """The connections of a batch being written, one per database, opened when first used, and the
    thread writing it (another thread waits for the lock, as for any write)."""

    def __init__(self, open_connection):
        self.thread = threading.get_ident()
        self._open = open_connection
        self._connections: dict[str, Connection] = {}

    def connection(self, shard: str) -> Connection:
        if shard not in self._connections:
            self._connections[shard] = self._open(shard)
        return self._connections[shard]


def _relaxed_sync(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")
