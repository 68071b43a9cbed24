"""Run history: every build attempt, its outcome, the exports it used and what it published.

A small SQLite file beside the warehouse (``$CPWH_HOME/history.sqlite``): SQLite lets ``cpwh status``
and the report read it while a build writes it, which the single-writer DuckDB warehouse does not.
The warehouse resource records each run when the run ends, from the run's own Dagster events, so a
run started by ``cpwh build``, the schedule, the sensor or the UI is recorded the same way; a run
that fails or is stopped by a blocking check is recorded too, with the failing check or error.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from dagster import AssetCheckSeverity, DagsterEventType, DagsterInstance
from dagster._core.storage.tags import BACKFILL_ID_TAG, SCHEDULE_NAME_TAG, SENSOR_NAME_TAG

TRIGGER_TAG = "cpwh/trigger"
RAW_EXPORTS = "raw/country_exports"
PUBLISHED = "published/marts"
SCHEMA = """
create table if not exists build_runs (
    run_id text primary key,
    job text not null,
    trigger text not null,
    partitions text,
    started_at text not null,       -- when the run took the writer lock
    finished_at text not null,
    outcome text not null,          -- published | blocked | failed | succeeded
    publication_id text,
    exports_used text,              -- JSON: country -> export date the published marts rest on
    failing_checks text,            -- JSON: blocking checks that failed
    warnings text,                  -- JSON: warning checks that failed
    error text
);
create table if not exists export_attempts (
    run_id text not null,
    country_code text not null,
    export_date text,
    status text not null,           -- loaded | unchanged | failed
    load_id text,
    rows_loaded integer,
    error text,
    attempted_at text not null
);
"""


def history_path(home: Path) -> Path:
    return Path(home) / "history.sqlite"


def connect(home: Path) -> sqlite3.Connection:
    con = sqlite3.connect(history_path(home), timeout=30)
    con.executescript(SCHEMA)
    return con


@dataclass
class RunRecord:
    run_id: str
    job: str
    trigger: str
    partitions: str
    started_at: str
    finished_at: str
    outcome: str = "succeeded"
    publication_id: str | None = None
    exports_used: dict[str, str] = field(default_factory=dict)
    failing_checks: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    loads: list[dict] = field(default_factory=list)


def _trigger(tags: dict[str, str]) -> str:
    if SCHEDULE_NAME_TAG in tags:
        return f"schedule {tags[SCHEDULE_NAME_TAG]}"
    if SENSOR_NAME_TAG in tags:
        return f"sensor {tags[SENSOR_NAME_TAG]}"
    if BACKFILL_ID_TAG in tags:
        return "backfill (UI)"
    return tags.get(TRIGGER_TAG, "UI")


def _partitions(tags: dict[str, str]) -> str:
    if "dagster/partition" in tags:
        return tags["dagster/partition"]
    start, end = tags.get("dagster/asset_partition_range_start"), tags.get("dagster/asset_partition_range_end")
    return f"{start}...{end}" if start else ""


def _innermost(error) -> str:
    """Dagster wraps the cause ("Error occurred while executing op …"): keep what went wrong."""
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


def _check_name(data) -> str:
    return f"{data.asset_key.to_user_string()}:{data.check_name}"


def summarise_run(instance: DagsterInstance, run_id: str, started_at: str | None = None) -> RunRecord:
    """What the run did, from its event log (called as the run ends). ``started_at`` is when it
    began to write (took the writer lock); by default, the run's start."""
    run = instance.get_run_by_id(run_id)
    tags = dict(run.tags) if run else {}
    now = datetime.now(UTC).isoformat(timespec="seconds")
    record = RunRecord(
        run_id=run_id,
        job=run.job_name if run else "?",
        trigger=_trigger(tags),
        partitions=_partitions(tags),
        started_at=now,
        finished_at=now,
    )
    errors, loads = [], {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type == DagsterEventType.RUN_START and not started_at:
            record.started_at = datetime.fromtimestamp(entry.timestamp, UTC).isoformat(timespec="seconds")
        elif event.event_type == DagsterEventType.STEP_FAILURE:
            errors.append(f"{event.step_key}: {_innermost(event.step_failure_data.error)}")
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            data = event.asset_check_evaluation_data
            if not data.passed:
                blocking = data.severity == AssetCheckSeverity.ERROR
                (record.failing_checks if blocking else record.warnings).append(_check_name(data))
        elif event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.step_materialization_data.materialization
            key, metadata = materialization.asset_key.to_user_string(), materialization.metadata
            if key == RAW_EXPORTS and "loads" in metadata:
                for load in metadata["loads"].value:
                    loads[(load["country_code"], load["export_date"])] = load
            elif key == PUBLISHED:
                record.publication_id = metadata["publication_id"].value
                record.exports_used = dict(metadata["exports_used"].value)
    record.started_at = started_at or record.started_at
    record.loads = list(loads.values())
    record.failing_checks = sorted(set(record.failing_checks))
    record.warnings = sorted(set(record.warnings))
    if errors:
        record.error = "\n".join(errors)[:4000]
    if record.failing_checks:
        record.outcome = "blocked"
    elif errors:
        record.outcome = "failed"  # a publication that this run made before failing stays in publication_id
    elif record.publication_id:
        record.outcome = "published"
    return record


def record_run(home: Path, record: RunRecord) -> None:
    with closing(connect(home)) as con, con:
        con.execute("delete from build_runs where run_id = ?", [record.run_id])
        con.execute("delete from export_attempts where run_id = ?", [record.run_id])
        con.execute(
            "insert into build_runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                record.run_id,
                record.job,
                record.trigger,
                record.partitions,
                record.started_at,
                record.finished_at,
                record.outcome,
                record.publication_id,
                json.dumps(record.exports_used, sort_keys=True),
                json.dumps(record.failing_checks),
                json.dumps(record.warnings),
                record.error,
            ],
        )
        con.executemany(
            "insert into export_attempts values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    record.run_id,
                    load["country_code"],
                    load["export_date"],
                    load["status"],
                    load.get("load_id"),
                    load.get("rows"),
                    load.get("error"),
                    record.finished_at,
                ]
                for load in record.loads
            ],
        )


def _rows(home: Path, query: str, parameters: Iterable = ()) -> list[dict]:
    if not history_path(home).exists():
        return []
    with closing(connect(home)) as con:
        con.row_factory = sqlite3.Row
        return [dict(row) for row in con.execute(query, list(parameters))]


def _decoded(run: dict) -> dict:
    for column in ("exports_used", "failing_checks", "warnings"):
        run[column] = json.loads(run[column] or "null")
    return run


def recent_runs(home: Path, limit: int = 10) -> list[dict]:
    runs = _rows(home, "select * from build_runs order by finished_at desc, started_at desc limit ?", [limit])
    return [_decoded(run) for run in runs]


def get_run(home: Path, run_id: str) -> dict | None:
    """One run's record, or None when the run never recorded itself (it did not start, or was killed)."""
    runs = _rows(home, "select * from build_runs where run_id = ?", [run_id])
    return _decoded(runs[0]) if runs else None


def latest_exports(home: Path) -> list[dict]:
    """Per country, the newest export attempted and how its latest attempt went."""
    return _rows(
        home,
        """
        select country_code, export_date, status, rows_loaded, error, attempted_at from (
            select *, row_number() over (
                partition by country_code order by export_date desc, attempted_at desc, rowid desc
            ) as newest
            from export_attempts
        ) where newest = 1 order by country_code
        """,
    )


def run_exports(home: Path, run_id: str) -> list[dict]:
    """The exports one run attempted to load, with their outcome."""
    return _rows(
        home,
        "select country_code, export_date, status, rows_loaded, error from export_attempts where run_id = ?"
        " order by country_code, export_date",
        [run_id],
    )
