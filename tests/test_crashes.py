"""Crashes: a build killed with SIGKILL anywhere (load, dbt, checks, publish, report) leaves the last
good publication readable, the warehouse uncorrupted and no stale lock; the next build succeeds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.publish.publication import PUBLISHED_TABLES
from orchestration.warehouse import WriterLock
from synthetic import generate_exports
from tests.conftest import KEY, cpwh

pytestmark = pytest.mark.slow
KILLS = 10


def _wait_for_group(pgid: int, seconds: float = 30) -> None:
    """SIGKILL reaches every process of the group, but the leader can be reaped before a child (dbt)
    has exited and let go of its file locks: wait until no process of the group is left running.
    A process holds its files until its last thread is gone: its main thread shows as a zombie
    while the others still exit, so every thread is looked at."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        running = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                group = int(stat.read_text().rsplit(")", 1)[1].split()[2])
                if group != pgid:
                    continue
                states = [t.read_text().rsplit(")", 1)[1].split()[0] for t in stat.parent.glob("task/*/stat")]
            except (OSError, ValueError, IndexError):
                continue
            if any(state not in ("Z", "X") for state in states):
                running.append(stat.parent.name)
        if not running:
            return
        time.sleep(0.1)
    raise AssertionError(f"processes of the killed build still run after {seconds} s: {running}")


def _start_build(home: Path) -> subprocess.Popen:
    env = {**os.environ, "CPWH_HOME": str(home), "CPWH_PSEUDONYM_KEY": KEY}
    env.pop("DAGSTER_HOME", None)
    env.pop("CPWH_LANDING", None)
    return subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "build", "--countries", "KEN,LBN,MMR"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: dbt's subprocess dies with it
    )


def _publication_is_whole(path: Path) -> str:
    """The published file opens and holds exactly the rows its publication says; its id."""
    with duckdb.connect(str(path), read_only=True) as con:
        publication_id, expected = con.execute("select publication_id, table_rows from publication").fetchone()
        rows = sum(con.execute(f"select count(*) from {t}").fetchone()[0] for t in PUBLISHED_TABLES)
    assert rows == expected, f"publication {publication_id}: {rows} rows, says {expected}"
    return publication_id


def test_builds_killed_anywhere_leave_a_good_publication_and_recover(tmp_path):
    home = tmp_path / "home"
    generate_exports(home / "landing", countries=["KEN", "LBN", "MMR"], scale=0.005, seed=31, as_of=date(2023, 12, 31))
    assert cpwh(["build", "--countries", "KEN,LBN,MMR"], home).returncode == 0
    started = time.monotonic()
    assert cpwh(["build", "--countries", "KEN,LBN,MMR"], home).returncode == 0
    full_build = time.monotonic() - started
    published = home / "published/marts.duckdb"
    seen = {_publication_is_whole(published)}
    for k in range(1, KILLS + 1):
        build = _start_build(home)
        time.sleep(full_build * k / (KILLS + 1))
        os.killpg(build.pid, signal.SIGKILL)
        build.wait()
        _wait_for_group(build.pid)
        seen.add(_publication_is_whole(published))
        assert WriterLock(home).holder() is None, f"kill {k}: a stale writer lock"
        with duckdb.connect(str(home / "warehouse.duckdb")) as con:  # opens (recovering its WAL) and reconciles
            unbalanced = con.execute("select count(*) from intermediate.int_rows__reconciled where not is_balanced")
            assert unbalanced.fetchone()[0] == 0, f"kill {k}: the warehouse does not reconcile"
    final = cpwh(["build", "--countries", "KEN,LBN,MMR"], home)
    assert final.returncode == 0, final.stderr[-3000:]
    assert _publication_is_whole(published) not in seen, "the recovering build published anew"
    assert not list(published.parent.glob(".marts-*")), "copies left by killed builds are cleared"
