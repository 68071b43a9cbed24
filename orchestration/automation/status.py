"""``cpwh status``: what a data engineer asks first in the morning, without opening the UI."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from orchestration.automation.history import latest_exports, recent_runs
from orchestration.publish.publication import published_path
from orchestration.settings import Settings
from orchestration.warehouse import WriterLock


def _publication(home: Path) -> tuple[str, list[str]]:
    path = published_path(home)
    if not path.exists():
        return "none yet", []
    con = duckdb.connect(str(path), read_only=True)
    try:
        publication_id, published_at = con.execute("select publication_id, published_at from publication").fetchone()
        tables = {t for (t,) in con.execute("select table_name from information_schema.tables").fetchall()}
        exports = (
            con.execute("select country_code, export_date from publication_exports order by 1").fetchall()
            if "publication_exports" in tables
            else []
        )
    finally:
        con.close()
    return f"{publication_id[:12]} at {published_at:%Y-%m-%d %H:%M:%S} UTC", [f"{c} {d}" for c, d in exports]


def next_scheduled_run(settings: Settings) -> str:
    from dagster._utils.schedules import cron_string_iterator

    upcoming = next(cron_string_iterator(time.time(), settings.schedule_cron, settings.schedule_timezone))
    return f"{upcoming:%Y-%m-%d %H:%M %Z} (nightly_build, '{settings.schedule_cron}' {settings.schedule_timezone})"


def status_text(settings: Settings) -> str:
    home = settings.home
    lines = [f"Warehouse home: {home}"]
    holder = WriterLock(home).holder() if home.exists() else None
    lines.append(f"Build running now: {holder}" if holder else "Build running now: none")
    lines.append("")
    lines.append("Latest export per country:")
    exports = latest_exports(home)
    if not exports:
        lines.append("  none loaded yet")
    for export in exports:
        rows = f"{export['rows_loaded']:,} raw rows" if export["rows_loaded"] else ""
        why = f": {export['error'].splitlines()[0]}" if export["error"] else ""
        lines.append(f"  {export['country_code']} {export['export_date']}  {export['status']:<9} {rows}{why}")
    published, built_from = _publication(home)
    lines += ["", f"Current publication: {published}"]
    if built_from:
        lines.append(f"  built from: {', '.join(built_from)}")
    runs = recent_runs(home, 5)
    lines += ["", "Last runs:"]
    if not runs:
        lines.append("  none yet")
    for run in runs:
        what = f"publication {run['publication_id'][:12]}" if run["publication_id"] else ""
        if run["failing_checks"]:
            what = "blocked by " + ", ".join(run["failing_checks"])
        elif run["error"]:
            what = run["error"].splitlines()[0][:100]
        lines.append(
            f"  {run['finished_at'][:19].replace('T', ' ')}  {run['run_id'][:8]}  {run['trigger']:<22} "
            f"{run['partitions'] or '-':<10} {run['outcome']:<9} {what}"
        )
    warnings = runs[0]["warnings"] if runs else []
    lines += ["", f"Open warnings ({len(warnings)}, from the last run):"]
    lines += [f"  {w}" for w in warnings] or ["  none"]
    lines += ["", f"Next scheduled run: {next_scheduled_run(settings)}"]
    return "\n".join(lines)
