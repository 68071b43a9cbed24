"""Shared fixtures: small generated exports with fixed seeds, loaded into a real DuckDB file."""

from __future__ import annotations

import fcntl
import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.ingest.loader import load_country
from orchestration.ingest.profiles import load_profiles
from orchestration.pseudonym import pseudonym
from orchestration.transform.dbt_project import dbt_project, dbt_resource, prepare_manifest
from orchestration.transform.warm_start import dbt_target_path
from synthetic import generate_exports
from synthetic.parameters import DEFECT_CODES

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
prepare_manifest()  # as `make` does; the code location never parses dbt itself

ROOT = Path(__file__).resolve().parent.parent
SMALL_SCALE = 0.03
SMALL_SEED = 11
KEY = "test-key-not-a-secret"
EXPORT = "2023-12-31"


def cpwh(args: list[str], home: Path, timeout: int = 900, **extra_env) -> subprocess.CompletedProcess:
    """Run the command line in a fresh process on ``home`` (no settings leak in from this one)."""
    env = {**os.environ, "CPWH_HOME": str(home), "CPWH_PSEUDONYM_KEY": KEY, "DO_NOT_TRACK": "1", **extra_env}
    env.pop("CPWH_LANDING", None)
    env.pop("DAGSTER_HOME", None)
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def synthetic_exports(args: list[str], home: Path, timeout: int = 900, **extra_env) -> subprocess.CompletedProcess:
    """Run ``cpwh-synthetic`` (the generator's own command) in a fresh process on ``home``."""
    env = {**os.environ, "CPWH_HOME": str(home), "CPWH_PSEUDONYM_KEY": KEY, **extra_env}
    env.pop("CPWH_LANDING", None)
    return subprocess.run(
        [sys.executable, "-m", "synthetic", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def headless_chromium(uri: str, profile: Path, *options: str) -> subprocess.CompletedProcess:
    """Debian's chromium, headless, on ``uri`` with a profile of its own and no background network;
    ``options`` say what to do (``--screenshot=FILE``, ``--dump-dom``, ...)."""
    return subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            f"--user-data-dir={profile}",
            *options,
            uri,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def built_once(tmp_path_factory, name: str, build) -> tuple[Path, object]:
    """A home every xdist worker shares, built by the first that asks while the others wait
    (pytest-xdist's documented way to run a session fixture once): (home, what ``build`` returned,
    kept as a pickle for the other workers). A build costs about 35 s whatever the scale; the tests
    that use such a home only read it, or copy it first."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the session's folder, above each worker's
    home, kept = root / name, root / f"{name}.pickle"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not kept.exists():
            shutil.rmtree(home, ignore_errors=True)
            kept.write_bytes(pickle.dumps(build(home)))
    return home, pickle.loads(kept.read_bytes())


def copy_of_home(home: Path, folder: Path) -> Path:
    """A copy of a built home in ``folder``, for a test that writes into it (a shared home is only
    read). Its writer lock stays behind: the copy's builds take a lock of their own."""
    copy = folder / "home"
    shutil.copytree(home, copy, ignore=shutil.ignore_patterns(".writer.lock"))
    return copy


def run_dbt_unit_tests(home: Path, engine: str = "duckdb") -> tuple[set[str], dict[str, str]]:
    """Run every dbt unit test on a built home (builds leave them out, orchestration/transform/dbt_assets.py),
    with ``CPWH_HOME`` already naming it: (the unit tests the project declares, each one run with its status)."""
    dbt_resource(engine).cli(["test", "--select", "test_type:unit"], target_path=dbt_target_path(home)).wait()
    declared = set(json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))["unit_tests"])
    ran = json.loads((dbt_target_path(home) / "run_results.json").read_text(encoding="utf-8"))["results"]
    return declared, {r["unique_id"]: r["status"] for r in ran if r["unique_id"].startswith("unit_test.")}


def _build_with_every_defect(home: Path) -> dict:
    rates = {code: 0.04 for code in DEFECT_CODES}
    results = generate_exports(home / "landing", scale=0.04, seed=17, defects=rates, keep_truth=True)
    run = cpwh(["build"], home)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    return results


@pytest.fixture(scope="session")
def built_home(tmp_path_factory):
    """Every defect at 4 %, scale 0.04, built end to end by `cpwh build`, once for all workers:
    (home, generator results, connection)."""
    home, results = built_once(tmp_path_factory, "built", _build_with_every_defect)
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    con.create_function(
        "cpwh_pseudonym", lambda c, i: pseudonym(KEY.encode(), c, i.strip()), ["VARCHAR", "VARCHAR"], "VARCHAR"
    )
    yield home, results, con
    con.close()


@pytest.fixture(scope="session")
def history_home(tmp_path_factory):
    """Six monthly exports per country (default defects, scale 0.05), built end to end by
    `cpwh build`: the case trajectories, flows and analyses beyond the review. (home, results, connection)."""
    home = tmp_path_factory.mktemp("history")
    results = generate_exports(home / "landing", scale=0.05, seed=29, snapshots=6, keep_truth=True)
    run = cpwh(["build"], home)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    yield home, results, con
    con.close()


@pytest.fixture(scope="session")
def reference_python() -> Path:
    """The reference environment's Python (`make test` builds it from tests/reference_env/requirements.lock)."""
    path = Path(os.environ.get("CPWH_REFERENCE_PYTHON", ROOT / ".venv-reference" / "bin" / "python"))
    if not path.exists():
        pytest.fail(f"no reference environment at {path}: run `make test` (it builds it), or set CPWH_REFERENCE_PYTHON")
    return path


@pytest.fixture(scope="session")
def small_export(tmp_path_factory) -> tuple[Path, dict]:
    """Default-defect exports of all six countries at scale 0.03, with the generator's truth."""
    landing = tmp_path_factory.mktemp("landing")
    results = generate_exports(landing, scale=SMALL_SCALE, seed=SMALL_SEED, keep_truth=True)
    return landing, results


@pytest.fixture(scope="session")
def tiny_export(tmp_path_factory) -> Path:
    """Defect-free exports of all six countries at scale 0.003 (a few dozen cases each): the good
    copy that the reliability and hostile-input tests damage."""
    from datetime import date

    folder = tmp_path_factory.mktemp("tiny_exports")
    generate_exports(folder, scale=0.003, seed=23, as_of=date(2023, 12, 31), defects=dict.fromkeys(DEFECT_CODES, 0.0))
    return folder


@pytest.fixture(scope="session")
def small_warehouse(small_export, tmp_path_factory) -> Path:
    landing, _ = small_export
    database = tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb"
    for profile in load_profiles().values():
        load_country(database, landing, profile)
    return database


@pytest.fixture()
def small_con(small_warehouse):
    con = duckdb.connect(str(small_warehouse), read_only=True)
    yield con
    con.close()
