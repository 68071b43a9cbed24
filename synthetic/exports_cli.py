"""``cpwh-synthetic``: write synthetic CPIMS+ exports into a landing zone, as the six (or any
profiled) country instances would deliver them. Development and test data only: the warehouse
never imports this package. Exit codes as ``cpwh``: 0 success, 1 failure, 2 wrong arguments."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from orchestration.cli import EXIT_FAILED, EXIT_OK, _countries, _Parser, _progress
from orchestration.ingest.profiles import COUNTRY_CODES
from orchestration.settings import Settings
from synthetic import generate_exports
from synthetic.parameters import parse_defects


def _at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _scale(text: str) -> float:
    value = float(text)
    if not 0.001 <= value <= 100:
        raise argparse.ArgumentTypeError("--scale must be between 0.001 and 100")
    return value


def _landing_is_empty(landing: Path) -> bool:
    return not landing.exists() or not any(landing.glob("*/*/_READY"))


def cmd_generate(args: argparse.Namespace) -> int:
    settings = Settings.from_env(args.home, args.landing)
    if args.if_empty and not _landing_is_empty(settings.landing):
        _progress(f"landing zone {settings.landing} already holds exports: nothing generated")
        return EXIT_OK
    try:
        defects = parse_defects(args.defects)
    except ValueError as error:
        print(f"cpwh-synthetic: {error}", file=sys.stderr)
        return EXIT_FAILED
    settings.secure_home()
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


def parser() -> argparse.ArgumentParser:
    generate = _Parser(prog="cpwh-synthetic", description="Write synthetic CPIMS+ exports for the country profiles.")
    generate.add_argument("--scale", type=_scale, default=1.0, help="1 = about 91,500 in-scope children (0.001-100)")
    generate.add_argument("--seed", type=int, default=42)
    generate.add_argument("--as-of", type=date.fromisoformat, default=date(2023, 12, 31), help="export date")
    generate.add_argument(
        "--snapshots", type=_at_least_one, default=1, help="K monthly full exports ending on --as-of (1 or more)"
    )
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
    return generate


def main(argv: list[str] | None = None) -> int:
    return cmd_generate(parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
