#!/usr/bin/env python3
"""dbt, started before the build needs it.

A dbt command costs about 3.5 s before its first model: importing dbt-core and the adapter (2 s),
then reading the parsed project (1 s), in every process. The build's dbt therefore starts as a
*warm* process when the run starts loading the exports (``dbt_project.start_warm_dbt``): it imports
dbt, parses the project (``dbtRunner``, dbt's programmatic interface) and waits on a Unix socket in
a private folder. When the dbt step comes, dagster-dbt runs this file as its dbt executable (the
*relay*): the relay hands the command line, the environment and the folder to the warm process, which
runs the command with the manifest it parsed (dbt's documented way to reuse a parse) and writes dbt's
output to the socket; the relay copies it to its own standard output, where dagster-dbt reads dbt's
events as from any dbt process, and exits with dbt's exit code.

The relay needs nothing but the standard library (it may run under any Python 3). Where no warm
process answers, it runs the real dbt instead (``CPWH_WARM_DBT_FALLBACK``), so a build never depends
on the warm process being there. A warm process serves one command and ends; it ends too when the
process that started it ends, or after ``IDLE_SECONDS`` without a command. The environment it
receives (the pseudonym key among it) goes through the socket only, never to a file. Whichever way
it ends, it leaves nothing in its folder: it removes the socket, the relay removes the exit code
once read, and then the warm process removes the folder (which its starter removes too, when it
lives to stop it).
"""

import gc
import json
import os
import socket
import sys
import time
import traceback
from contextlib import suppress

SERVE_VARIABLE = "CPWH_WARM_DBT_SERVE"  # the socket a warm process listens on (set when one starts)
SOCKET_VARIABLE = "CPWH_WARM_DBT_SOCKET"  # the socket the relay hands the command to
FALLBACK_VARIABLE = "CPWH_WARM_DBT_FALLBACK"  # the real dbt, when no warm process answers
IDLE_SECONDS = 6 * 3600  # a scale-100 load takes minutes; a warm process left behind ends by itself
EXIT_SUFFIX = ".exit"  # beside the socket: dbt's exit code, written before the output ends
READ_SECONDS = 30  # how long a warm process waits for the relay to read the exit code


def serve(path: str, parse_args: list[str]) -> int:
    """Listen on ``path``, parse the project, run the one command the relay sends."""
    starter = os.getppid()  # before the parse: the starter may be gone by the time it ends
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)  # before parsing: a relay that comes early waits in the backlog
    listener.listen(1)
    try:
        return _serve(listener, path, parse_args, starter)
    finally:
        listener.close()
        _clean_up(path)


def _serve(listener: socket.socket, path: str, parse_args: list[str], starter: int) -> int:
    from dbt.cli.main import dbtRunner

    _format_only_written_events()
    parsed = dbtRunner().invoke(parse_args)
    # A failed parse leaves no manifest: the command then parses for itself and reports the error.
    manifest = parsed.result if parsed.success else None
    connection = _accept(listener, starter)
    if connection is None:
        return 0
    with connection, connection.makefile("rb") as reader:
        request = json.loads(reader.readline())
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(connection.fileno(), 1)
        os.dup2(connection.fileno(), 2)
        try:
            result = dbtRunner(manifest=manifest).invoke(request["args"])
            code = 0 if result.success else (2 if result.exception is not None else 1)  # as dbt's CLI
        except BaseException:
            traceback.print_exc()
            code = 2
        sys.stdout.flush()
        sys.stderr.flush()
        with suppress(OSError):  # before the exit code: a starter that finds no socket knows the command ended
            os.unlink(path)
        with open(path + EXIT_SUFFIX, "w", encoding="utf-8") as handle:
            handle.write(str(code))
        # The output ends here, not when this process does: the relay reads the exit code meanwhile.
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)
        os.close(quiet)
    return code


def _format_only_written_events() -> None:
    """dbt formats every event as a JSON line for each of its loggers (standard output, ``dbt.log``)
    and only then lets Python's logging drop the lines below the logger's level. The debug events (a
    few for each statement and connection) are most events: formatting them took about 2.5 s of the
    interpreter in a scale-1 build, which dbt's two threads share. In the warm process a logger
    formats only the events its level lets through; what it writes is the same, line for line."""
    from dbt_common.events import logger as dbt_logger
    from dbt_common.events.base_types import EventLevel

    write_line = dbt_logger._Logger.write_line

    def write_written_line(self, msg) -> None:
        # The level dbt's write_line logs the line at (print events as errors, so --quiet shows them).
        level = EventLevel.ERROR if dbt_logger._is_print_event(msg) else EventLevel(msg.info.level)
        python_logger = self._python_logger
        if python_logger is None or python_logger.isEnabledFor(dbt_logger._log_level_map[level]):
            write_line(self, msg)

    dbt_logger._Logger.write_line = write_written_line


def _clean_up(path: str) -> None:
    """Remove the socket, and the private folder once the relay has read the exit code (it removes
    the file): a warm process whose starter was killed leaves no folder behind."""
    with suppress(OSError):
        os.unlink(path)
    exit_code, deadline = path + EXIT_SUFFIX, time.monotonic() + READ_SECONDS
    while os.path.exists(exit_code) and time.monotonic() < deadline:
        time.sleep(0.05)
    with suppress(OSError):  # only if empty
        os.rmdir(os.path.dirname(path))


def _accept(listener: socket.socket, starter: int) -> socket.socket | None:
    """The relay's connection; None when the starting process has ended or nobody came in time."""
    deadline = time.monotonic() + IDLE_SECONDS
    listener.settimeout(2)
    while time.monotonic() < deadline and os.getppid() == starter:
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            continue
        connection.settimeout(None)
        return connection
    return None


def relay(args: list[str]) -> int:
    """Run a dbt command in the warm process, or with the real dbt when none answers."""
    path = os.environ.get(SOCKET_VARIABLE)
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        if not path:
            raise ConnectionRefusedError("no warm dbt process")
        connection.connect(path)
    except OSError:
        connection.close()
        fallback = os.environ[FALLBACK_VARIABLE]
        os.execv(fallback, [fallback, *args])
    environment = {k: v for k, v in os.environ.items() if k not in (SOCKET_VARIABLE, FALLBACK_VARIABLE)}
    request = {"args": args, "env": environment, "cwd": os.getcwd()}
    with connection:
        connection.sendall(json.dumps(request).encode("utf-8") + b"\n")
        out = sys.stdout.buffer
        while chunk := connection.recv(65536):
            out.write(chunk)
            out.flush()
    try:
        with open(path + EXIT_SUFFIX, encoding="utf-8") as handle:
            code = int(handle.read())
        os.unlink(path + EXIT_SUFFIX)
        return code
    except (OSError, ValueError):
        print(f"the warm dbt process at {path} ended without finishing the command", file=sys.stderr)
        return 2


if __name__ == "__main__":
    serving = os.environ.pop(SERVE_VARIABLE, None)
    code = serve(serving, sys.argv[1:]) if serving else relay(sys.argv[1:])
    gc.freeze()
    sys.exit(code)
