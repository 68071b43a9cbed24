"""The instance's event log keeps its connections open and still reads and writes as Dagster's own."""

from __future__ import annotations

from dagster import AssetKey, AssetMaterialization, DagsterInstance, job, op

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
