"""Great Expectations suites (``expectations/*.json``) run against the warehouse.

A suite is data: its ``meta`` names the Dagster asset it guards, the SQL that selects the batch
(only the columns its expectations need, so a wide table is never loaded whole into pandas) and
optionally a column to report rates by (``by``: per country). Each expectation's ``meta`` says
why it exists, its check name and its severity: ``blocking`` (a contract or integrity failure:
publication stops) or ``warning`` (a known data gap of real exports, tracked per country).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pandas as pd

from orchestration.paths import EXPECTATIONS_DIR
from orchestration.warehouse import connect

SAMPLE_KEYS = 5


@dataclass(frozen=True)
class Suite:
    name: str
    asset: tuple[str, ...]
    query: str
    expectations: tuple[dict, ...]
    key: str | None = None
    by: str | None = None
    database: str = "warehouse"  # or "published"

    @property
    def checks(self) -> list[dict]:
        return [e["meta"] for e in self.expectations]


@dataclass
class Outcome:
    check: str
    severity: str
    passed: bool
    why: str
    element_count: int = 0
    unexpected_count: int = 0
    unexpected_percent: float = 0.0
    rates_by: dict[str, float] = field(default_factory=dict)
    sample_keys: list[str] = field(default_factory=list)
    error: str | None = None


def load_suites(folder: Path = EXPECTATIONS_DIR) -> list[Suite]:
    suites = []
    for path in sorted(folder.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        meta = document["meta"]
        suites.append(
            Suite(
                name=document["name"],
                asset=tuple(meta["asset"]),
                query=meta["query"],
                expectations=tuple(document["expectations"]),
                key=meta.get("key"),
                by=meta.get("by"),
                database=meta.get("database", "warehouse"),
            )
        )
    return suites


@cache
def _batch_definition():
    # Set when GX is first used, not when this module is imported: no telemetry, no progress bars.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("TQDM_DISABLE", "1")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("cpwh").add_dataframe_asset("batch")
    return context, asset.add_batch_definition_whole_dataframe("whole")


def _validate(frame: pd.DataFrame, suite: Suite) -> list:
    import great_expectations as gx

    context, batch_definition = _batch_definition()
    expectations = [{k: v for k, v in e.items() if k in ("type", "kwargs", "meta")} for e in suite.expectations]
    gx_suite = context.suites.add_or_update(gx.ExpectationSuite(name=suite.name, expectations=expectations))
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    result_format = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_KEYS}
    if suite.key:
        result_format["unexpected_index_column_names"] = [suite.key]
    return batch.validate(gx_suite, result_format=result_format).results


def read_batch(database: Path, suite: Suite) -> pd.DataFrame:
    con = connect(database, read_only=True)
    try:
        return con.execute(suite.query).df()
    finally:
        con.close()


def _sample_keys(result, key: str | None) -> list[str]:
    rows = result.result.get("partial_unexpected_index_list") or []
    return [str(r.get(key)) for r in rows if isinstance(r, dict) and key in r][:SAMPLE_KEYS]


def _exception_message(info: dict) -> str | None:
    """GX reports an exception either directly or per metric; either way, its message."""
    if info.get("raised_exception"):
        return str(info.get("exception_message"))[:300]
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message"))[:300]
    return None


def _by_check(results: list) -> dict:
    """GX does not keep the suite's order: results are matched to expectations by their check name."""
    return {r.expectation_config.meta["check"]: r for r in results}


def run_suite(suite: Suite, frame: pd.DataFrame) -> list[Outcome]:
    """Validate the batch; with ``by``, also each group's rate of unexpected values."""
    results = _by_check(_validate(frame, suite))
    outcomes = []
    for expectation in suite.expectations:
        meta = expectation["meta"]
        result = results[meta["check"]]
        outcome = Outcome(
            check=meta["check"],
            severity=meta["severity"],
            passed=bool(result.success),
            why=meta["why"],
            element_count=int(result.result.get("element_count") or 0),
            unexpected_count=int(result.result.get("unexpected_count") or 0),
            unexpected_percent=float(result.result.get("unexpected_percent") or 0.0),
            sample_keys=_sample_keys(result, suite.key),
        )
        error = _exception_message(result.exception_info or {})
        if error:
            outcome.passed, outcome.error = False, error
        outcomes.append(outcome)
    if suite.by and len(frame):
        for group, part in frame.groupby(suite.by):
            group_results = _by_check(_validate(part, suite))
            for outcome in outcomes:
                rate = group_results[outcome.check].result.get("unexpected_percent") or 0.0
                outcome.rates_by[str(group)] = round(float(rate), 3)
    return outcomes


def write_quality_page(home: Path, suite: Suite, outcomes: list[Outcome]) -> Path:
    """Record the suite's latest validation and re-render reports/quality/index.html (offline HTML)."""
    folder = Path(home) / "reports" / "quality"
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "suite": suite.name,
        "asset": "/".join(suite.asset),
        "validated_at": datetime.now(UTC).isoformat(),
        "outcomes": [o.__dict__ for o in outcomes],
    }
    (folder / f"{suite.name}.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
    records = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]
    rows = []
    for r in records:
        for o in r["outcomes"]:
            status = "passed" if o["passed"] else ("FAILED" if o["severity"] == "blocking" else "warning")
            rates = ", ".join(f"{k} {v:.2f}%" for k, v in o["rates_by"].items())
            rows.append(
                f"<tr class='{status.lower()}'><td>{r['asset']}</td><td>{o['check']}</td><td>{o['severity']}</td>"
                f"<td>{status}</td><td>{o['unexpected_count']} / {o['element_count']}</td><td>{rates}</td>"
                f"<td>{', '.join(k[:12] for k in o['sample_keys'])}</td><td>{o['why']}</td></tr>"
            )
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Data quality validations</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse;font-size:.8rem}"
        "td,th{border-bottom:1px solid #ddd;padding:.2rem .4rem;text-align:left;vertical-align:top}"
        ".failed{background:#ffebee}.warning{background:#fff8e1}</style></head><body>"
        "<h1>Latest Great Expectations validations</h1><table><thead><tr><th>Asset</th><th>Check</th>"
        "<th>Severity</th><th>Status</th><th>Unexpected</th><th>Rate by country</th><th>Sample keys</th>"
        f"<th>Why</th></tr></thead><tbody>{''.join(rows)}</tbody></table></body></html>"
    )
    index = folder / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
