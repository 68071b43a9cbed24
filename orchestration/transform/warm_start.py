"""The starting side of the warm dbt process (``warm_dbt.py``), importable without Dagster or dbt:
``cpwh build`` starts the process before it imports Dagster (about 2 s), so that dbt imports and
parses the project while Dagster starts and the exports load. A run's load step starts one itself
when none is waiting (a run launched from the UI or the schedule, or a build that found another
build holding the home)."""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path

from orchestration.paths import DBT_PROJECT_DIR

PREPARED_TARGET = DBT_PROJECT_DIR / "target"  # where the project is prepared (dagster-dbt's target folder)


def dbt_target_path(home: Path) -> Path:
    """One dbt target folder per home, reused by every build (the writer lock keeps builds apart):
    dbt parses only what changed, and old builds do not pile up folders beside the project."""
    return Path(home) / "dbt" / "target"


PARTIAL_PARSE = "partial_parse.msgpack"
WARM_PREFIX = "cpwh-dbt-"  # a warm process's private folder in the temporary directory
EXIT_SECONDS = 600  # how long a warm process that has run its command may take to end (its last checkpoint)


class _WarmDbt:
    """A warm dbt process for one home (``warm_dbt.py``): it parses the project now and runs the
    build's command when the dbt step sends it."""

    def __init__(self, home: Path, engine: str):
        from orchestration.transform import warm_dbt

        self.folder = Path(tempfile.mkdtemp(prefix=WARM_PREFIX))  # owner-only: the socket, the exit code
        self.socket = str(self.folder / "dbt.sock")  # short: a socket's path has at most 107 bytes
        target = dbt_target_path(home)
        target.mkdir(parents=True, exist_ok=True)
        # As dagster-dbt does for a new target folder: start from the prepared project's parse, which
        # dbt reuses when the profile is the same (a home whose path the project was prepared with).
        prepared, parsed = PREPARED_TARGET / PARTIAL_PARSE, target / PARTIAL_PARSE
        if prepared.exists() and not parsed.exists():
            shutil.copyfile(prepared, parsed)
        environment = {
            **os.environ,
            warm_dbt.SERVE_VARIABLE: self.socket,
            # What dagster-dbt gives a dbt process: its parse reads and writes the home's target folder.
            "DBT_TARGET_PATH": str(target),
            "DBT_LOG_PATH": str(target),
            "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
            "DBT_PROJECT_DIR": str(DBT_PROJECT_DIR),
            "DBT_LOG_FORMAT": "json",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "PYTHONUNBUFFERED": "1",
        }
        self.relayed = False  # set when the build's command goes to it
        self.process = subprocess.Popen(
            [sys.executable, "-m", "orchestration.transform.warm_dbt", "parse", "--quiet", "--target", engine],
            env=environment,
            cwd=DBT_PROJECT_DIR,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        """A warm process that has run the command relayed to it (its socket is then gone) ends by
        itself: it is left to, because DuckDB writes the warehouse's last checkpoint as dbt's
        process exits (terminated there, it left the last models in the write-ahead log, and a copy
        of the warehouse file alone without them). One that was sent no command, or is still
        running it (a cancelled step), is terminated."""
        if self.relayed and not os.path.exists(self.socket):
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=EXIT_SECONDS)
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


_warm: dict[Path, _WarmDbt] = {}


def start_warm_dbt(home: Path, engine: str) -> None:
    """Start the home's warm dbt process (DuckDB only: Spark's dbt lives in another environment),
    unless one is already waiting for a command (``cpwh build`` starts it before Dagster). Its parse
    opens no database, so the loader's writer lock is no obstacle.

    dbt reuses the prepared project's parse only in a home whose path the project was prepared with:
    the profile's warehouse path is part of what its partial parsing compares, so the first build of
    another home parses the whole project (about 4 s); that happens while Dagster starts and the
    exports load."""
    home = Path(home).absolute()
    waiting = _warm.get(home)
    if waiting is not None and not waiting.relayed and waiting.process.poll() is None:
        return
    stop_warm_dbt(home)
    if engine == "duckdb":
        _sweep_left_folders()
        _warm[home] = _WarmDbt(home, engine)


def warm_process(home: Path) -> _WarmDbt | None:
    """The home's warm process, if one was started and has not been stopped."""
    return _warm.get(Path(home).absolute())


LEFT_AFTER_SECONDS = 24 * 3600  # far beyond a warm process's life (IDLE_SECONDS, then its command)


def _sweep_left_folders() -> None:
    """Remove the folders of warm processes killed with their whole build (SIGKILL to the process
    group: neither could clean up), once they are a day old. Never a live one's: a warm process ends
    within hours, and connecting to its socket to ask would take its one command."""
    cutoff = time.time() - LEFT_AFTER_SECONDS
    for folder in Path(tempfile.gettempdir()).glob(f"{WARM_PREFIX}*"):
        with suppress(OSError):
            if folder.is_dir() and folder.stat().st_uid == os.getuid() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder)


def stop_warm_dbt(home: Path) -> None:
    warm = _warm.pop(Path(home).absolute(), None)
    if warm is not None:
        warm.stop()


@atexit.register
def stop_all_warm_dbt() -> None:
    """A run that failed before its dbt step leaves its warm process waiting: stopped when this
    process ends (it would end by itself when it saw this process gone)."""
    for home in list(_warm):
        stop_warm_dbt(home)
