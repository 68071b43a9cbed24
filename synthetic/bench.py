"""``make bench`` (also ``cpwh bench``): full builds at several scales, against the floor and targets.

For each scale (default 0.1, 1 and 10; ``--scales 0.1,1,10,100`` adds 100) the default exports are
generated once into ``$CPWH_HOME/bench/landing-<scale>`` and kept for the next benchmark. Then:

- **full build**: ``cpwh build`` into a fresh home, ``--repeat`` times (default 3; the median
  counts). Each stage comes from the run's own Dagster event log (step start to step end): start-up
  (process start to the start of the load step, which opens the first file at once), load, dbt,
  checks (the Great Expectations suites), publish, report (the HTML report and the dbt docs page),
  and the rest (Dagster between steps, the run history after the run). Wall time and peak memory
  are those of every process of the build together (the command, dbt, the Dagster helpers),
  sampled ten times a second from /proc.
- **floor**: one plain process that reads the same files with DuckDB (calamine for workbooks) and
  computes headline indicators with one query per country (``synthetic/floor.py``); build/floor is
  what the pipeline's guarantees (quarantine, tests, checks, lineage, history) cost on top.
- **incremental**: after the last full build, one country's next export (generated with another
  seed and a later date) arrives and ``cpwh build --countries <it>`` runs in the same home.

Results go to ``$CPWH_HOME/bench/results.json`` (a scale measured earlier and not now keeps its
row) and ``results.md``, and are printed as a table; the exit code is 1 when a target is missed.
The incremental build is measured up to scale 10. ``--engine spark`` times the same builds on the
Spark target into ``results-spark.json`` and ``results-spark.md`` (the targets are DuckDB's).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

from orchestration.settings import ENGINES, Settings

SEED = 42
INCREMENTAL_COUNTRY = "KEN"
INCREMENTAL_UP_TO = 10
# Targets on the reference machine (two cores); see issue "Fast and lean at every scale".
TARGETS = {
    "scale_1_seconds": 20.0,
    "scale_1_startup_seconds": 3.0,
    "scale_10_seconds": 90.0,
    "growth_1_to_10": 5.0,
    "build_over_floor_10": 3.0,
    "scale_100_seconds": 30 * 60.0,
    "scale_100_peak_mb": 6 * 1024.0,
    "incremental_share_10": 0.40,
}
STAGES = ("startup", "load", "dbt", "checks", "publish", "report", "rest")


class TreeSampler:
    """Peak resident memory of a process and all its descendants together, from /proc."""

    def __init__(self, pid: int, interval: float = 0.1):
        self.pid, self.interval, self.peak_kb = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, _tree_rss_kb(self.pid))
            self._stop.wait(self.interval)


def _tree_rss_kb(root: int) -> int:
    page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * page_kb
    tree, frontier = {root}, [root]
    while frontier:
        found = [pid for pid in children.get(frontier.pop(), []) if pid not in tree]
        tree.update(found)
        frontier.extend(found)
    return sum(rss.get(pid, 0) for pid in tree)


def measure(command: list[str], env: dict[str, str] | None = None) -> dict:
    """Run a command; its wall time, the peak memory of its process tree and its start time."""
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with TreeSampler(child.pid) as sampler:
        output, _ = child.communicate()
    seconds = time.perf_counter() - started
    if child.returncode:
        raise RuntimeError(f"{' '.join(command)} failed with exit code {child.returncode}:\n{output[-3000:]}")
    return {"seconds": seconds, "peak_mb": sampler.peak_kb / 1024, "started_at": started_at, "output": output}


def _cpwh(args: list[str], home: Path, landing: Path) -> dict:
    env = {**os.environ, "CPWH_HOME": str(home), "CPWH_LANDING": str(landing)}  # CPWH_ENGINE passes on
    env.setdefault("CPWH_PSEUDONYM_KEY", "benchmark-key-not-a-secret")
    env.pop("DAGSTER_HOME", None)
    return measure([sys.executable, "-m", "orchestration.cli", *args], env)


def stage_seconds(home: Path, started_at: datetime, total: float) -> dict[str, float]:
    """Each stage's seconds, from the step events of the home's latest run."""
    runs = home / "dagster" / "history" / "runs"
    database = max((p for p in runs.glob("*.db") if p.name != "index.db"), key=lambda p: p.stat().st_mtime)
    con = sqlite3.connect(database)
    try:
        rows = con.execute(
            "select step_key, dagster_event_type, timestamp from event_logs"
            " where dagster_event_type in ('STEP_START', 'STEP_SUCCESS', 'STEP_FAILURE') order by id"
        ).fetchall()
    finally:
        con.close()
    spans: dict[str, list[datetime]] = {}
    for step, _, stamp in rows:
        spans.setdefault(step, []).append(datetime.fromisoformat(stamp).replace(tzinfo=UTC))
    stages = dict.fromkeys(STAGES, 0.0)
    for step, times in spans.items():
        seconds = (max(times) - min(times)).total_seconds()
        if step == "raw__country_exports":
            stages["load"] += seconds
            stages["startup"] = (min(times) - started_at).total_seconds()
        elif step == "dbt_warehouse":
            stages["dbt"] += seconds
        elif step.startswith("gx__"):
            stages["checks"] += seconds
        elif step == "published__marts":
            stages["publish"] += seconds
        else:
            stages["report"] += seconds
    stages["rest"] = total - sum(stages.values())
    return {k: round(v, 2) for k, v in stages.items()}


def landing_for(scale: float, bench: Path) -> tuple[Path, float | None]:
    """The default exports at this scale, generated once (the seconds it took, or None if kept)."""
    landing = bench / f"landing-{scale:g}"
    done = landing / ".generated"
    if done.exists():
        return landing, None
    shutil.rmtree(landing, ignore_errors=True)
    code = (
        "from pathlib import Path; from synthetic import generate_exports; "
        f"generate_exports(Path({str(landing)!r}), scale={scale}, seed={SEED})"
    )
    generated = measure([sys.executable, "-c", code])
    done.write_text(json.dumps({"scale": scale, "seed": SEED, "seconds": generated["seconds"]}), encoding="utf-8")
    return landing, generated["seconds"]


def bench_scale(scale: float, bench: Path, work: Path, repeat: int) -> dict:
    landing, generation = landing_for(scale, bench)
    builds = []
    for attempt in range(repeat):
        home = work / f"home-{scale:g}-{attempt}"
        run = _cpwh(["build"], home, landing)
        builds.append(
            {
                "seconds": round(run["seconds"], 2),
                "peak_mb": round(run["peak_mb"]),
                "stages": stage_seconds(home, run["started_at"], run["seconds"]),
            }
        )
        if attempt < repeat - 1:
            shutil.rmtree(home)
    median = statistics.median_low(b["seconds"] for b in builds)
    chosen = next(b for b in builds if b["seconds"] == median)
    floor = measure([sys.executable, "-m", "synthetic.floor", str(landing)])
    # The incremental build is measured up to scale 10 (its target's scale); at 100 it would add
    # another quarter of an hour.
    incremental = _incremental(scale, landing, home, work) if scale <= INCREMENTAL_UP_TO else None
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "scale": scale,
        "generation_seconds": round(generation, 1) if generation is not None else None,
        "landing_mb": round(sum(p.stat().st_size for p in landing.rglob("*") if p.is_file()) / 1e6),
        "build_seconds": chosen["seconds"],
        "build_peak_mb": max(b["peak_mb"] for b in builds),
        "build_seconds_all": [b["seconds"] for b in builds],
        "stages": chosen["stages"],
        "floor_seconds": round(floor["seconds"], 2),
        "floor_peak_mb": round(floor["peak_mb"]),
        "floor_figures": json.loads(floor["output"].strip().splitlines()[-1]),
        "build_over_floor": round(chosen["seconds"] / floor["seconds"], 2),
        "incremental_country": INCREMENTAL_COUNTRY,
        "incremental_seconds": round(incremental["seconds"], 2) if incremental else None,
        "incremental_share": round(incremental["seconds"] / chosen["seconds"], 2) if incremental else None,
        "incremental_stages": stage_seconds(home, incremental["started_at"], incremental["seconds"])
        if incremental
        else None,
    }


def _commit() -> str | None:
    found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    return found.stdout.strip() or None


def _incremental(scale: float, landing: Path, home: Path, work: Path) -> dict:
    """One country's next export after a full build: the same landing zone (linked, not copied)
    plus that export, built into the home of the last full build."""
    arrivals = work / f"landing-{scale:g}-next"
    shutil.copytree(landing, arrivals, copy_function=os.link)
    code = (
        "import datetime; from pathlib import Path; from synthetic import generate_exports; "
        f"generate_exports(Path({str(arrivals)!r}), countries=[{INCREMENTAL_COUNTRY!r}], scale={scale},"
        f" seed={SEED + 1}, as_of=datetime.date(2024, 1, 31))"
    )
    measure([sys.executable, "-c", code])
    return _cpwh(["build", "--countries", INCREMENTAL_COUNTRY], home, arrivals)


def verdicts(results: list[dict]) -> list[tuple[str, float, float, bool]]:
    """(target, measured, limit, met) for each target the measured scales can answer."""
    by_scale = {r["scale"]: r for r in results}
    found = []

    def check(name: str, value: float, limit: float) -> None:
        found.append((name, value, limit, value <= limit))

    if 1 in by_scale:
        check("scale 1 full build, s", by_scale[1]["build_seconds"], TARGETS["scale_1_seconds"])
        startup = by_scale[1]["stages"]["startup"]
        check("scale 1 start-up to first file read, s", startup, TARGETS["scale_1_startup_seconds"])
    if 10 in by_scale:
        check("scale 10 full build, s", by_scale[10]["build_seconds"], TARGETS["scale_10_seconds"])
        check("scale 10 build / floor", by_scale[10]["build_over_floor"], TARGETS["build_over_floor_10"])
        if by_scale[10]["incremental_share"] is not None:
            check("scale 10 incremental / full", by_scale[10]["incremental_share"], TARGETS["incremental_share_10"])
        if 1 in by_scale:
            growth = by_scale[10]["build_seconds"] / by_scale[1]["build_seconds"]
            check("growth scale 1 to 10", round(growth, 2), TARGETS["growth_1_to_10"])
    if 100 in by_scale:
        check("scale 100 full build, s", by_scale[100]["build_seconds"], TARGETS["scale_100_seconds"])
        check("scale 100 peak memory, MB", by_scale[100]["build_peak_mb"], TARGETS["scale_100_peak_mb"])
    return found


def markdown(results: list[dict], machine: str, with_targets: bool = True) -> str:
    lines = [
        f"Machine: {machine}.",
        "",
        "| scale | exports MB | full build s (median of runs) | peak MB | "
        + " | ".join(STAGES)
        + " | floor s | build/floor | incremental s (share) | commit |",
        "|---:" * (7 + len(STAGES)) + "|---|",
    ]
    for r in results:
        stages = " | ".join(f"{r['stages'][s]:.1f}" for s in STAGES)
        runs = ", ".join(f"{s:.1f}" for s in r["build_seconds_all"])
        incremental = "not measured"
        if r["incremental_seconds"]:
            incremental = f"{r['incremental_seconds']:.1f} ({r['incremental_share']:.0%})"
        lines.append(
            f"| {r['scale']:g} | {r['landing_mb']} | {r['build_seconds']:.1f} ({runs})"
            f" | {r['build_peak_mb']} | {stages} | {r['floor_seconds']:.1f} | {r['build_over_floor']:.2f}"
            f" | {incremental} | {r.get('commit') or '?'} |"
        )
    if with_targets:
        lines += ["", "| target | measured | limit | |", "|---|---:|---:|---|"]
        lines += [f"| {n} | {v:g} | {lim:g} | {'met' if ok else 'MISSED'} |" for n, v, lim, ok in verdicts(results)]
    return "\n".join(lines)


def machine_description() -> str:
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), "?")
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {memory_gb:.0f} GB, Python {sys.version.split()[0]}, {date.today()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cpwh bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="0.1,1,10", help="comma-separated scales (default 0.1,1,10; add 100)")
    parser.add_argument("--repeat", type=int, default=3, help="full builds per scale (default 3, the median counts)")
    parser.add_argument("--engine", choices=ENGINES, default=None, help="default: $CPWH_ENGINE or duckdb")
    args = parser.parse_args(argv)
    if args.engine:
        os.environ["CPWH_ENGINE"] = args.engine
    settings = Settings.from_env()
    bench = settings.home / "bench"
    bench.mkdir(parents=True, exist_ok=True)
    name = "results" if settings.engine == "duckdb" else f"results-{settings.engine}"
    # Earlier results of other scales stay (``--scales 100`` after ``make bench`` completes the table).
    stored = bench / f"{name}.json"
    kept = {r["scale"]: r for r in json.loads(stored.read_text(encoding="utf-8"))} if stored.exists() else {}
    with tempfile.TemporaryDirectory(dir=bench, prefix="work-") as work:
        for scale in sorted(float(s) for s in args.scales.split(",")):
            scale = int(scale) if scale.is_integer() else scale
            kept[scale] = bench_scale(scale, bench, Path(work), args.repeat)
            print(json.dumps({k: v for k, v in kept[scale].items() if k != "floor_figures"}), flush=True)
    results = [kept[s] for s in sorted(kept)]
    table = markdown(results, f"{machine_description()}, engine {settings.engine}", settings.engine == "duckdb")
    (bench / f"{name}.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    (bench / f"{name}.md").write_text(table + "\n", encoding="utf-8")
    print(table)
    missed = [v for v in verdicts(results) if not v[3]] if settings.engine == "duckdb" else []
    print(f"\nresults: {bench / name}.json, {bench / name}.md; {len(missed)} target(s) missed")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
