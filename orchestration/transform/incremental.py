"""Which countries a dbt build rebuilds: all of them (a full refresh), or only some.

The models kept by country (``by_country()`` in ``dbt_project/macros/by_country.sql``: staging,
the derived and resolved rows, the reconciliation and the data-quality counts, the facts) can
rebuild a few countries' rows and keep the others'. (The unioned rows and the children's groups
are views over them.) That is only right when the kept rows are what a full build would
write now, so a build rebuilds only some countries when all of these hold:

- the run names some countries, not all (the landing-zone sensor's run for one export,
  ``cpwh build --countries KEN``); a run of every country, or of no partition at all (the second
  run of the UI's "Materialize all"), is a full refresh;
- the engine is DuckDB (on Spark those models are plain tables);
- the last dbt build of this home ran every model and succeeded, from the same dbt project, dbt
  version and pseudonymisation key (the state file below, removed when a build starts and written
  when such a build succeeds);

and then the rebuilt countries are the run's plus every other country whose loaded exports
changed since that build (say a run that loaded only raw tables).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from orchestration.ingest.profiles import COUNTRY_CODES
from orchestration.paths import DBT_PROJECT_DIR
from orchestration.pseudonym import key_check, load_key
from orchestration.transform.dagster_dbt_only import DBT_VERSION
from orchestration.transform.dbt_project import dbt_source_files
from orchestration.warehouse import connect

ENVIRONMENT_VARIABLE = "CPWH_REBUILD_COUNTRIES"  # read by dbt_project/macros/by_country.sql
STATE_FILE = "last_build.json"  # in the home's dbt folder


def state_path(home: Path) -> Path:
    return Path(home) / "dbt" / STATE_FILE


def project_fingerprint(home: Path, engine: str) -> str:
    """What the kept rows were computed with: every file dbt reads, dbt's version, the engine and
    the key's check value (a keyed hash of a constant, not the key)."""
    digest = hashlib.sha256(f"{DBT_VERSION}\n{engine}\n{key_check(load_key(home))}\n".encode())
    for path in sorted(dbt_source_files(DBT_PROJECT_DIR)):
        digest.update(str(path.relative_to(DBT_PROJECT_DIR)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def loaded_exports(database: Path) -> dict[str, list[str]]:
    """Each country's loaded exports (their load ids), as the raw layer holds them now."""
    if not Path(database).exists():
        return {}
    con = connect(database, read_only=True)
    try:
        tables = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = 'export_loads'"
        ).fetchone()[0]
        if not tables:
            return {}
        rows = con.execute(
            "select country, list(load_id order by load_id) from raw.export_loads"
            " where status = 'loaded' group by country"
        ).fetchall()
    finally:
        con.close()
    return {country: list(loads) for country, loads in rows}


def rebuilt_countries(
    run_countries: list[str] | None, home: Path, database: Path, engine: str
) -> tuple[list[str] | None, dict]:
    """The countries this build rebuilds (None: all, a full refresh), and the state to record
    once it succeeds (none on Spark, which keeps no rows between builds)."""
    if engine != "duckdb":
        return None, {}
    state = {"fingerprint": project_fingerprint(home, engine), "loads": loaded_exports(database)}
    if not run_countries or set(COUNTRY_CODES) <= set(run_countries):
        return None, state
    try:
        last = json.loads(state_path(home).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, state
    if last.get("fingerprint") != state["fingerprint"]:
        return None, state
    changed = {c for c in COUNTRY_CODES if last.get("loads", {}).get(c, []) != state["loads"].get(c, [])}
    countries = [c for c in COUNTRY_CODES if c in changed or c in run_countries]
    return (None if len(countries) == len(COUNTRY_CODES) else countries), state


def start(countries: list[str] | None, home: Path, engine: str) -> list[str]:
    """Before dbt: forget the last build (this one may fail half way) and tell dbt the countries.
    Returns the extra arguments of ``dbt build``: a full build on DuckDB replaces the tables kept
    by country (``--full-refresh``; the data-quality trend keeps its history, ``full_refresh=false``)."""
    state_path(home).unlink(missing_ok=True)
    os.environ[ENVIRONMENT_VARIABLE] = ",".join(countries or [])
    return ["--full-refresh"] if engine == "duckdb" and not countries else []


def finish(state: dict, home: Path, engine: str, every_model: bool) -> None:
    """After dbt succeeded: record what the build was computed from (DuckDB only). Only when the
    build ran every dbt model: a run of a few models (chosen in the UI) leaves the others behind,
    so the next build of some countries must be a full refresh."""
    if engine != "duckdb" or not every_model:
        return
    path = state_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
