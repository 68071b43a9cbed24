"""End to end through a real `dagster dev` (webserver and daemon) on loopback: "Materialize all"
launched through the GraphQL API exactly as the UI does, then a new export dropped into the landing
zone and published by a sensor run, all queued behind one another."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.automation.history import recent_runs
from orchestration.paths import REPO_ROOT
from orchestration.settings import Settings
from synthetic import generate_exports
from tests.conftest import KEY, cpwh

pytestmark = pytest.mark.slow
COUNTRIES = ["KEN", "MMR"]
# The UI's own mutation (ui-core LaunchAssetChoosePartitionsDialog, "Launch backfill" of all partitions).
LAUNCH_BACKFILL = """
mutation LaunchPartitionBackfill($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}"""
BACKFILL_STATUS = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill { status } }
}"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _graphql(port: int, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.loads(response.read())
    assert "errors" not in body, body["errors"]
    return body["data"]


def _wait(condition, seconds: float, what: str, server: subprocess.Popen | None = None):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if server is not None and server.poll() is not None:
            raise AssertionError(f"dagster dev exited while waiting for {what}")
        try:
            value = condition()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def _published_tables(path: Path) -> dict[str, list]:
    """Every published table's rows, sorted; what differs between two builds by nature (the
    publication's id and time, the trend's run ids, the time each export was loaded) is left out."""
    with duckdb.connect(str(path), read_only=True) as con:
        names = [t for (t,) in con.execute("select table_name from information_schema.tables").fetchall()]
        columns = {"provenance": "* exclude (loaded_at)"}
        return {
            name: sorted(map(repr, con.execute(f"select {columns.get(name, '*')} from {name}").fetchall()))  # exact
            for name in names
            if name not in ("publication", "mart_data_quality_trend")
        }


def _report_figures(path: Path) -> str:
    """The report up to the run-by-run sections, without the times it was built and written."""
    page = path.read_text(encoding="utf-8").split('<h2 id="quality-trend">Data quality, build after build')[0]
    return re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}( UTC)?", "<time>", page)


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("ui_exports")
    generate_exports(source, countries=COUNTRIES, scale=0.002, seed=13, as_of=date(2023, 12, 31), snapshots=2)
    return source


@pytest.fixture(scope="module")
def reference(exports, tmp_path_factory) -> Path:
    """The same first exports built by `cpwh build`."""
    home = tmp_path_factory.mktemp("cli_home")
    for country in COUNTRIES:
        shutil.copytree(exports / country / "2023-11-30", home / "landing" / country / "2023-11-30")
    run = cpwh(["build", "--countries", ",".join(COUNTRIES)], home)
    assert run.returncode == 0, run.stderr[-3000:]
    return home


@pytest.fixture(scope="module")
def dagster_dev(exports, tmp_path_factory):
    home = tmp_path_factory.mktemp("ui_home")
    for country in COUNTRIES:
        shutil.copytree(exports / country / "2023-11-30", home / "landing" / country / "2023-11-30")
    env = {
        **os.environ,
        "CPWH_HOME": str(home),
        "CPWH_PSEUDONYM_KEY": KEY,
        "CPWH_SENSOR_INTERVAL_SECONDS": "5",
        "CPWH_SENSOR_SETTLE_SECONDS": "1",
        "DAGSTER_HOME": str(home / "dagster"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("CPWH_LANDING", None)
    Settings.from_env(home).ensure_dagster_home()
    port = _free_port()
    log = open(home / "dagster_dev.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait(
            lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5),
            120,
            "the webserver",
            server,
        )
        yield home, port, server
    finally:
        os.killpg(server.pid, 15)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
        log.close()


def test_materialize_all_in_the_ui_gives_what_cpwh_build_gives(dagster_dev, reference):
    home, port, server = dagster_dev
    nodes = _wait(
        lambda: _graphql(port, "{ assetNodes { assetKey { path } isExecutable isPartitioned } }")["assetNodes"],
        120,
        "the code location",
        server,
    )
    assets = [{"path": n["assetKey"]["path"]} for n in nodes if n["isExecutable"]]
    launched = _graphql(
        port,
        LAUNCH_BACKFILL,
        {
            "backfillParams": {
                "assetSelection": assets,
                "partitionNames": ["BGD", "KEN", "LBN", "MMR", "NGA", "UKR"],
                "fromFailure": False,
                "tags": [],
            }
        },
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    backfill_id = launched["backfillId"]

    def finished():
        status = _graphql(port, BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"]["status"]
        return status if status not in ("REQUESTED", "CANCELING", "FAILING") else None

    status = _wait(finished, 600, "the backfill", server)
    assert status in ("COMPLETED", "COMPLETED_SUCCESS"), (status, (home / "dagster_dev.log").read_text()[-3000:])
    ui_runs = [r for r in recent_runs(home, 50) if r["trigger"] == "backfill (UI)"]
    assert ui_runs and ui_runs[0]["outcome"] == "published", ui_runs
    assert _published_tables(home / "published/marts.duckdb") == _published_tables(reference / "published/marts.duckdb")
    assert _report_figures(home / "reports/report.html") == _report_figures(reference / "reports/report.html")


def test_a_new_export_is_published_by_a_sensor_run_within_two_minutes(dagster_dev, exports):
    home, _, server = dagster_dev
    shutil.copytree(exports / "KEN" / "2023-12-31", home / "landing" / "KEN" / "2023-12-31")
    dropped = time.time()

    def published_by_sensor():
        runs = [r for r in recent_runs(home, 50) if r["trigger"].startswith("sensor") and r["partitions"] == "KEN"]
        return runs[0] if runs and runs[0]["outcome"] == "published" else None

    run = _wait(published_by_sensor, 120, "a sensor run to publish the new export", server)
    assert time.time() - dropped <= 120
    assert run["exports_used"] == {"KEN": "2023-12-31", "MMR": "2023-11-30"}
    with duckdb.connect(str(home / "published/marts.duckdb"), read_only=True) as con:
        assert con.execute("select run_id from publication").fetchone()[0] == run["run_id"]
    # Every run of this instance (first sensor look, the UI's backfill, this one) wrote alone.
    intervals = sorted((r["started_at"], r["finished_at"]) for r in recent_runs(home, 50))
    for (_, finished), (started, _) in zip(intervals, intervals[1:], strict=False):
        assert finished <= started, intervals
