"""Shared fixtures: small generated exports with fixed seeds, loaded into a real DuckDB file."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from orchestration.generator import generate_exports
from orchestration.profiles import load_profiles
from orchestration.profiles.loader import load_country

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

SMALL_SCALE = 0.03
SMALL_SEED = 11


@pytest.fixture(scope="session")
def small_export(tmp_path_factory) -> tuple[Path, dict]:
    """Default-defect exports of all six countries at scale 0.03, with the generator's truth."""
    landing = tmp_path_factory.mktemp("landing")
    results = generate_exports(landing, scale=SMALL_SCALE, seed=SMALL_SEED, keep_truth=True)
    return landing, results


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
