"""Settings from the environment, each also a ``cpwh`` option, with safe defaults.

``CPWH_ENGINE`` (default ``duckdb``; or ``spark``) is the engine dbt builds with (``ENGINES``).
``CPWH_HOME`` (default ``./data``) holds the warehouse, the Dagster instance and the published
files; ``CPWH_LANDING`` (default ``$CPWH_HOME/landing``) is where exports arrive. The nightly
schedule is ``CPWH_SCHEDULE_CRON`` (default ``0 2 * * *``) in ``CPWH_SCHEDULE_TIMEZONE`` (default
``UTC``); the landing-zone sensor looks every ``CPWH_SENSOR_INTERVAL_SECONDS`` (default 30) and
takes an export once its files have not changed for ``CPWH_SENSOR_SETTLE_SECONDS`` (default 30).
With ``CPWH_DAGSTER_PG_URL`` set, the Dagster instance keeps its runs, events and schedules in
that PostgreSQL database instead of SQLite files under ``$CPWH_HOME/dagster``.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

# Nothing may reach the network at run time: dbt and GX telemetry off wherever we run.
OFFLINE_ENVIRONMENT = {
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "GX_ANALYTICS_ENABLED": "false",
}
# Dagster stores the events it sends as a batch (a run's planned events, a partitioned asset's
# materializations) with one transaction per database (orchestration/automation/event_log.py).
# `make ui` passes it to the UI and the daemon too.
EVENT_BATCH_ENVIRONMENT = {"DAGSTER_EVENT_BATCH_SIZE": "1000"}
WAREHOUSE_FILE = "warehouse.duckdb"  # in the home; dbt finds it too (transform/dbt_plugins/warehouse_home.py)
# The engines dbt builds the warehouse with: each is a target of dbt_project/profiles.yml.
ENGINES = ("duckdb", "spark")
WAREHOUSE_WRITER_TAG = "cpwh/writes"  # every run that writes the warehouse carries it
DAGSTER_YAML = """\
# Written by cpwh on every build and `make ui`: the Dagster instance of this warehouse.
telemetry:
  enabled: false
nux:
  enabled: false  # no first-visit "join the community" pop-up in the UI
concurrency:
  # No op pools: a run killed while holding a pool slot would keep it, and every later run would wait
  # for it forever. One writer is the writer lock's job (it dies with its process).
  runs:
    # Every run of this code location writes the warehouse: runs started by the daemon (schedule,
    # sensor, UI, backfills) wait in the queue, one at a time. `cpwh build` also takes the writer lock.
    max_concurrent_runs: 1
run_monitoring:
  enabled: true
  start_timeout_seconds: 300
"""
# Dagster's SQLite event log in the same files, with connections kept open (see automation/event_log.py).
SQLITE_EVENT_LOG = """\
event_log_storage:
  module: orchestration.automation.event_log
  class: PooledSqliteEventLogStorage
  config:
    base_dir: {base_dir}
"""
POSTGRES_STORAGE = """\
storage:
  postgres:
    postgres_url:
      env: CPWH_DAGSTER_PG_URL
"""


@dataclass(frozen=True)
class Settings:
    home: Path
    landing: Path
    schedule_cron: str = "0 2 * * *"
    schedule_timezone: str = "UTC"
    sensor_interval_seconds: int = 30
    settle_seconds: float = 30.0
    accept_drop: tuple[str, ...] = ()
    engine: str = "duckdb"

    @classmethod
    def from_env(cls, home: str | Path | None = None, landing: str | Path | None = None) -> Settings:
        home_path = Path(home or os.environ.get("CPWH_HOME") or "data").resolve()
        landing_path = Path(landing or os.environ.get("CPWH_LANDING") or home_path / "landing").resolve()
        return cls(
            home_path,
            landing_path,
            schedule_cron=os.environ.get("CPWH_SCHEDULE_CRON") or cls.schedule_cron,
            schedule_timezone=os.environ.get("CPWH_SCHEDULE_TIMEZONE") or cls.schedule_timezone,
            sensor_interval_seconds=int(os.environ.get("CPWH_SENSOR_INTERVAL_SECONDS") or cls.sensor_interval_seconds),
            settle_seconds=float(os.environ.get("CPWH_SENSOR_SETTLE_SECONDS") or cls.settle_seconds),
            accept_drop=tuple(
                c.strip().upper() for c in os.environ.get("CPWH_ACCEPT_DROP", "").split(",") if c.strip()
            ),
            engine=_engine(os.environ.get("CPWH_ENGINE") or cls.engine),
        )

    @property
    def warehouse(self) -> Path:
        return self.home / WAREHOUSE_FILE

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    def secure_home(self) -> None:
        """The home holds children's records (raw tables, the pseudonym key, the landing zone by
        default): the folder is owner-only, and so is every file this process creates."""
        os.umask(0o077)
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.home.stat().st_uid == os.getuid():
            self.home.chmod(0o700)

    def export_to_environment(self) -> None:
        """Make these settings the process's (the command line does this; importing code never does)."""
        self.secure_home()
        os.environ["CPWH_HOME"] = str(self.home)
        os.environ["CPWH_LANDING"] = str(self.landing)
        os.environ["CPWH_ENGINE"] = self.engine
        for key, value in {**OFFLINE_ENVIRONMENT, **EVENT_BATCH_ENVIRONMENT}.items():
            os.environ.setdefault(key, value)
        use_this_python_environment()

    def ensure_dagster_home(self) -> Path:
        """Write the instance's dagster.yaml (always: it is ours) and point DAGSTER_HOME at it."""
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        config = DAGSTER_YAML
        if os.environ.get("CPWH_DAGSTER_PG_URL"):
            config += POSTGRES_STORAGE
        else:
            config += SQLITE_EVENT_LOG.format(base_dir=json.dumps(str(self.dagster_home / "history" / "runs")))
        (self.dagster_home / "dagster.yaml").write_text(config, encoding="utf-8")
        os.environ["DAGSTER_HOME"] = str(self.dagster_home)
        return self.dagster_home


class SettingsError(ValueError):
    """A setting in the environment that cannot be used: which one, its value, and what it may be."""


def _engine(name: str) -> str:
    engine = name.strip().lower()
    if engine not in ENGINES:
        raise SettingsError(f"CPWH_ENGINE is {name!r}: the engines are {', '.join(ENGINES)}")
    return engine


def use_this_python_environment() -> None:
    """Put this interpreter's scripts (dbt, dagster) first on PATH, also when the venv is not activated."""
    scripts = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != scripts:
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")
