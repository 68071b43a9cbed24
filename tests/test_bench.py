"""The benchmark's measuring parts, on the shared built home (the benchmark itself is `make bench`)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import duckdb

from synthetic import bench
from synthetic.floor import floor


def test_memory_counts_every_process_of_the_tree():
    # The parent holds little; its grandchild holds 300 MB. A sampler of the parent alone would miss it.
    grandchild = "b = bytearray(300 * 2**20); import time; time.sleep(1.5)"
    child = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {grandchild!r}])"
    run = bench.measure([sys.executable, "-c", child])
    assert run["peak_mb"] > 300
    assert run["seconds"] >= 1.5


def test_stages_come_from_the_run_and_add_up(built_home):
    home, _, _ = built_home
    runs = home / "dagster" / "history" / "runs"
    first_event = min(p.stat().st_ctime for p in runs.glob("*.db") if p.name != "index.db")
    started = datetime.fromtimestamp(first_event, UTC)
    stages = bench.stage_seconds(home, started, total=600.0)
    assert set(stages) == set(bench.STAGES)
    for stage in ("load", "dbt", "checks", "publish", "report"):
        assert stages[stage] > 0, stage
    assert stages["dbt"] > stages["publish"]
    assert abs(sum(stages.values()) - 600.0) < 0.1


def test_floor_computes_the_headline_figures_the_build_publishes(built_home):
    home, _, _ = built_home
    figures = floor(home / "landing")
    assert set(figures) == {"BGD", "KEN", "LBN", "MMR", "NGA", "UKR"}
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        built = dict(
            con.execute(
                "select country_code, value from marts.mart_indicators"
                " where indicator_id = 'children_in_scope' and dimension = 'total'"
            ).fetchall()
        )
    finally:
        con.close()
    for code, row in figures.items():
        # The floor skips what the build does with defects (duplicates by key, ages from dates of
        # birth, quarantine): close to the build's count, not equal.
        assert abs(row["children_in_scope"] - built[code]) <= 0.1 * built[code], (code, row, built[code])
        assert 40 < row["pct_male"] < 70


def test_verdicts_compare_each_target_with_its_scale():
    stages = dict.fromkeys(bench.STAGES, 1.0)
    one = {"scale": 1, "build_seconds": 19.0, "stages": {**stages, "startup": 3.5}}
    ten = {"scale": 10, "build_seconds": 95.0, "build_over_floor": 2.0, "incremental_share": 0.3, "stages": stages}
    found = {name: ok for name, _, _, ok in bench.verdicts([one, ten])}
    assert found == {
        "scale 1 full build, s": True,
        "scale 1 start-up to first file read, s": False,
        "scale 10 full build, s": False,
        "scale 10 build / floor": True,
        "scale 10 incremental / full": True,
        "growth scale 1 to 10": True,
    }
