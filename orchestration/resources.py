"""Dagster resources, configured from the environment (see ``settings.py``)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from dagster import ConfigurableResource, InitResourceContext
from pydantic import PrivateAttr

from orchestration.settings import WAREHOUSE_FILE, Settings
from orchestration.warehouse import WriterLock, hold_for_reading, release_readers


class WarehouseResource(ConfigurableResource):
    """The warehouse a run writes. A run holds the home's writer lock from its start to its end,
    so two runs never write one warehouse at once, whoever started them (``cpwh build``, the
    schedule, the sensor, the UI); at its end the run is recorded in the run history."""

    home: str
    landing: str
    lock_wait_seconds: int = 6 * 3600  # a queued build waits for the running one
    accept_drop: str = ""  # countries (or ALL) whose large fall in children is accepted as real
    engine: str = "duckdb"  # what dbt builds with (settings.ENGINES)

    _lock: WriterLock | None = PrivateAttr(default=None)
    _writing_since: str | None = PrivateAttr(default=None)

    @classmethod
    def from_settings(cls, settings: Settings) -> WarehouseResource:
        return cls(
            home=str(settings.home),
            landing=str(settings.landing),
            accept_drop=",".join(settings.accept_drop),
            engine=settings.engine,
        )

    @property
    def accepted_drops(self) -> frozenset[str]:
        return frozenset(c.strip().upper() for c in self.accept_drop.split(",") if c.strip())

    def setup_for_execution(self, context: InitResourceContext) -> None:
        Settings.from_env(self.home, self.landing).secure_home()
        self._lock = WriterLock(Path(self.home))
        holder = self._lock.holder()
        if holder and context.log:
            context.log.info(f"waiting for the build that holds the warehouse ({holder})")
        self._lock.acquire(self.lock_wait_seconds, who=f"run {context.run_id}")
        self._writing_since = datetime.now(UTC).isoformat(timespec="seconds")
        # dbt reads the warehouse path from CPWH_HOME: make it this resource's, for this run's process.
        os.environ["CPWH_HOME"] = self.home

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        from orchestration.automation.history import record_run, summarise_run

        release_readers(self.database)
        try:
            if context.instance is not None and context.run_id:
                record = summarise_run(context.instance, context.run_id, started_at=self._writing_since)
                record_run(Path(self.home), record)
        finally:
            if self._lock is not None:
                self._lock.release()

    @property
    def database(self) -> Path:
        return Path(self.home) / WAREHOUSE_FILE

    def reading(self) -> Path:
        """The warehouse, held open read-only until a writer comes or the run ends (``hold_for_reading``)."""
        hold_for_reading(self.database)
        return self.database

    def before_writing(self) -> None:
        """Let go of the warehouse before another process writes it (``release_readers``)."""
        release_readers(self.database)

    @property
    def landing_path(self) -> Path:
        return Path(self.landing)


class LandingZone(ConfigurableResource):
    """Where exports arrive, for the sensor (which must not take the writer lock)."""

    path: str
    settle_seconds: float = 30.0  # a file changed more recently than this may still be copied in

    @classmethod
    def from_settings(cls, settings: Settings) -> LandingZone:
        return cls(path=str(settings.landing), settle_seconds=settings.settle_seconds)
