"""The real pipeline: `cpwh build` runs the Dagster jobs (raw partitions, then dbt) on a fresh home."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, DagsterInstance

from orchestration.automation.history import recent_runs
from orchestration.ingest.profiles import COUNTRY_CODES
from synthetic import generate_exports
from tests.conftest import synthetic_exports

CPWH = [sys.executable, "-m", "orchestration.cli"]


def _run(args, home: Path, **extra):
    env = {**os.environ, "CPWH_HOME": str(home), "DO_NOT_TRACK": "1", **extra}
    env.pop("CPWH_LANDING", None)
    return subprocess.run(CPWH + args, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def broken_kenya_home(tmp_path_factory):
    """A home whose Kenyan export is broken: the other five countries must still load and build."""
    home = tmp_path_factory.mktemp("home")
    generate_exports(home / "landing", scale=0.02, seed=21)
    workbook = home / "landing/KEN/2023-12-31/cpims_export.xlsx"
    workbook.write_bytes(workbook.read_bytes()[:1000])
    result = _run(["build"], home)
    return home, result


def test_one_broken_country_does_not_stop_the_others(broken_kenya_home):
    """The other five countries load and are harmonised; the broken export's contract check blocks
    publication until it is fixed."""
    home, result = broken_kenya_home
    assert result.returncode == 1, result.stderr[-3000:]
    assert "cpims_export.xlsx" in result.stderr and "rule:" in result.stderr
    assert "every_ready_export_loaded" in result.stderr or "blocking asset check failed" in result.stderr
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        loaded = dict(con.execute("select country, status from raw.export_loads").fetchall())
        assert loaded == {**{c: "loaded" for c in COUNTRY_CODES}, "KEN": "failed"}
        assert con.execute("select count(*) from raw.ken__basic_identity").fetchone()[0] == 0
        harmonised = {c for (c,) in con.execute("select distinct country_code from marts.fct_cases").fetchall()}
        assert harmonised == set(COUNTRY_CODES) - {"KEN"}
    assert not (home / "published/marts.duckdb").exists(), "nothing published while an export is broken"


def test_the_failed_export_and_its_check_are_recorded_in_the_dagster_instance(broken_kenya_home):
    """A full build is one run over every country partition, so a country's failure is shown in the raw
    asset's metadata and by the blocking check, not as a failed partition (Dagster cannot fail one
    partition of a single-run range)."""
    home, _ = broken_kenya_home
    os.environ["DAGSTER_HOME"] = str(home / "dagster")
    with DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(AssetKey(["raw", "country_exports"]))
        loads = {x["country_code"]: x["status"] for x in event.asset_materialization.metadata["loads"].value}
        assert loads == {**{c: "loaded" for c in COUNTRY_CODES}, "KEN": "failed"}
        assert instance.get_latest_materialization_event(AssetKey(["marts", "fct_cases"])) is not None
        assert instance.get_latest_materialization_event(AssetKey(["published", "marts"])) is None
    [run] = recent_runs(home)
    assert run["outcome"] == "blocked"
    assert "intermediate/int_exports__latest:every_ready_export_loaded" in run["failing_checks"]
    assert "enabled: false" in (home / "dagster/dagster.yaml").read_text()


@pytest.mark.slow
def test_rebuilding_after_the_fix_loads_the_country(broken_kenya_home, tmp_path):
    home, _ = broken_kenya_home
    generate_exports(tmp_path, countries=["KEN"], scale=0.02, seed=21)
    fixed = tmp_path / "KEN/2023-12-31/cpims_export.xlsx"
    (home / "landing/KEN/2023-12-31/cpims_export.xlsx").write_bytes(fixed.read_bytes())
    result = _run(["build", "--countries", "KEN"], home)
    assert result.returncode == 0, result.stderr[-3000:]
    query = _run(["sql", "select count(*) as n from raw.ken__basic_identity", "--format", "csv", "--warehouse"], home)
    assert query.returncode == 0 and int(query.stdout.splitlines()[1]) > 0
    published = _run(
        ["sql", "select children_in_scope from mart_caseload_profile where country_code = 'KEN'", "--format", "csv"],
        home,
    )
    assert published.returncode == 0 and float(published.stdout.splitlines()[1]) > 0


def test_cli_help_and_exit_codes(tmp_path):
    for command in ([], ["build"], ["sql"], ["status"]):
        assert _run([*command, "--help"], tmp_path).returncode == 0
    assert synthetic_exports(["--help"], tmp_path).returncode == 0
    assert synthetic_exports(["--scale", "1000"], tmp_path).returncode == 2
    assert _run(["sql", "select 1"], tmp_path).returncode == 1, "no warehouse yet"
    # An engine that does not exist, or Spark without its environment: one line saying what to do.
    unknown = _run(["status"], tmp_path, CPWH_ENGINE="sparky")
    assert unknown.returncode == 2 and "the engines are duckdb, spark" in unknown.stderr
    (tmp_path / "landing").mkdir()
    no_spark = _run(["build", "--engine", "spark"], tmp_path, CPWH_SPARK_DBT=str(tmp_path / "no" / "dbt"))
    assert no_spark.returncode == 1 and "run 'make spark'" in no_spark.stderr


def test_generate_if_empty_leaves_existing_exports_alone(tmp_path):
    assert synthetic_exports(["--scale", "0.001", "--countries", "MMR"], tmp_path).returncode == 0
    ready = tmp_path / "landing/MMR/2023-12-31/_READY"
    stamp = ready.stat().st_mtime_ns
    result = synthetic_exports(["--if-empty", "--scale", "0.001"], tmp_path)
    assert result.returncode == 0 and "nothing generated" in result.stderr
    assert ready.stat().st_mtime_ns == stamp and not (tmp_path / "landing/BGD").exists()
