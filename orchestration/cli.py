"""``cpwh``: the warehouse's command line.

Exit codes: 0 success; 1 failure (nothing built, a query failed, or blocking quality checks stopped
publication, as a broken export does); 2 wrong arguments; 3 partial success (published although
some exports could not be loaded; the errors are printed).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

from orchestration.profiles import COUNTRY_CODES
from orchestration.settings import Settings

EXIT_OK, EXIT_FAILED, EXIT_PARTIAL = 0, 1, 3


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _countries(text: str) -> list[str]:
    codes = [c.strip().upper() for c in text.split(",") if c.strip()]
    unknown = [c for c in codes if c not in COUNTRY_CODES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown country code(s) {unknown}; known: {', '.join(COUNTRY_CODES)}")
    return codes


def _scale(text: str) -> float:
    value = float(text)
    if not 0.001 <= value <= 100:
        raise argparse.ArgumentTypeError("--scale must be between 0.001 and 100")
    return value


def _landing_is_empty(landing: Path) -> bool:
    return not landing.exists() or not any(landing.glob("*/*/_READY"))


def cmd_generate(args: argparse.Namespace) -> int:
    from orchestration.generator import generate_exports
    from orchestration.generator.parameters import parse_defects

    settings = Settings.from_env(args.home, args.landing)
    if args.if_empty and not _landing_is_empty(settings.landing):
        _progress(f"landing zone {settings.landing} already holds exports: nothing generated")
        return EXIT_OK
    try:
        defects = parse_defects(args.defects)
    except ValueError as error:
        print(f"cpwh generate: {error}", file=sys.stderr)
        return EXIT_FAILED
    _progress(f"generating {', '.join(args.countries)} at scale {args.scale} into {settings.landing}")
    results = generate_exports(
        settings.landing,
        countries=args.countries,
        scale=args.scale,
        seed=args.seed,
        as_of=args.as_of,
        snapshots=args.snapshots,
        defects=defects,
        keep_truth=args.truth is not None,
        progress=_progress,
    )
    for country, result in results.items():
        rows = ", ".join(f"{d}: {n} case rows" for d, n in result.rows.items())
        _progress(f"{country}: {rows} ({result.seconds:.1f} s)")
        if args.truth is not None:
            args.truth.mkdir(parents=True, exist_ok=True)
            for export_date, truth in result.truth.items():
                truth.to_parquet(args.truth / f"{country}_{export_date}.parquet", index=False)
    return EXIT_OK


def _print_step_failures(result) -> None:
    for event in result.all_events:
        if event.is_step_failure:
            print(f"{event.step_key}: {event.step_failure_data.error.message}", file=sys.stderr)


def cmd_build(args: argparse.Namespace) -> int:
    settings = Settings.from_env(args.home, args.landing)
    settings.export_to_environment()
    settings.ensure_dagster_home()
    from dagster import DagsterInstance

    from orchestration.definitions import defs  # reads the settings exported above

    instance = DagsterInstance.get()
    quiet = {"loggers": {"console": {"config": {"log_level": "DEBUG" if args.verbose else "CRITICAL"}}}}
    failed = []
    for country in args.countries:
        _progress(f"loading raw exports of {country} from {settings.landing / country}")
        result = defs.resolve_job_def("load_raw_exports").execute_in_process(
            partition_key=country, instance=instance, raise_on_error=False, run_config=quiet
        )
        if not result.success:
            failed.append(country)
            _print_step_failures(result)
    if len(failed) == len(args.countries):
        _progress("no country could be loaded: nothing to transform")
        return EXIT_FAILED
    _progress("running the dbt project (seeds, models, tests)")
    result = defs.resolve_job_def("transform").execute_in_process(
        instance=instance, raise_on_error=False, run_config=quiet
    )
    if not result.success:
        _print_step_failures(result)
        _progress("the build failed (see above); the published marts were left as they were")
        return EXIT_FAILED
    _progress(f"warehouse built: {settings.warehouse}")
    if failed:
        _progress(f"exports of {', '.join(failed)} could not be loaded; their last good exports stay in use")
        return EXIT_PARTIAL
    return EXIT_OK


def _published_or_warehouse(settings: Settings, warehouse: bool) -> Path | None:
    from orchestration.publish import published_path

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

    path = _published_or_warehouse(Settings.from_env(args.home, None), args.warehouse)
    if path is None:
        return EXIT_FAILED
    con = duckdb.connect(str(path), read_only=True)
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


def cmd_report(args: argparse.Namespace) -> int:
    from orchestration.report import write_report

    settings = Settings.from_env(args.home, None)
    path = _published_or_warehouse(settings, False)
    if path is None:
        return EXIT_FAILED
    out = write_report(path, args.out or settings.home / "reports" / "report.html")
    print(out)
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="cpwh", description="Child protection case-management data warehouse.")
    commands = root.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="write synthetic CPIMS+ exports for the six profiles")
    generate.add_argument("--scale", type=_scale, default=1.0, help="1 = about 91,500 in-scope children (0.001-100)")
    generate.add_argument("--seed", type=int, default=42)
    generate.add_argument("--as-of", type=date.fromisoformat, default=date(2023, 12, 31), help="export date")
    generate.add_argument("--snapshots", type=int, default=1, help="K monthly full exports ending on --as-of")
    generate.add_argument(
        "--defects", default="default", help="'default' (per-country rates), 'none', or rates like D1=0.05,D10=0.02"
    )
    generate.add_argument("--countries", type=_countries, default=list(COUNTRY_CODES), help="e.g. BGD,KEN")
    generate.add_argument("--landing", type=Path, default=None, help="default: $CPWH_LANDING or $CPWH_HOME/landing")
    generate.add_argument("--home", type=Path, default=None, help="default: $CPWH_HOME or ./data")
    generate.add_argument("--if-empty", action="store_true", help="only when the landing zone holds no export")
    generate.add_argument(
        "--truth",
        type=Path,
        default=None,
        help="also write what each case row should harmonise to (parquet, for testing)",
    )
    generate.set_defaults(func=cmd_generate)

    build = commands.add_parser("build", help="load every ready export and build the warehouse")
    build.add_argument("--landing", type=Path, default=None, help="default: $CPWH_LANDING or $CPWH_HOME/landing")
    build.add_argument("--home", type=Path, default=None, help="default: $CPWH_HOME or ./data")
    build.add_argument("--countries", type=_countries, default=list(COUNTRY_CODES))
    build.add_argument("--verbose", action="store_true", help="show every Dagster event")
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

    report = commands.add_parser("report", help="write the HTML report from the published marts")
    report.add_argument("--out", type=Path, default=None, help="default: $CPWH_HOME/reports/report.html")
    report.add_argument("--home", type=Path, default=None, help="default: $CPWH_HOME or ./data")
    report.set_defaults(func=cmd_report)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
