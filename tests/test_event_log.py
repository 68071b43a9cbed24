"""The instance's event log keeps its connections open and still reads and writes as Dagster's own."""

from __future__ import annotations

import pytest
from dagster import (
    AssetCheckKey,
    AssetCheckResult,
    AssetKey,
    AssetMaterialization,
    DagsterInstance,
    asset,
    asset_check,
    job,
    materialize,
    op,
)

from orchestration.automation import event_log
from orchestration.settings import Settings


@op
def record(context):
    context.log_event(AssetMaterialization(asset_key=AssetKey(["probe"]), metadata={"run": context.run_id}))


@job
def probe():
    record()


def test_runs_beyond_the_open_databases_keep_every_event(tmp_path, monkeypatch):
    monkeypatch.delenv("CPWH_DAGSTER_PG_URL", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))  # ensure_dagster_home sets it; restored after
    Settings(tmp_path, tmp_path / "landing").ensure_dagster_home()
    runs = []
    with DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, event_log.PooledSqliteEventLogStorage)
        for _ in range(event_log.OPEN_SHARDS + 2):
            runs.append(probe.execute_in_process(instance=instance).run_id)
        assert len(storage._engines) <= event_log.OPEN_SHARDS
        for run_id in runs:  # the earliest runs' databases were closed and are opened again
            events = instance.all_logs(run_id)
            assert any(e.dagster_event_type and e.dagster_event_type.value == "STEP_SUCCESS" for e in events)
        latest = instance.get_latest_materialization_event(AssetKey(["probe"]))
        assert latest.asset_materialization.metadata["run"].value == runs[-1]
        first_run_records = len(instance.get_records_for_run(runs[0]).records)
    # A second process (the UI, the daemon) reads the same files with the same class.
    with DagsterInstance.get() as reader:
        assert len(reader.get_records_for_run(runs[0]).records) == first_run_records > 0
        reader.event_log_storage.wipe()
        assert not reader.all_logs(runs[-1])


@asset(key=["probe", "batched"])
def batched_asset():
    return 1


@asset_check(asset=batched_asset)
def batched_check():
    return AssetCheckResult(passed=True)


def _instance(home, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    Settings(home, home / "landing").ensure_dagster_home()
    return DagsterInstance.get()


def _what_was_stored(instance, run_id):
    storage = instance.event_log_storage
    check = AssetCheckKey(AssetKey(["probe", "batched"]), "batched_check")
    return {
        "run": sorted(
            r.event_log_entry.dagster_event_type.value
            for r in instance.get_records_for_run(run_id).records
            if r.event_log_entry.is_dagster_event
        ),
        "planned": instance.get_latest_planned_materialization_info(AssetKey(["probe", "batched"])) is not None,
        "materialized": instance.get_latest_materialization_event(AssetKey(["probe", "batched"])) is not None,
        "check": [r.status.value for r in storage.get_asset_check_execution_history(check, limit=5)],
    }


def test_a_batch_is_stored_as_its_events_one_by_one(tmp_path, monkeypatch):
    monkeypatch.delenv("CPWH_DAGSTER_PG_URL", raising=False)
    batches = []
    store_batch = event_log.PooledSqliteEventLogStorage.store_event_batch

    def spy(self, events):
        batches.append(len(events))
        return store_batch(self, events)

    monkeypatch.setattr(event_log.PooledSqliteEventLogStorage, "store_event_batch", spy)
    stored = {}
    for size in ("0", "1000"):  # one by one, then in batches (what cpwh build sets)
        monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", size)
        with _instance(tmp_path / size, monkeypatch) as instance:
            run_id = materialize([batched_asset, batched_check], instance=instance).run_id
            stored[size] = _what_was_stored(instance, run_id)
            events = instance.all_logs(run_id)
        if size == "0":
            assert not batches
    assert batches == [2]  # the run's planned events: the asset's and the check's
    assert stored["1000"] == stored["0"]
    assert stored["0"]["check"] == ["SUCCEEDED"] and stored["0"]["materialized"]

    # A batch that fails part-way leaves none of its events; written again, all of them.
    with _instance(tmp_path / "1000", monkeypatch) as instance:
        storage = instance.event_log_storage
        copies = [event._replace(run_id="copied-run") for event in events]
        store_one = storage.store_event
        calls = []

        def failing(event):
            calls.append(event)
            if len(calls) == 3:
                raise RuntimeError("the disk is full")
            store_one(event)

        monkeypatch.setattr(storage, "store_event", failing)
        with pytest.raises(RuntimeError, match="disk is full"):
            storage.store_event_batch(copies)
        assert not instance.all_logs("copied-run")
        monkeypatch.setattr(storage, "store_event", store_one)
        storage.store_event_batch(copies)
        assert len(instance.all_logs("copied-run")) == len(copies)
