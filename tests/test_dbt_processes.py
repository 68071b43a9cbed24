"""The dbt processes of a build: the warm process that parses while the exports load and runs the
build's command (orchestration/transform/warm_dbt.py), its relay, and the read-only docs command."""

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from orchestration.paths import DBT_PROJECT_DIR
from orchestration.transform import warm_dbt, warm_start
from orchestration.transform.dbt_plugins import READ_ONLY_VARIABLE
from orchestration.transform.dbt_plugins.read_only import Plugin
from orchestration.transform.dbt_project import DBT_EXECUTABLE
from orchestration.transform.warm_start import _WarmDbt

RELAY = Path(warm_dbt.__file__)


def _relay(args: list[str], **environment: str) -> subprocess.CompletedProcess:
    """The relay as dagster-dbt runs it: the file itself as the executable."""
    env = {**os.environ, **environment}
    return subprocess.run([str(RELAY), *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def test_relay_runs_the_real_dbt_when_no_warm_process_answers(tmp_path):
    run = _relay(
        ["--version"],
        **{warm_dbt.SOCKET_VARIABLE: str(tmp_path / "nobody.sock"), warm_dbt.FALLBACK_VARIABLE: DBT_EXECUTABLE},
    )
    assert run.returncode == 0, run.stderr
    assert "Core:" in run.stdout


def _fake_warm_process(path: str, output: bytes, exit_code: int | None, received: list) -> threading.Thread:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)

    def serve():
        connection, _ = listener.accept()
        with connection, connection.makefile("rb") as reader:
            received.append(json.loads(reader.readline()))
            connection.sendall(output)
            if exit_code is not None:
                Path(path + warm_dbt.EXIT_SUFFIX).write_text(str(exit_code))
        listener.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def test_relay_copies_the_output_and_exit_code_of_the_warm_process(tmp_path):
    path = str(tmp_path / "w.sock")
    received = []
    thread = _fake_warm_process(path, b'{"line": 1}\n{"line": 2}\n', 1, received)
    run = _relay(
        ["build", "--select", "x"],
        **{warm_dbt.SOCKET_VARIABLE: path, warm_dbt.FALLBACK_VARIABLE: "/nonexistent", "CPWH_PROBE": "seen"},
    )
    thread.join(10)
    assert run.returncode == 1
    assert run.stdout == '{"line": 1}\n{"line": 2}\n'
    request = received[0]
    assert request["args"] == ["build", "--select", "x"]
    assert request["env"]["CPWH_PROBE"] == "seen"
    assert warm_dbt.SOCKET_VARIABLE not in request["env"]  # the relay's own settings stay with it


def test_relay_fails_when_the_warm_process_ends_without_an_exit_code(tmp_path):
    path = str(tmp_path / "w.sock")
    thread = _fake_warm_process(path, b"partial\n", None, [])
    run = _relay(["build"], **{warm_dbt.SOCKET_VARIABLE: path, warm_dbt.FALLBACK_VARIABLE: "/nonexistent"})
    thread.join(10)
    assert run.returncode == 2
    assert "ended without finishing the command" in run.stderr


def test_warm_process_parses_then_runs_the_relayed_command(tmp_path):
    """A real warm process: it parses the project, then runs the relayed command in the same process
    with that parse (dbt's log shows one process id for both)."""
    home, target, path = tmp_path / "home", tmp_path / "target", str(tmp_path / "w.sock")
    environment = {
        **os.environ,
        "CPWH_HOME": str(home),
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(target),
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_LOG_FORMAT": "json",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "orchestration.transform.warm_dbt", "parse", "--quiet", "--target", "duckdb"],
        env={**environment, warm_dbt.SERVE_VARIABLE: path},
        cwd=DBT_PROJECT_DIR,
    )
    try:
        deadline = time.monotonic() + 30  # the socket exists before the parse starts
        while not os.path.exists(path) and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        relayed = subprocess.run(
            [str(RELAY), "ls", "--resource-type", "seed", "--output", "name", "--target", "duckdb"],
            env={**environment, warm_dbt.SOCKET_VARIABLE: path, warm_dbt.FALLBACK_VARIABLE: "/nonexistent"},
            cwd=DBT_PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            server.kill()
    assert relayed.returncode == 0, relayed.stdout[-2000:] + relayed.stderr[-2000:]
    assert not os.path.exists(path) and not os.path.exists(path + warm_dbt.EXIT_SUFFIX)  # nothing left behind
    names = {json.loads(line)["info"]["msg"] for line in relayed.stdout.splitlines() if line.startswith("{")}
    assert {"categorisation", "closure_outcomes", "indicator_registry"} <= names
    log = [json.loads(line)["info"] for line in (target / "dbt.log").read_text().splitlines()]
    assert {entry["pid"] for entry in log} == {server.pid}
    assert any("parse" in entry["msg"] and "succeeded" in entry["msg"] for entry in log)


STARTER = f"""
import os, subprocess, sys, time
subprocess.Popen(sys.argv[1:], env={{**os.environ, "{warm_dbt.SERVE_VARIABLE}": os.environ["SOCKET"]}})
time.sleep(600)
"""


def test_a_warm_process_whose_starter_was_killed_removes_its_folder(tmp_path):
    """A build killed while the exports load (a crash, a cancelled run) leaves no socket folder:
    the warm process sees its starter gone, ends and removes what it made."""
    folder = tmp_path / "private"
    folder.mkdir()
    environment = {
        **os.environ,
        "SOCKET": str(folder / "dbt.sock"),
        "CPWH_HOME": str(tmp_path / "home"),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "target"),
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    serve = [sys.executable, "-m", "orchestration.transform.warm_dbt", "parse", "--quiet", "--target", "duckdb"]
    starter = subprocess.Popen([sys.executable, "-c", STARTER, *serve], env=environment, cwd=DBT_PROJECT_DIR)
    try:
        deadline = time.monotonic() + 30
        while not (folder / "dbt.sock").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (folder / "dbt.sock").exists()
    finally:
        starter.kill()
        starter.wait()
    deadline = time.monotonic() + 60  # the parse ends, then the warm process looks for its starter
    while folder.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not folder.exists()


def test_a_warm_process_sent_no_command_is_stopped_at_once(tmp_path, monkeypatch):
    """A run that fails before its dbt step stops the warm process it started (at exit): at once,
    even before the process has made its socket, and with its folder."""
    monkeypatch.setenv("CPWH_HOME", str(tmp_path / "home"))
    warm = _WarmDbt(tmp_path / "home", "duckdb")
    started = time.monotonic()
    warm.stop()
    assert time.monotonic() - started < 30
    assert warm.process.returncode is not None and not warm.folder.exists()


def test_the_load_step_keeps_a_warm_process_waiting_for_its_command(tmp_path, monkeypatch):
    """`cpwh build` starts the warm process before Dagster; the run's load step then keeps it
    instead of starting a second one, and starts a new one once it has been given its command."""
    home = tmp_path / "home"
    monkeypatch.setenv("CPWH_HOME", str(home))
    try:
        warm_start.start_warm_dbt(home, "duckdb")
        first = warm_start.warm_process(home)
        warm_start.start_warm_dbt(home, "duckdb")
        assert warm_start.warm_process(home) is first and first.process.poll() is None
        deadline = time.monotonic() + 30  # its socket (made before it imports dbt): it is listening
        while not os.path.exists(first.socket) and time.monotonic() < deadline:
            time.sleep(0.05)
        first.relayed = True  # as the dbt step marks the process it sends the build's command to
        warm_start.start_warm_dbt(home, "duckdb")
        second = warm_start.warm_process(home)
        assert second is not first and second.process.poll() is None
        assert first.process.returncode is not None and not first.folder.exists()
    finally:
        warm_start.stop_warm_dbt(home)


def test_folders_left_by_killed_builds_are_swept_after_a_day(tmp_path, monkeypatch):
    """A build killed with its warm process (SIGKILL to the group) leaves the process's folder; the
    next warm process to start removes such folders once they are a day old, and no other."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    old, recent = tmp_path / f"{warm_start.WARM_PREFIX}old", tmp_path / f"{warm_start.WARM_PREFIX}recent"
    unrelated = tmp_path / "unrelated"
    day_and_more = time.time() - warm_start.LEFT_AFTER_SECONDS - 60
    for folder in (old, recent, unrelated):
        folder.mkdir()
        (folder / "dbt.sock").touch()
        if folder is not recent:
            os.utime(folder, (day_and_more, day_and_more))
    warm_start._sweep_left_folders()
    assert not old.exists() and recent.exists() and unrelated.exists()


def test_a_build_runs_dbt_in_the_warm_process(built_home):
    """The build's dbt command ran in the process that parsed during the load: no dbt started after it.
    That process was left to end by itself, so the warehouse is whole in its file (DuckDB's last
    checkpoint as dbt exits): no write-ahead log is left beside it."""
    home, _, _ = built_home
    assert not (home / "warehouse.duckdb.wal").exists()
    log = [json.loads(line)["info"] for line in (home / "dbt" / "target" / "dbt.log").read_text().splitlines()]
    parse = next(e for e in log if e["msg"].startswith("Command `cli parse` succeeded"))
    build = next(e for e in log if e["msg"].startswith("Finished running"))
    assert parse["pid"] == build["pid"]


def test_a_build_writes_the_report_before_it_awaits_the_docs_command(built_home, monkeypatch):
    """The docs command started when dbt had built runs beside the checks, the publication and the
    report: the report step runs first (its priority), then the docs page takes what the command wrote."""
    from dagster import DagsterEventType, DagsterInstance

    home, _, _ = built_home
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    with DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        starts = instance.get_records_for_run(run.run_id, of_type=DagsterEventType.STEP_START).records
    order = [record.event_log_entry.step_key for record in starts]
    assert order.index("published__report") < order.index("published__dbt_docs")


def test_read_only_plugin_opens_the_warehouse_read_only_only_when_asked(monkeypatch):
    plugin = Plugin.__new__(Plugin)  # update_connection_config needs no plugin configuration
    config = {}
    monkeypatch.delenv(READ_ONLY_VARIABLE, raising=False)
    plugin.update_connection_config(None, config)
    assert config == {}
    monkeypatch.setenv(READ_ONLY_VARIABLE, "1")
    plugin.update_connection_config(None, config)
    assert config == {"access_mode": "READ_ONLY"}


def test_the_warm_process_formats_only_the_events_its_loggers_write(monkeypatch):
    """dbt's loggers format each event before Python's logging drops it below their level; in the
    warm process an event is formatted only when its logger writes it, and the same lines come out."""
    import io

    from dbt_common.events import logger as dbt_logger
    from dbt_common.events.base_types import EventLevel, msg_from_base_event
    from dbt_common.events.types import Formatting, Note

    monkeypatch.setattr(dbt_logger._Logger, "write_line", dbt_logger._Logger.write_line)  # restored after
    warm_dbt._format_only_written_events()
    stream = io.StringIO()
    config = dbt_logger.LoggerConfig(
        name="warm-test", level=EventLevel.INFO, line_format=dbt_logger.LineFormat.Json, output_stream=stream
    )
    logger = dbt_logger._JsonLogger(config)
    formatted = []
    create_line = logger.create_line
    monkeypatch.setattr(logger, "create_line", lambda msg: formatted.append(msg.info.name) or create_line(msg))
    logger.write_line(msg_from_base_event(Formatting(msg="a debug line"), level=EventLevel.DEBUG))
    logger.write_line(msg_from_base_event(Note(msg="an info line"), level=EventLevel.INFO))
    assert formatted == ["Note"]
    assert [json.loads(line)["info"]["msg"] for line in stream.getvalue().splitlines()] == ["an info line"]


_ASSET_GRAPH = """
import json, sys
if sys.argv[1] == "with-dbt-core":
    import dbt.version  # noqa: F401  (dagster-dbt then imports dbt-core as it would by itself)
from orchestration.definitions import defs
graph = defs.get_repository_def().asset_graph
job = defs.resolve_job_def("build")
assets = {}
for key in graph.get_all_asset_keys():
    node = graph.get(key)
    assets[key.to_user_string()] = [sorted(p.to_user_string() for p in node.parent_keys), node.group_name,
        sorted(node.kinds), sorted(node.owners), node.description, sorted(k.to_user_string() for k in node.check_keys),
        sorted(k for k in node.metadata if k not in ("dagster_dbt/dagster_dbt_translator", "dagster_dbt/project"))]
checks = {}
for key in graph.asset_check_keys:
    spec = graph.get_check_spec(key)
    extra = sorted(d.asset_key.to_user_string() for d in spec.additional_deps)
    checks[key.to_user_string()] = [spec.blocking, spec.description, extra]
print(json.dumps({"dbt_core_imported": "dbt" in sys.modules, "assets": assets, "checks": checks,
                  "ops": sorted(n.name for n in job.graph.node_defs)}, sort_keys=True))
"""


def test_dagster_processes_build_the_same_assets_without_importing_dbt_core(tmp_path):
    """Dagster's processes import dagster-dbt without dbt-core (orchestration/transform/dagster_dbt_only.py):
    the same assets, checks, dependencies and steps as with dbt-core imported, and dbt-core never loaded."""
    env = {**os.environ, "CPWH_HOME": str(tmp_path)}

    def graph(mode: str) -> dict:
        command = [sys.executable, "-c", _ASSET_GRAPH, mode]
        run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout)

    lean, full = graph("as-the-product-imports-it"), graph("with-dbt-core")
    assert lean.pop("dbt_core_imported") is False
    assert full.pop("dbt_core_imported") is True
    assert len(lean["assets"]) > 50 and len(lean["checks"]) > 100
    assert lean == full


def test_a_new_home_starts_from_the_prepared_parse(built_home):
    """The profile names no home (the warehouse_home plugin reads CPWH_HOME when dbt opens the
    database): the first dbt command of a new home reuses the project's prepared parse, and the
    build's dbt wrote that home's warehouse."""
    home = built_home[0]
    log = (home / "dbt" / "target" / "dbt.log").read_text(encoding="utf-8")
    assert "Unable to do partial parsing" not in log
    assert "Partial parsing enabled" in log
    con = built_home[2]
    assert con.execute("select count(*) from marts.mart_indicators").fetchone()[0] > 0
