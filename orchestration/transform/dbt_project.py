"""The dbt project as dagster-dbt knows it. Only a definition: its manifest is prepared at build
time (``make`` runs ``dagster-dbt project prepare-and-package --file orchestration/transform/dbt_project.py``,
``cpwh build`` prepares it when missing or older than the dbt files), never when code is imported."""

import fcntl
import os
import sys
import threading
from functools import cached_property
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from dagster_dbt.compat import DBT_PYTHON_VERSION

from orchestration.paths import DBT_PROJECT_DIR, REPO_ROOT

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")  # this environment's dbt, activated or not
# The Spark engine's dbt lives in an environment of its own (`make spark`, requirements-spark.lock):
# pyspark beside Great Expectations would make GX import it in every process (0.2 s and warnings).
SPARK_DBT_EXECUTABLE = REPO_ROOT / ".venv-spark" / "bin" / "dbt"


def dbt_executable(engine: str) -> str:
    """The dbt that builds with the engine: this environment's for DuckDB; for Spark the one in
    ``CPWH_SPARK_DBT`` or ``.venv-spark``."""
    if engine != "spark":
        return DBT_EXECUTABLE
    path = Path(os.environ.get("CPWH_SPARK_DBT") or SPARK_DBT_EXECUTABLE)
    if not path.exists():
        raise FileNotFoundError(
            f"the Spark engine's dbt is not at {path}: run 'make spark' (it installs dbt-spark and pyspark from "
            "requirements-spark.lock; Spark needs Java 17) or set CPWH_SPARK_DBT"
        )
    return str(path)


class LocalDbtCliResource(DbtCliResource):
    """dagster-dbt's resource for the dbt of this Python environment. dagster-dbt asks the executable
    for its version (``dbt --version``, a second dbt process and about a second per invocation)
    because it may be another engine; here it is the dbt-core that this process imports."""

    @cached_property
    def _cli_version(self):
        return DBT_PYTHON_VERSION

    def _initialize_dbt_core_adapter(self, args):
        """No adapter in Dagster's process. dagster-dbt loads dbt's profile, project and adapter here
        before every dbt command (about 2.5 s a command) only to fetch row counts and column metadata,
        which this project does not ask for; with a DuckDB adapter it also holds every event back until
        dbt has finished. Without it, the events stream while dbt runs."""
        return None


def dbt_resource(engine: str = "duckdb") -> LocalDbtCliResource:
    """dbt for the engine (``CPWH_ENGINE``): each engine is a target of profiles.yml."""
    return LocalDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable(engine), target=engine)


def dbt_source_files(project_dir: Path = DBT_PROJECT_DIR) -> list[Path]:
    """Every file dbt reads from the project: its settings, models, macros, seeds and tests."""
    files = [project_dir / "dbt_project.yml", project_dir / "profiles.yml"]
    for folder in ("models", "macros", "seeds", "tests"):
        files.extend(p for p in (project_dir / folder).rglob("*") if p.is_file())
    return files


def manifest_is_stale() -> bool:
    """True when the manifest is missing or older than a file dbt parses."""
    manifest = dbt_project.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    return any(p.stat().st_mtime > built for p in dbt_source_files())


def prepare_manifest() -> None:
    """Parse the dbt project (offline, a few seconds) when its manifest is stale; one process at a time."""
    if not manifest_is_stale():
        return
    lock = DBT_PROJECT_DIR / "target" / ".prepare.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        if manifest_is_stale():  # another process may have prepared it while we waited
            # What dagster-dbt's prepare step runs (`dbt parse`), with this environment's dbt.
            dbt_resource().cli(["parse", "--quiet"], target_path=dbt_project.target_path).wait()


def dbt_target_path(home: Path) -> Path:
    """One dbt target folder per home, reused by every build (the writer lock keeps builds apart):
    dbt parses only what changed, and old builds do not pile up folders beside the project."""
    return Path(home) / "dbt" / "target"


# Background parses, by home: started while the exports load, awaited before dbt builds.
_parses: dict[Path, threading.Thread] = {}


def set_run_id(run_id: str) -> None:
    """The run id ties each row that the data-quality trend appends to this run's history. It is an
    environment variable rather than a var: a changed var makes dbt parse the whole project again.
    Set before dbt first parses in a run, so that the build finds nothing changed since."""
    os.environ["CPWH_RUN_ID"] = run_id


def parse_in_background(home: Path, engine: str) -> None:
    """Start ``dbt parse`` into the home's target folder while this process does other work.

    dbt cannot reuse the prepared project's parse in a new home: the profile's warehouse path is part
    of what its partial parsing compares, so the first build of a home parses the whole project
    (about 3 s). Parsed while the exports load, the build finds its parse done. Only when the home has
    no parse newer than the project's (a new home, or a changed project); only on DuckDB, the engine
    whose parse needs no other environment. ``dbt parse`` opens no database, so the loader's writer
    lock does not stand in its way."""
    target = dbt_target_path(home)
    parsed = target / "partial_parse.msgpack"
    if engine != "duckdb" or home in _parses:
        return
    if parsed.exists() and parsed.stat().st_mtime >= dbt_project.manifest_path.stat().st_mtime:
        return
    invocation = dbt_resource(engine).cli(["parse", "--quiet"], target_path=target, raise_on_error=False)
    thread = threading.Thread(target=invocation.wait, name="dbt-parse", daemon=True)
    thread.start()
    _parses[home] = thread


def await_parse(home: Path) -> None:
    """Wait for the home's background parse, if one runs (whatever its outcome: a failed parse only
    means that the build parses for itself, and reports any error)."""
    thread = _parses.pop(home, None)
    if thread is not None:
        thread.join()
