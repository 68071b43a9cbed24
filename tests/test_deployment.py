"""A real deployment path: the same code location on a Dagster instance whose runs, events and
schedules live in PostgreSQL (Debian's server, started here on loopback)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from datetime import date
from pathlib import Path

import pytest
from dagster import DagsterInstance, build_sensor_context

from orchestration.automation.history import recent_runs
from orchestration.definitions import build_definitions
from orchestration.resources import LandingZone
from orchestration.settings import Settings
from synthetic import generate_exports
from tests.conftest import KEY

PG_BIN = next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)), None)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(PG_BIN is None, reason="PostgreSQL is not installed (.ci/run installs it)"),
]


def _as_postgres(command: list[str]) -> list[str]:
    """initdb refuses to run as root: run the server as Debian's postgres user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="module")
def postgres_url():
    root = Path(tempfile.mkdtemp(prefix="cpwh-pg-"))  # not under pytest's owner-only folder
    root.chmod(0o755)
    data = root / "data"
    data.mkdir()
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
        os.chown(data, user.pw_uid, user.pw_gid)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    run = dict(check=True, capture_output=True, text=True, timeout=120)
    subprocess.run(_as_postgres([f"{PG_BIN}/initdb", "-D", str(data), "-A", "trust", "-U", "cpwh"]), **run)
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root}"
    subprocess.run(
        _as_postgres([f"{PG_BIN}/pg_ctl", "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"]),
        **run,
    )
    try:
        subprocess.run(
            _as_postgres([f"{PG_BIN}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "cpwh", "dagster"]), **run
        )
        yield f"postgresql+psycopg2://cpwh@127.0.0.1:{port}/dagster"
    finally:
        subprocess.run(_as_postgres([f"{PG_BIN}/pg_ctl", "-D", str(data), "-m", "fast", "stop"]), timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def test_sensor_and_build_through_a_postgres_backed_instance(postgres_url, tmp_path, monkeypatch):
    monkeypatch.setenv("CPWH_DAGSTER_PG_URL", postgres_url)
    monkeypatch.setenv("CPWH_PSEUDONYM_KEY", KEY)
    generate_exports(tmp_path / "landing", countries=["MMR"], scale=0.002, seed=3, as_of=date(2023, 12, 31))
    settings = Settings(tmp_path.resolve(), (tmp_path / "landing").resolve(), settle_seconds=0)
    dagster_home = settings.ensure_dagster_home()
    assert "postgres_url" in (dagster_home / "dagster.yaml").read_text()
    definitions = build_definitions(settings)
    with DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        context = build_sensor_context(
            instance=instance, definitions=definitions, resources={"landing_zone": LandingZone.from_settings(settings)}
        )
        [request] = definitions.resolve_sensor_def("landing_zone").evaluate_tick(context).run_requests
        result = definitions.resolve_job_def("build").execute_in_process(
            instance=instance,
            tags=request.tags,
            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
            raise_on_error=False,
        )
        assert result.success
        [stored] = instance.get_runs()
        assert stored.run_id == result.run_id and stored.job_name == "build"
    assert not list(dagster_home.glob("**/*.db")), "nothing of the instance is kept in SQLite files"
    [run] = recent_runs(tmp_path)
    assert run["run_id"] == result.run_id and run["outcome"] == "published"
    assert (tmp_path / "published/marts.duckdb").exists()
