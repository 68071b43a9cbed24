"""A country is configuration: a seventh CPIMS+ instance (Chad, Primero v2 in French, DD.MM.YYYY
dates, " | " multi-selects) is added to a copy of the project with its profile, its seed rows and
its synthetic parameters only, following the README's "Add a country" guide step by step. Its
exports are generated and built, and its published figures equal an independent harmonisation."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import KEY

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).parent / "seventh_country"
pytestmark = pytest.mark.slow  # a copy of the repository, set up and built end to end

# Run in the copy: the independent reference harmonisation (tests/reference.py) over its warehouse.
REFERENCE = """
import json, sys
import duckdb
from tests.reference import children, harmonise, headline_figures
con = duckdb.connect(sys.argv[1], read_only=True)
figures = headline_figures(children(harmonise(con, "TCD"), "TCD"))
figures.pop("concern_ranks_3_4")
print(json.dumps({k: float(v) for k, v in figures.items()}))
"""


def _copy_project(target: Path) -> None:
    """The project as a fresh clone has it: the tracked files (plus this change's, while uncommitted)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


@pytest.fixture(scope="module")
def seventh(tmp_path_factory):
    copy, home = tmp_path_factory.mktemp("project"), tmp_path_factory.mktemp("home")
    _copy_project(copy)
    code_files = {p: p.read_bytes() for p in copy.rglob("*") if p.suffix in (".py", ".sql") and p.is_file()}
    env = {
        **os.environ,
        "PYTHONPATH": str(copy),  # the copy's packages, not the installed checkout
        "CPWH_HOME": str(home),
        "CPWH_PSEUDONYM_KEY": KEY,
        "DO_NOT_TRACK": "1",
    }
    env.pop("CPWH_LANDING", None)
    env.pop("DAGSTER_HOME", None)

    def run(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, *args], cwd=copy, env=env, capture_output=True, text=True, timeout=timeout
        )
        assert done.returncode == 0, f"{args}: {done.stderr[-3000:]}"
        return done

    # The guide, step by step.
    # 1. The profile.
    shutil.copy(HERE / "tcd.yaml", copy / "orchestration/ingest/countries/tcd.yaml")
    # 2. Its rows in the categorisation seed.
    with open(copy / "dbt_project/seeds/categorisation.csv", "ab") as seed:
        seed.write((HERE / "categorisation_tcd.csv").read_bytes())
    # 3. For synthetic exports, its parameters.
    with open(copy / "synthetic/parameters.yaml", "a", encoding="utf-8") as parameters:
        parameters.write((HERE / "parameters.yaml").read_text(encoding="utf-8"))
    # 4. Check the profile, then write what follows from it (make does this before dbt parses).
    checked = run("-m", "orchestration.cli", "profile", "check", "orchestration/ingest/countries/tcd.yaml")
    synced = run("-m", "orchestration.cli", "profile", "sync")
    # 5. Its exports arrive (here: generated), and the warehouse is built.
    run("-m", "synthetic", "--countries", "TCD", "--scale", "0.1", "--seed", "5")
    built = run("-m", "orchestration.cli", "build", "--countries", "TCD")
    reference = run("-c", REFERENCE, str(home / "warehouse.duckdb"))
    changed_code = sorted(
        str(p.relative_to(copy)) for p, data in code_files.items() if not p.exists() or p.read_bytes() != data
    )
    return {
        "copy": copy,
        "home": home,
        "checked": checked,
        "synced": synced,
        "built": built,
        "reference": json.loads(reference.stdout.splitlines()[-1]),
        "changed_code": changed_code,
        "run": run,
    }


def test_the_copy_runs_its_own_code(seventh):
    where = seventh["run"]("-c", "import orchestration, synthetic; print(orchestration.__file__, synthetic.__file__)")
    assert all(str(seventh["copy"]) in path for path in where.stdout.split())


def test_no_code_file_was_edited_by_hand(seventh):
    """Only files that `cpwh profile sync` generates changed: the profile macro, the sources, the new
    country's staging models and raw contracts."""
    assert seventh["checked"].stdout.strip().endswith("a valid profile")
    generated = {
        str(Path(line.split(": ", 1)[1]).relative_to(seventh["copy"])) for line in seventh["synced"].stderr.splitlines()
    }
    assert [p for p in seventh["changed_code"] if p not in generated] == [], "no code file is edited by hand"
    written = {Path(name).name for name in generated}
    assert {"stg_tcd__cases.sql", "stg_tcd__concerns.sql", "stg_tcd__services.sql"} <= written
    assert {"country_profiles.sql", "_raw__sources.yml", "raw__tcd__cases.json", "raw__tcd__services.json"} <= written


def test_the_seventh_country_is_published_with_independent_figures(seventh):
    import duckdb

    published = seventh["home"] / "published" / "marts.duckdb"
    with duckdb.connect(str(published), read_only=True) as con:
        profile = con.execute("select * from mart_caseload_profile where country_code = 'TCD'").df()
        countries = [r[0] for r in con.execute("select country_code from dim_country").fetchall()]
        indicators = con.execute("select count(*) from mart_indicators where country_code = 'TCD'").fetchone()[0]
    assert "TCD" in countries and indicators > 100
    [row] = profile.to_dict("records")
    expected = seventh["reference"]
    assert row["children_in_scope"] == expected["children_in_scope"] > 500
    for name in (
        "mean_age_years",
        "pct_male",
        "pct_uasc",
        "mean_age_uasc_years",
        "pct_male_among_uasc",
        "pct_displacement__refugee",
        "pct_care_family",
        "mean_case_duration_months",
        "pct_closed_positive_outcome",
    ):
        assert row[name] == pytest.approx(expected[name], rel=1e-9, abs=1e-9), name


def test_the_report_shows_the_seventh_country(seventh):
    report = (seventh["home"] / "reports" / "report.html").read_text(encoding="utf-8")
    assert "<th>TCD</th>" in report
