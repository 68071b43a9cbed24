"""The warehouse runs itself: one build job, the nightly schedule, the landing-zone sensor, the
writer lock, the run history and the data-quality trend, through Dagster's own APIs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, DagsterInstance, build_schedule_context, build_sensor_context

from orchestration.automation.history import recent_runs, run_exports
from orchestration.automation.jobs import full_build_tags
from orchestration.automation.schedules import nightly_build_schedule
from orchestration.automation.status import status_text
from orchestration.definitions import build_definitions, defs
from orchestration.ingest.profiles import COUNTRY_CODES
from orchestration.resources import LandingZone, WarehouseResource
from orchestration.settings import Settings
from orchestration.warehouse import WarehouseBusy, WriterLock, connect, hold_for_reading, release_readers
from synthetic import generate_exports
from synthetic.parameters import DEFECT_CODES
from tests.conftest import KEY, cpwh

NO_DEFECTS = {code: 0.0 for code in DEFECT_CODES}
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def _tick(settings: Settings, cursor: str | None, instance: DagsterInstance | None = None):
    """One tick of the sensor, with the code location configured by these settings."""
    definitions = build_definitions(settings)
    context = build_sensor_context(
        cursor=cursor,
        instance=instance,
        definitions=definitions,
        resources={"landing_zone": LandingZone.from_settings(settings)},
    )
    return definitions.resolve_sensor_def("landing_zone").evaluate_tick(context)


def _evaluate(sensor, landing: Path, cursor: str | None, settle: float = 0.0):
    return _tick(Settings(landing.parent, landing, settle_seconds=settle), cursor)


# --- one definition of a build ---------------------------------------------------------------


def test_the_build_job_is_materialize_all():
    """`cpwh build`, the schedule, the sensor and the UI's "Materialize all" run the same assets."""
    graph = defs.resolve_asset_graph()
    job = defs.resolve_job_def("build")
    assert set(job.asset_layer.executable_asset_keys) == set(graph.executable_asset_keys)
    assert set(job.asset_layer.asset_graph.asset_check_keys) == set(graph.asset_check_keys)
    assert defs.resolve_schedule_def("nightly_build").job_name == "build"
    assert defs.resolve_sensor_def("landing_zone").job_name == "build"
    assert {"raw", "staging", "intermediate", "marts", "published"} <= {
        graph.get(key).group_name for key in graph.executable_asset_keys
    }


def test_assets_show_kinds_and_owners():
    graph = defs.resolve_asset_graph()
    assert {"duckdb", "python"} <= graph.get(AssetKey(["raw", "country_exports"])).kinds
    assert {"dbt", "duckdb", "great_expectations"} <= graph.get(AssetKey(["marts", "fct_cases"])).kinds
    assert graph.get(AssetKey(["marts", "mart_indicators"])).owners == ["team:analysis"]
    assert graph.get(AssetKey(["published", "marts"])).owners == ["team:data-engineering"]
    gx = [k for k in graph.asset_check_keys if k.asset_key == AssetKey(["marts", "fct_cases"])]
    assert any(k.name == "one_row_per_case" for k in gx), gx


def test_importing_the_code_location_changes_nothing(tmp_path):
    """No dbt parse, no environment change, no file written when the code location loads."""
    manifest = Path("dbt_project/target/manifest.json")
    stamp = manifest.stat().st_mtime_ns
    script = (
        "import os, json; before = dict(os.environ); import orchestration.definitions; "
        "print(json.dumps(dict(os.environ) == before))"
    )
    env = {**os.environ, "CPWH_HOME": str(tmp_path / "home")}
    env.pop("DAGSTER_HOME", None)
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().endswith("true")
    assert not (tmp_path / "home").exists()
    assert manifest.stat().st_mtime_ns == stamp


# --- the nightly schedule ----------------------------------------------------------------------


def test_schedule_evaluates_to_a_full_build_at_two_by_default():
    schedule = defs.resolve_schedule_def("nightly_build")
    if "CPWH_SCHEDULE_CRON" not in os.environ:
        assert schedule.cron_schedule == "0 2 * * *" and schedule.execution_timezone == "UTC"
    context = build_schedule_context(scheduled_execution_time=datetime(2026, 11, 26, 2, 0, tzinfo=UTC))
    [request] = schedule.evaluate_tick(context).run_requests
    assert request.partition_key is None
    assert full_build_tags() == {
        "dagster/asset_partition_range_start": COUNTRY_CODES[0],
        "dagster/asset_partition_range_end": COUNTRY_CODES[-1],
    }
    assert full_build_tags().items() <= request.tags.items()


def test_schedule_cron_and_timezone_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CPWH_SCHEDULE_CRON", "30 3 * * 1-5")
    monkeypatch.setenv("CPWH_SCHEDULE_TIMEZONE", "Africa/Nairobi")
    schedule = nightly_build_schedule(Settings.from_env(tmp_path))
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 3 * * 1-5", "Africa/Nairobi")


# --- the landing-zone sensor -------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_exports(tmp_path_factory) -> Path:
    """Exports of KEN and MMR at two dates, generated once: copy what a test needs."""
    source = tmp_path_factory.mktemp("exports")
    generate_exports(source, countries=["KEN", "MMR"], scale=0.002, seed=5, as_of=date(2023, 12, 31), snapshots=2)
    return source


def _deliver(source: Path, landing: Path, country: str, export_date: str) -> Path:
    target = landing / country / export_date
    shutil.copytree(source / country / export_date, target)
    return target


def test_sensor_fires_once_per_new_export_and_only_for_its_country(tiny_exports, tmp_path):
    sensor = defs.resolve_sensor_def("landing_zone")
    landing = tmp_path / "landing"
    _deliver(tiny_exports, landing, "KEN", "2023-11-30")
    _deliver(tiny_exports, landing, "MMR", "2023-11-30")

    first = _evaluate(sensor, landing, None)  # a fresh deployment: one full build of what is there
    [request] = first.run_requests
    assert full_build_tags().items() <= request.tags.items() and request.partition_key is None
    cursor = first.cursor
    assert set(json.loads(cursor)) == {"KEN/2023-11-30", "MMR/2023-11-30"}

    quiet = _evaluate(sensor, landing, cursor)
    assert not quiet.run_requests and quiet.cursor == cursor

    _deliver(tiny_exports, landing, "KEN", "2023-12-31")
    fired = _evaluate(sensor, landing, cursor)
    [request] = fired.run_requests
    assert request.partition_key == "KEN" and request.run_key.startswith("KEN:2023-12-31:")
    assert "KEN/2023-12-31" in json.loads(fired.cursor)
    assert not _evaluate(sensor, landing, fired.cursor).run_requests, "the same export fires once"

    # Re-delivered with the same contents (new modification times): nothing to do.
    shutil.rmtree(landing / "KEN/2023-12-31")
    time.sleep(0.01)
    _deliver(tiny_exports, landing, "KEN", "2023-12-31")
    redelivered = _evaluate(sensor, landing, fired.cursor)
    assert not redelivered.run_requests
    # Delivered again with other contents: a new run for that country only.
    services = next((landing / "KEN/2023-12-31").glob("*.xlsx"))
    services.write_bytes(services.read_bytes() + b"\0")
    [changed] = _evaluate(sensor, landing, redelivered.cursor).run_requests
    assert changed.partition_key == "KEN" and changed.run_key != request.run_key


def test_sensor_waits_for_ready_and_settled_files(tiny_exports, tmp_path):
    sensor = defs.resolve_sensor_def("landing_zone")
    landing = tmp_path / "landing"
    _deliver(tiny_exports, landing, "MMR", "2023-11-30")
    cursor = _evaluate(sensor, landing, None).cursor
    folder = _deliver(tiny_exports, landing, "MMR", "2023-12-31")
    (folder / "_READY").unlink()
    assert not _evaluate(sensor, landing, cursor).run_requests, "no _READY: still arriving"
    (folder / "_READY").touch()
    assert not _evaluate(sensor, landing, cursor, settle=3600).run_requests, "files changed just now"
    assert _evaluate(sensor, landing, cursor, settle=0).run_requests


def test_sensor_skips_when_the_landing_zone_is_missing(tmp_path):
    result = _evaluate(defs.resolve_sensor_def("landing_zone"), tmp_path / "nowhere", None)
    assert not result.run_requests and "does not exist" in result.skip_message


# --- the writer lock ---------------------------------------------------------------------------


def test_a_second_writer_waits_then_gives_up_naming_the_holder(tmp_path):
    holder = WriterLock(tmp_path)
    holder.acquire(1, who="run first")
    try:
        with pytest.raises(WarehouseBusy, match="run first"):
            WriterLock(tmp_path).acquire(0.5, who="run second")
    finally:
        holder.release()
    WriterLock(tmp_path).acquire(0.5, who="run third")


def test_the_checks_reader_lets_every_writer_in(tmp_path):
    """A run's checks hold the warehouse open read-only (``WarehouseResource.reading``): another
    reader of the process shares it, a writer of the process closes it first (``connect``), and the
    dbt step lets it go before dbt, another process, writes (``before_writing``). Each writer fails
    while the reader is held."""
    warehouse = WarehouseResource(home=str(tmp_path), landing=str(tmp_path / "landing"))
    with connect(warehouse.database) as con:
        con.execute("create table written as select 1 as n")
    with connect(warehouse.reading(), read_only=True) as con:
        assert con.execute("select n from written").fetchall() == [(1,)]
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "953.6 MiB"  # 1GB
    with connect(warehouse.database) as con:
        con.execute("insert into written values (2)")
    warehouse.reading()
    warehouse.before_writing()
    another = f"import duckdb; duckdb.connect({str(warehouse.database)!r}).execute('insert into written values (3)')"
    subprocess.run([sys.executable, "-c", another], check=True, timeout=60)
    hold_for_reading(warehouse.database)
    with connect(warehouse.database, read_only=True) as con:
        assert sorted(con.execute("select n from written").fetchall()) == [(1,), (2,), (3,)]
    release_readers()


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    script = (
        "import sys, time; from orchestration.warehouse import WriterLock; "
        f"lock = WriterLock({str(tmp_path)!r}); lock.acquire(5, 'killed'); print('held', flush=True); time.sleep(60)"
    )
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    assert "killed" in WriterLock(tmp_path).holder()
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert WriterLock(tmp_path).holder() is None


# --- runs through the job: history, trend, status ---------------------------------------------


@pytest.fixture(scope="module")
def sensor_home(tmp_path_factory, tiny_exports):
    """A home built as it would be in production: the first sensor tick's full build, then one new
    KEN export with many more records lacking age and date of birth (D6), run for KEN alone. An MMR
    export lands before that run starts and must wait for the next tick."""
    home = tmp_path_factory.mktemp("sensor_home")
    landing = home / "landing"
    generate_exports(
        landing, countries=["KEN", "MMR"], scale=0.002, seed=5, as_of=date(2023, 11, 30), defects=NO_DEFECTS
    )
    noisy = tmp_path_factory.mktemp("noisy")
    generate_exports(
        noisy, countries=["KEN"], scale=0.002, seed=5, as_of=date(2023, 12, 31), defects={**NO_DEFECTS, "D6": 0.3}
    )

    os.environ.update(CPWH_PSEUDONYM_KEY=KEY)
    settings = Settings.from_env(home)
    settings.ensure_dagster_home()
    settings = Settings(settings.home, settings.landing, settle_seconds=0)
    job = build_definitions(settings).resolve_job_def("build")
    runs = []
    with DagsterInstance.get() as instance:
        tick = _tick(settings, None, instance)
        [request] = tick.run_requests
        runs.append(
            job.execute_in_process(instance=instance, tags=request.tags, run_config=QUIET, raise_on_error=False)
        )
        _deliver(noisy, landing, "KEN", "2023-12-31")
        tick = _tick(settings, tick.cursor, instance)
        [request] = tick.run_requests
        _deliver(tiny_exports, landing, "MMR", "2023-12-31")  # lands after the request, before the run
        runs.append(
            job.execute_in_process(
                instance=instance,
                partition_key=request.partition_key,
                tags=request.tags,
                run_config=QUIET,
                raise_on_error=False,
            )
        )
        after = _tick(settings, tick.cursor, instance)
    return home, request, runs, after


@pytest.mark.slow
def test_sensor_run_loads_only_its_country_and_rebuilds_downstream(sensor_home):
    home, request, runs, after = sensor_home
    assert all(r.success for r in runs), [str(e) for r in runs for e in r.all_events if e.is_failure]
    assert request.partition_key == "KEN"
    loaded = run_exports(home, runs[1].run_id)
    assert {(e["country_code"], e["export_date"], e["status"]) for e in loaded} == {
        ("KEN", "2023-11-30", "unchanged"),
        ("KEN", "2023-12-31", "loaded"),
    }, "the MMR export that landed meanwhile is not part of this run"
    [pending] = after.run_requests
    assert pending.partition_key == "MMR", "the next tick picks up the export that landed during the run"
    with duckdb.connect(str(home / "published/marts.duckdb"), read_only=True) as con:
        used = dict(
            con.execute("select country_code, cast(export_date as varchar) from publication_exports").fetchall()
        )
    assert used == {"KEN": "2023-12-31", "MMR": "2023-11-30"}


@pytest.mark.slow
def test_every_run_is_in_the_history_with_its_publication(sensor_home):
    home, _, runs, _ = sensor_home
    history = recent_runs(home)
    assert [r["run_id"] for r in history] == [runs[1].run_id, runs[0].run_id]
    for record in history:
        assert record["outcome"] == "published" and record["publication_id"]
        assert record["started_at"] <= record["finished_at"]
    assert history[0]["partitions"] == "KEN" and history[1]["partitions"] == f"{COUNTRY_CODES[0]}...{COUNTRY_CODES[-1]}"
    assert history[0]["exports_used"] == {"KEN": "2023-12-31", "MMR": "2023-11-30"}
    assert history[1]["started_at"] < history[0]["started_at"]


@pytest.mark.slow
def test_quality_trend_grows_run_after_run_and_warns_on_a_jump(sensor_home):
    home, _, runs, _ = sensor_home
    with duckdb.connect(str(home / "published/marts.duckdb"), read_only=True) as con:
        trend = con.execute(
            "select run_id, country_code, rate_pct, previous_rate_pct, rate_jumped from mart_data_quality_trend"
            " where check_id = 'd6' order by built_at, country_code"
        ).fetchall()
    assert [(r[0], r[1]) for r in trend] == [
        (runs[0].run_id, "KEN"),
        (runs[0].run_id, "MMR"),
        (runs[1].run_id, "KEN"),
        (runs[1].run_id, "MMR"),
    ]
    ken_before, ken_after = trend[0], trend[2]
    assert ken_before[2] == 0 and ken_after[2] > 20 and ken_after[3] == 0 and ken_after[4] is True
    assert trend[3][4] is False, "MMR's rates did not move"
    [latest] = recent_runs(home, 1)
    assert any("assert_quality_rates_did_not_jump" in w for w in latest["warnings"]), latest["warnings"]
    assert latest["outcome"] == "published", "a warning never blocks"


@pytest.mark.slow
def test_status_reports_exports_publication_runs_warnings_and_next_run(sensor_home):
    home, _, runs, _ = sensor_home
    text = status_text(Settings.from_env(home))
    assert "KEN 2023-12-31  loaded" in text and "raw rows" in text and "MMR 2023-11-30  loaded" in text
    assert "built from: KEN 2023-12-31, MMR 2023-11-30" in text
    assert runs[1].run_id[:8] in text and "assert_quality_rates_did_not_jump" in text
    assert "Next scheduled run: " in text and "nightly_build" in text
    report = (home / "reports/report.html").read_text(encoding="utf-8")
    assert "Data quality, build after build" in report and report.count("<svg") >= 3
    assert "Recent builds" in report and runs[1].run_id not in report  # ids shown only as publication ids


@pytest.mark.slow
def test_two_builds_on_one_home_never_write_at_once(tmp_path):
    """Two `cpwh build` started together: the second waits for the first, both succeed, and their
    runs do not overlap."""
    generate_exports(tmp_path / "landing", countries=["MMR"], scale=0.002, seed=9, defects=NO_DEFECTS)
    env = {**os.environ, "CPWH_HOME": str(tmp_path), "CPWH_PSEUDONYM_KEY": KEY}
    env.pop("DAGSTER_HOME", None)
    command = [sys.executable, "-m", "orchestration.cli", "build", "--countries", "MMR"]
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while WriterLock(tmp_path).holder() is None and first.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    second = cpwh(["build", "--countries", "MMR"], tmp_path)
    first_out, first_err = first.communicate(timeout=600)
    assert first.returncode == 0, first_err[-3000:]
    assert second.returncode == 0, second.stderr[-3000:]
    assert "another build holds" in second.stderr and "waiting" in second.stderr
    earlier, later = sorted(recent_runs(tmp_path), key=lambda r: r["started_at"])
    assert earlier["finished_at"] <= later["started_at"], (earlier, later)
