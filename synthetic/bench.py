"""``make bench``: time and peak memory of generation and raw loading, checked against targets.

Each measurement runs in its own process so its peak resident memory is its own. Results go to
``$CPWH_HOME/bench/results.json`` and are printed as a table; the exit code is 1 when a target is
missed. ``--scales 1,10,100`` chooses the generation scales (100 takes a while).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from orchestration.settings import Settings

# Targets: generation streams in chunks, so memory stays bounded whatever the scale.
GENERATION_SECONDS_PER_SCALE = 30.0
GENERATION_PEAK_MB = 3_000
LOAD_SECONDS_PER_SCALE = 30.0
LOAD_PEAK_MB = 3_000

_GENERATE = """
import sys
from pathlib import Path
from synthetic import generate_exports
generate_exports(Path(sys.argv[1]), scale=float(sys.argv[2]), seed=42)
"""
_LOAD = """
import sys
from pathlib import Path
from orchestration.ingest.profiles import load_profiles
from orchestration.ingest.loader import load_country
for profile in load_profiles().values():
    load_country(Path(sys.argv[2]), Path(sys.argv[1]), profile)
"""


def _measure(code: str, *args: str) -> tuple[float, float]:
    """Seconds and peak resident memory (MB) of a Python snippet run in a fresh process."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", code, *args])
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise RuntimeError(f"benchmark step failed with exit code {child.returncode}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def _folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def run(scales: list[float], work: Path) -> list[dict]:
    results = []
    for scale in sorted(scales):
        landing = work / f"landing-{scale:g}"
        shutil.rmtree(landing, ignore_errors=True)
        seconds, peak = _measure(_GENERATE, str(landing), str(scale))
        results.append(
            {
                "step": "generate",
                "scale": scale,
                "seconds": round(seconds, 1),
                "peak_mb": round(peak),
                "output_mb": round(_folder_mb(landing)),
                "target_seconds": GENERATION_SECONDS_PER_SCALE * max(scale, 1),
                "target_peak_mb": GENERATION_PEAK_MB,
            }
        )
        database = work / f"warehouse-{scale:g}.duckdb"
        database.unlink(missing_ok=True)
        seconds, peak = _measure(_LOAD, str(landing), str(database))
        results.append(
            {
                "step": "load raw",
                "scale": scale,
                "seconds": round(seconds, 1),
                "peak_mb": round(peak),
                "output_mb": round(database.stat().st_size / 1e6),
                "target_seconds": LOAD_SECONDS_PER_SCALE * max(scale, 1),
                "target_peak_mb": LOAD_PEAK_MB,
            }
        )
        shutil.rmtree(landing, ignore_errors=True)
        database.unlink(missing_ok=True)
        print(_table(results[-2:]), flush=True)
    return results


def _table(results: list[dict]) -> str:
    lines = []
    for r in results:
        ok = r["seconds"] <= r["target_seconds"] and r["peak_mb"] <= r["target_peak_mb"]
        lines.append(
            f"{r['step']:<9} scale {r['scale']:>5g}: {r['seconds']:>7.1f} s (target {r['target_seconds']:g}),"
            f" peak {r['peak_mb']:>5} MB (target {r['target_peak_mb']}), output {r['output_mb']} MB"
            f"  {'ok' if ok else 'MISSED'}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synthetic.bench", description=__doc__)
    parser.add_argument("--scales", default="1,10", help="comma-separated generation scales (default 1,10)")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    out = settings.home / "bench"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out) as work:
        results = run([float(s) for s in args.scales.split(",")], Path(work))
    (out / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    missed = [r for r in results if r["seconds"] > r["target_seconds"] or r["peak_mb"] > r["target_peak_mb"]]
    print(f"\nresults: {out / 'results.json'}; {len(missed)} target(s) missed")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
