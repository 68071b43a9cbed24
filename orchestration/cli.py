"""``cpwh``: the warehouse's command line.

Exit codes: 0 success; 1 failure (nothing built, a query failed, or blocking quality checks stopped
publication, as a broken export does); 2 wrong arguments; 3 partial success (published although
some exports could not be loaded; the errors are printed); 130 interrupted (Ctrl-C). A failure is
said in one line on standard error; an error nobody foresaw also writes its traceback to
``$CPWH_HOME/logs/error-<time>.log`` (owner-only) and names that file, never the traceback itself.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from orchestration.ingest.profile_schema import ProfileError
from orchestration.settings import ENGINES, Settings, SettingsError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PARTIAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class _Parser(argparse.ArgumentParser):
    """Wrong arguments are said in one line too (exit 2), pointing at --help instead of printing usage."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _known_countries() -> tuple[str, ...]:
    """The profiled countries, read when a command needs them: a broken profile must not stop
    `cpwh profile check` from saying what is wrong with it."""
    from orchestration.ingest.profiles import COUNTRY_CODES

    return COUNTRY_CODES


def _countries(text: str) -> list[str]:
    codes = [c.strip().upper() for c in text.split(",") if c.strip()]
    try:
        known = _known_countries()
    except ProfileError as error:  # argparse would only say "invalid value"
        raise argparse.ArgumentTypeError(str(error)) from None
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown country code(s) {unknown}; known: {', '.join(known)}")
    return codes


def _contiguous_blocks(countries: list[str]) -> list[list[str]]:
    """A run covers one partition or a range of them: split a choice of countries into ranges."""
    order = {code: i for i, code in enumerate(_known_countries())}
    blocks: list[list[str]] = []
    for code in sorted(countries, key=order.get):
        if blocks and order[code] == order[blocks[-1][-1]] + 1:
            blocks[-1].append(code)
        else:
            blocks.append([code])
    return blocks


def cmd_build(args: argparse.Namespace) -> int:
    """Run the Dagster job ``build`` in this process: the same definition as the schedule, the
    sensor and the UI. This command only chooses the partitions and reports the outcome."""
    if args.engine:
        os.environ["CPWH_ENGINE"] = args.engine
    settings = Settings.from_env(args.home, args.landing)
    if not settings.landing.is_dir():
        print(
            f"cpwh build: the landing zone {settings.landing} does not exist or is not a folder"
            " (set --landing or CPWH_LANDING)",
            file=sys.stderr,
        )
        return EXIT_FAILED
    settings.export_to_environment()
    settings.ensure_dagster_home()
    if args.accept_drop:
        os.environ["CPWH_ACCEPT_DROP"] = ",".join(args.accept_drop)
    from orchestration.transform.warm_start import start_warm_dbt
    from orchestration.warehouse import WriterLock

    holder = WriterLock(settings.home).holder()
    if holder:
        _progress(f"another build holds {settings.home} ({holder}): waiting for it to finish")
    else:
        # dbt imports and parses the project (4-6 s in a new home) while Dagster starts and the
        # exports load: started in the run's load step, it held the dbt step up at scales up to 1.
        # Not while another build holds the home: its dbt writes the home's target folder, where the
        # parse writes too; the load step starts one once the run has the lock.
        start_warm_dbt(settings.home, settings.engine)
    from dagster import DagsterInstance

    from orchestration.automation.history import TRIGGER_TAG, get_run
    from orchestration.automation.jobs import full_build_tags
    from orchestration.transform.dbt_project import prepare_manifest

    prepare_manifest()
    from orchestration.definitions import defs  # reads the settings exported above

    job = defs.resolve_job_def("build")
    quiet = {"loggers": {"console": {"config": {"log_level": "DEBUG" if args.verbose else "CRITICAL"}}}}
    log = settings.home / "logs" / f"build-{time.strftime('%Y%m%dT%H%M%S')}.log"
    exit_code = EXIT_OK
    with DagsterInstance.get() as instance:
        for block in _contiguous_blocks(args.countries or list(_known_countries())):
            _progress(f"building {', '.join(block)} from {settings.landing} (Dagster job 'build')")
            with _output_to(None if args.verbose else log):
                result = job.execute_in_process(
                    instance=instance,
                    tags={**full_build_tags(block), TRIGGER_TAG: "cpwh build"},
                    run_config=quiet,
                    raise_on_error=False,
                )
            exit_code = max(exit_code, _report_run(get_run(settings.home, result.run_id), settings))
    if not args.verbose:
        _progress(f"dbt's full output: {log}")
    return exit_code


@contextmanager
def _output_to(log: Path | None):
    """Send what the build writes to standard output (dbt's log lines) to an owner-only log file."""
    if log is None:
        yield
        return
    log.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    sys.stdout.flush()
    saved, target = os.dup(1), os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(target, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(target)


def _report_run(run: dict | None, settings: Settings) -> int:
    from orchestration.automation.history import run_exports

    if run is None:
        _progress("the build did not start (see the Dagster run log)")
        return EXIT_FAILED
    failed_loads = [e for e in run_exports(settings.home, run["run_id"]) if e["status"] == "failed"]
    for export in failed_loads:
        print(f"{export['country_code']} {export['export_date']}: {export['error']}", file=sys.stderr)
    if run["error"]:
        print(run["error"], file=sys.stderr)
    for check in run["failing_checks"]:
        print(f"blocking asset check failed: {check}", file=sys.stderr)
    if run["outcome"] != "published":
        _progress(f"run {run['run_id'][:8]} {run['outcome']}: nothing published, the published marts stay as they were")
        return EXIT_FAILED
    _progress(f"published {run['publication_id'][:12]} (run {run['run_id'][:8]}); warnings: {len(run['warnings'])}")
    return EXIT_PARTIAL if failed_loads else EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from orchestration.automation.status import status_text

    print(status_text(Settings.from_env(args.home, None)))
    return EXIT_OK


def _published_or_warehouse(settings: Settings, warehouse: bool) -> Path | None:
    from orchestration.publish.publication import published_path

    path = settings.warehouse if warehouse else published_path(settings.home)
    if not path.exists():
        print(
            f"cpwh: no {'warehouse' if warehouse else 'published marts'} at {path}; run 'cpwh build' first",
            file=sys.stderr,
        )
        return None
    return path


def _print_frame(frame, output_format: str, max_rows: int) -> None:
    if output_format == "csv":
        frame.to_csv(sys.stdout, index=False)
    elif output_format == "json":
        frame.to_json(sys.stdout, orient="records", date_format="iso", force_ascii=False)
        print()
    else:
        print(frame.to_string(index=False, max_rows=max_rows))


def cmd_sql(args: argparse.Namespace) -> int:
    import duckdb

    settings = Settings.from_env(args.home, None)
    path = _published_or_warehouse(settings, args.warehouse)
    if path is None:
        return EXIT_FAILED
    # Read-only, and no file reads, writes or attaches: a query sees this database and nothing else
    # (the raw exports hold names); the configuration is locked so a query cannot turn that back on.
    con = duckdb.connect(str(path), read_only=True, config={"enable_external_access": False})
    if args.warehouse:  # the keyed function dbt registers, for queries that pseudonymise an id as dbt does
        from orchestration.pseudonym import load_key, register

        register(con, load_key(settings.home))
    con.execute("set lock_configuration = true")
    try:
        frame = con.execute(args.query).df()
    except duckdb.Error as error:
        print(f"cpwh sql: {error}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        con.close()
    _print_frame(frame, args.format, args.max_rows)
    return EXIT_OK


def cmd_dq(args: argparse.Namespace) -> int:
    import duckdb

    path = _published_or_warehouse(Settings.from_env(args.home, None), False)
    if path is None:
        return EXIT_FAILED
    with duckdb.connect(str(path), read_only=True) as con:
        frame = con.execute(
            "select country_code, export_date, upper(check_id) as check_id, rate_pct, affected_rows, denominator_rows "
            "from mart_data_quality where check_kind = 'defect' and is_latest_export"
        ).df()
    wide = frame.pivot(index="country_code", columns="check_id", values="rate_pct")
    wide = wide[sorted(wide.columns, key=lambda c: int(c[1:]))].round(2)
    print("Defect rates (%) in each country's latest export; blank = suppressed small count")
    _print_frame(wide.reset_index(), args.format, 100)
    return EXIT_OK


def cmd_profile(args: argparse.Namespace) -> int:
    """``check FILE...``: validate profiles against the typed schema. ``sync``: write every file
    that follows from the profiles (``--check``: only say which are stale)."""
    if args.action == "check":
        import yaml

        from orchestration.ingest.profile_schema import check_profile

        failed = 0
        for path in args.files:
            try:
                problems = check_profile(yaml.safe_load(path.read_text(encoding="utf-8")))
            except (OSError, yaml.YAMLError) as error:
                problems = [f"cannot be read as YAML ({type(error).__name__}: {str(error).splitlines()[0][:150]})"]
            for problem in problems:
                print(f"{path}: {problem}", file=sys.stderr)
            if not problems:
                print(f"{path}: a valid profile")
            failed += bool(problems)
        return EXIT_FAILED if failed else EXIT_OK
    from orchestration.transform.profile_sync import sync

    changed = sync(check=args.check)
    for path in changed:
        print(f"{'stale' if args.check else 'wrote'}: {path}", file=sys.stderr)
    return EXIT_FAILED if (args.check and changed) else EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from orchestration.report.html_report import write_report

    settings = Settings.from_env(args.home, None)
    path = _published_or_warehouse(settings, False)
    if path is None:
        return EXIT_FAILED
    out = write_report(path, args.out or settings.home / "reports" / "report.html", home=settings.home)
    print(out)
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from orchestration.publish.publication import published_path
    from orchestration.publish.sharing import ExportError, export_published

    settings = Settings.from_env(args.home, None)
    try:
        written = export_published(published_path(settings.home), args.out, args.format)
    except ExportError as error:
        print(f"cpwh export: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{len(written) - 1} tables as {args.format} and datapackage.json in {args.out}")
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    root = _Parser(prog="cpwh", description="Child protection case-management data warehouse.")
    commands = root.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="load every ready export and build the warehouse")
    build.add_argument("--landing", type=Path, default=None, help="default: $CPWH_LANDING or $CPWH_HOME/landing")
    build.add_argument("--home", type=Path, default=None, help="default: $CPWH_HOME or ./data")
    build.add_argument("--countries", type=_countries, default=None, help="default: every profiled country")
    build.add_argument("--verbose", action="store_true", help="show every Dagster event")
    build.add_argument(
        "--engine", choices=ENGINES, default=None, help="what dbt builds with (default: $CPWH_ENGINE or duckdb)"
    )
    build.add_argument(
        "--accept-drop",
        type=_countries,
        default=[],
        help="publish although these countries lose more than half of their children in scope (a real drop)",
    )
    build.set_defaults(func=cmd_build)

    sql = commands.add_parser("sql", help="query the published marts read-only (--warehouse: the full warehouse)")
    sql.add_argument("query")
    sql.add_argument("--warehouse", action="store_true", help="query the internal warehouse instead")
    sql.add_argument("--format", choices=["table", "csv", "json"], default="table")
    sql.add_argument("--max-rows", type=int, default=200)
    sql.add_argument("--home", type=Path, default=None, help="default: $CPWH_HOME or ./data")
    sql.set_defaults(func=cmd_sql)

    dq = commands.add_parser("dq", help="print the data-quality summary by country")
    dq.add_argument("--format", choices=["table", "csv", "json"], default="table")
    dq.add_argument("--home", type=Path, default=None, help="default: $CPWH_HOME or ./data")
    dq.set_defaults(func=cmd_dq)

    status = commands.add_parser("status", help="exports, publication, recent runs, warnings and the next run")
    status.add_argument("--home", type=Path, default=None, help="default: $CPWH_HOME or ./data")
    status.set_defaults(func=cmd_status)

    report = commands.add_parser("report", help="write the HTML report from the published marts")
    report.add_argument("--out", type=Path, default=None, help="default: $CPWH_HOME/reports/report.html")
    report.add_argument("--home", type=Path, default=None, help="default: $CPWH_HOME or ./data")
    report.set_defaults(func=cmd_report)

    export = commands.add_parser(
        "export", help="write every published mart as CSV, HXL or Parquet, with datapackage.json"
    )
    export.add_argument("--format", choices=["csv", "hxl", "parquet"], required=True)
    export.add_argument("--out", type=Path, required=True, help="the folder to write (created if missing)")
    export.add_argument("--home", type=Path, default=None, help="default: $CPWH_HOME or ./data")
    export.set_defaults(func=cmd_export)

    bench = commands.add_parser(
        "bench", help="time full builds at several scales against the floor and targets (make bench)", add_help=False
    )
    bench.add_argument("options", nargs=argparse.REMAINDER, help="see 'cpwh bench --help'")

    profile = commands.add_parser("profile", help="check country profiles, or write what follows from them")
    actions = profile.add_subparsers(dest="action", required=True)
    check = actions.add_parser("check", help="validate profile files against the typed schema")
    check.add_argument("files", type=Path, nargs="+")
    sync = actions.add_parser("sync", help="write dbt sources, staging models, macros and suites from the profiles")
    sync.add_argument("--check", action="store_true", help="write nothing; exit 1 if a generated file is stale")
    profile.set_defaults(func=cmd_profile)
    return root


def _unforeseen(args: argparse.Namespace, error: BaseException) -> int:
    """One line for the user; the traceback goes to an owner-only log file (it may quote values)."""
    import traceback

    home = Settings.from_env(getattr(args, "home", None)).home
    log = home / "logs" / f"error-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    try:
        log.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            traceback.print_exception(error, file=handle)
        where = f"; details in {log}"
    except OSError:
        where = ""
    print(f"cpwh {args.command}: failed ({type(error).__name__}: {str(error)[:200]}){where}", file=sys.stderr)
    return EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:  # the benchmark is tooling beside the product (synthetic/bench.py), with its own options
        os.execv(sys.executable, [sys.executable, "-m", "synthetic.bench", *argv[1:]])
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:  # `cpwh sql ... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print(f"cpwh {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ProfileError as error:  # a broken profile in countries/: its file, key and rule
        print(f"cpwh {args.command}: {error}", file=sys.stderr)
        return EXIT_FAILED
    except SettingsError as error:  # a setting in the environment that cannot be used, like a wrong argument
        print(f"cpwh {args.command}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as error:  # noqa: BLE001 - no traceback reaches the user
        return _unforeseen(args, error)


def run() -> None:
    """The ``cpwh`` command: ``main``, then the process ends without its last garbage collection. That
    collection walks every object Dagster, dbt and Great Expectations left (2 s after a build, nothing
    to reclaim as the process ends); frozen, they are freed with the process. Every file, database and
    child process was closed or awaited by then (the warm dbt process and the docs command at exit)."""
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
