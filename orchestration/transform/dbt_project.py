"""The dbt project as dagster-dbt knows it. Only a definition: its manifest is prepared at build
time (``make`` runs ``dagster-dbt project prepare-and-package --file orchestration/transform/dbt_project.py``,
``cpwh build`` prepares it when missing or older than the dbt files), never when code is imported."""

import atexit
import fcntl
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

from orchestration.paths import DBT_PROJECT_DIR, REPO_ROOT
from orchestration.transform.dagster_dbt_only import DBT_VERSION, DbtCliResource, DbtProject
from orchestration.transform.dbt_plugins import READ_ONLY_VARIABLE
from orchestration.transform.warm_start import PREPARED_TARGET, dbt_target_path, stop_warm_dbt, warm_process

# Its target folder is where the project is prepared, which warm_start (no Dagster there) names too.
# Prepared for the DuckDB target by name, as every build's dbt names its engine's target: dbt's
# partial parsing compares the target argument too, and a new home's dbt starts from this parse.
dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
    target_path=PREPARED_TARGET.relative_to(DBT_PROJECT_DIR),
    target="duckdb",
)
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
        return DBT_VERSION

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


@contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    """These variables set in this process's environment, which dagster-dbt passes to the dbt process
    it starts (its ``cli`` starts the process before it returns), and then restored."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class _BackgroundCommand:
    """A dbt command whose output a thread of this process reads (an unread pipe would stall dbt)."""

    def __init__(self, args: list[str], home: Path, engine: str, environment: dict[str, str]):
        with _environment(environment):
            self.invocation = dbt_resource(engine).cli(args, target_path=dbt_target_path(home))
        self.error: Exception | None = None
        self.thread = threading.Thread(target=self._wait, name=f"dbt-{args[0]}", daemon=True)
        self.thread.start()

    def _wait(self) -> None:
        try:
            self.invocation.wait()
        except Exception as error:  # dbt failed: raised where the command is awaited
            self.error = error

    def stop(self) -> None:
        if self.invocation.process.poll() is None:
            self.invocation.process.terminate()
        self.thread.join()


@atexit.register
def _stop_background() -> None:
    """A run that failed before awaiting its docs command leaves it running: it is stopped when this
    process ends (a docs page of a failed run is never published, and its read lock would hold up the
    next build). Warm processes are stopped after it (``warm_start``)."""
    for home in list(_docs):
        stop_docs(home)


def set_run_id(run_id: str) -> None:
    """The run id ties each row that the data-quality trend appends to this run's history. It is an
    environment variable rather than a var: a changed var makes dbt parse the whole project again,
    a changed variable only the models that read it. Set before the run's load step starts a warm
    process. One that ``cpwh build`` started before the run parsed without it: the build's command
    reuses that parse as it is (the model reads the variable when it runs), and the docs command
    parses that one model again."""
    os.environ["CPWH_RUN_ID"] = run_id


@contextmanager
def warm_dbt(home: Path, dbt: DbtCliResource) -> Iterator[DbtCliResource]:
    """The dbt resource for the build's command: the warm process's relay when one was started for the
    home (it falls back to ``dbt``'s executable by itself), else ``dbt``. The warm process is stopped
    when the command has ended, whatever its outcome."""
    warm = warm_process(home)
    if warm is None or warm.process.poll() is not None:
        stop_warm_dbt(home)
        yield dbt
        return
    from orchestration.transform import warm_dbt as relay

    relayed = {relay.SOCKET_VARIABLE: warm.socket, relay.FALLBACK_VARIABLE: dbt.dbt_executable}
    warm.relayed = True
    try:
        with _environment(relayed):  # read by the relay
            yield LocalDbtCliResource(project_dir=dbt_project, dbt_executable=relay.__file__, target=dbt.target)
    finally:
        stop_warm_dbt(home)


# Background docs commands, by home: started when dbt has built, awaited by the docs page asset.
_docs: dict[Path, _BackgroundCommand] = {}
DOCS_COMMAND = ["--no-send-anonymous-usage-stats", "docs", "generate", "--static", "--no-compile"]


def docs_in_background(home: Path) -> None:
    """Start ``dbt docs generate`` (the catalog of the warehouse as the build left it) while the
    checks and the publication run: a read-only dbt process (``dbt_plugins/read_only.py``), about 2-3 s of dbt
    that no longer adds to a build. DuckDB only (Spark's catalog is its metastore, one session at a
    time). The docs page asset awaits it (``await_docs``)."""
    stop_docs(home)
    _docs[home] = _BackgroundCommand(DOCS_COMMAND, home, "duckdb", {READ_ONLY_VARIABLE: "1"})


def await_docs(home: Path) -> Path | None:
    """The target folder of the home's background ``dbt docs generate`` once it has finished (its
    error raised), or None when none was started."""
    command = _docs.pop(home, None)
    if command is None:
        return None
    command.thread.join()
    if command.error is not None:
        raise command.error
    return Path(command.invocation.target_path)


def stop_docs(home: Path) -> None:
    """Stop the home's background docs command, if one is left from a failed run: the build that
    starts now writes the warehouse."""
    command = _docs.pop(home, None)
    if command is not None:
        command.stop()
