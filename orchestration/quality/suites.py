"""Great Expectations suites (``expectations/*.json``) run against the warehouse.

A suite is data: its ``meta`` names the Dagster asset it guards, the SQL that selects the batch
(only the columns its expectations need, so a wide table is never loaded whole into pandas) and
optionally a column to report rates by (``by``: per country). Each expectation's ``meta`` says
why it exists, its check name and its severity: ``blocking`` (a contract or integrity failure:
publication stops) or ``warning`` (a known data gap of real exports, tracked per country).

A suite validated by group (``by``) keeps each group's results with a fingerprint of the group's
rows (``validate``): the next validation of the same suite reuses them for a group whose rows are
the same, and validates only the groups that changed (a new export of one country).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from orchestration.paths import EXPECTATIONS_DIR
from orchestration.warehouse import connect, quote_identifier

if TYPE_CHECKING:
    import pandas as pd

SAMPLE_KEYS = 5
ROW_INDEX = "__row"  # the name of a batch's row index (0, 1, ...), by which GX reports unexpected rows


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

    @property
    def columns(self) -> set[str]:
        """The names the expectations use: their columns and every word of their row conditions."""
        return {n for e in self.expectations for n in _named_columns(e["kwargs"]) | _condition_words(e["kwargs"])}


def _named_columns(kwargs: dict) -> set[str]:
    """The columns an expectation names (``column``, ``column_A``, ``column_B``, ``column_list``)."""
    listed = [kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B"), *kwargs.get("column_list", [])]
    return {column for column in listed if column}


def _condition_words(kwargs: dict) -> set[str]:
    """Every word of an expectation's row condition (a pandas query), a column or not."""
    return set(re.findall(r"[A-Za-z_]\w*", kwargs.get("row_condition") or ""))


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


@dataclass
class GroupResult:
    """One group's validation against one expectation: what a suite's outcome sums over groups."""

    passed: bool
    element_count: int
    unexpected_count: int
    missing_count: int
    unexpected_percent: float
    sample_keys: list[str]
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


_CONTEXT_LOCK = threading.Lock()


def warm_up() -> threading.Thread:
    """Import GX and create its context in a background thread (about 2 s of imports), while this
    process is waiting for something else, such as the dbt build in its subprocess."""
    _quiet_gx()
    thread = threading.Thread(target=_batch_definition, name="gx-warm-up", daemon=True)
    thread.start()
    return thread


def _batch_definition():
    with _CONTEXT_LOCK:  # one context, whichever thread asks first
        return _new_batch_definition()


def _quiet_gx() -> None:
    # Set when GX is first used, not when this module is imported: no telemetry, no progress bars.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("TQDM_DISABLE", "1")


@cache
def _new_batch_definition():
    _quiet_gx()
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
    result_format = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_KEYS}
    if suite.key:
        # A named row index, and only the positions of unexpected rows (no values): GX then lists
        # them in one step, and the sample keys are read at those positions. With
        # unexpected_index_column_names GX looked each unexpected row up cell by cell (fct_cases at
        # scale 10: 3 of its 4 s); a string index of keys made every lookup hash the index.
        frame = frame.rename_axis(ROW_INDEX)
        result_format["exclude_unexpected_values"] = True
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    return batch.validate(gx_suite, result_format=result_format).results


def read_batch(database: Path, suite: Suite) -> Iterator[tuple[object, pd.DataFrame]]:
    """The suite's rows as (group, frame): with ``by``, one frame per group (a country's rows), so
    that pandas never holds more than one country of a large table; without, one frame."""
    con = connect(database, read_only=True)
    try:
        if not suite.by:
            yield None, _categorical(con.execute(suite.query).df(), suite.key)
            return
        by = quote_identifier(suite.by)
        distinct = f"select distinct {by} from ({suite.query}) as batch order by 1"
        groups = [g for (g,) in con.execute(distinct).fetchall()]
        if not groups:  # an empty table is validated too (and passes or fails as GX says)
            yield None, con.execute(f"select * from ({suite.query}) as batch where false").df()
        for group in groups:
            yield group, _group_frame(con, suite, group)
    finally:
        con.close()


def _group_frame(con, suite: Suite, group: object) -> pd.DataFrame:
    by = quote_identifier(suite.by)
    rows = f"select * from ({suite.query}) as batch where {by} is not distinct from ?"
    return _categorical(con.execute(rows, [group]).df(), suite.key)


def _categorical(frame: pd.DataFrame, key: str | None) -> pd.DataFrame:
    """Text columns other than the key as pandas categories. GX fingerprints every batch and
    filters it for each expectation; on a category that is work on a few codes, not on every string
    (the case suite at scale 10: 3.5 s to 2.4 s, the same outcomes)."""
    import pandas as pd  # with GX, imported while dbt runs (see warm_up), not when the code location loads

    text = [c for c in frame.columns if c != key and pd.api.types.is_string_dtype(frame[c].dtype)]
    return frame.astype(dict.fromkeys(text, "category")) if text else frame


def _sample_keys(result, frame: pd.DataFrame, key: str | None) -> list[str]:
    """The keys of the first unexpected rows: GX gives their positions, as one list under the index's name."""
    if not key:
        return []
    rows = result.result.get("partial_unexpected_index_list") or []
    positions = [p for r in rows if isinstance(r, dict) for p in r.get(ROW_INDEX) or []][:SAMPLE_KEYS]
    return [str(k) for k in frame[key].iloc[positions]]


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


def run_suite(suite: Suite, batches: Iterable[tuple[object, pd.DataFrame]]) -> list[Outcome]:
    """Validate each group once; the suite's outcome sums the groups, and each group's rate of
    unexpected values is kept (``rates_by``). A suite with ``by`` must be decidable group by group:
    its expectations are row rules, or uniqueness of a key that includes the group (the case key
    is a pseudonym of country and record id)."""
    return _combine(suite, ((group, _group_results(suite, frame)) for group, frame in batches))


def _gx_frame(frame: pd.DataFrame, suite: Suite) -> pd.DataFrame:
    """What GX is given of a batch: only the columns its expectations name, in the same row positions
    (by which the sample keys are read from the whole batch), a key that is only checked for
    uniqueness and nulls as its codes, nullable integers as float64. GX hashes the whole frame twice
    to fingerprint it, half of a case suite's time at scale 10 when the frame held the keys as text;
    and it compares a column of nullable integers with ``between`` value by value in Python (a
    quarter of it), a float64 column at once. A nullable integer is missing where the float is NaN
    and exact up to 2**53, so the outcome is the same."""
    import pandas as pd

    named = suite.columns  # derived from the expectations: once, not for every column
    frame = frame[[c for c in frame.columns if c in named]]
    if suite.key in frame.columns and _only_identity_checks(suite, suite.key):
        # A key that expectations check (unique, not null) as its codes: equal keys share a code and a
        # missing key has none (-1, then NaN), so uniqueness and nulls are the key's; hashing numbers
        # is a fraction of hashing the text of a quarter of a million keys.
        codes, _ = pd.factorize(frame[suite.key])
        frame = frame.assign(**{suite.key: pd.Series(codes, index=frame.index).where(codes >= 0)})
    integers = [c for c in frame.columns if pd.api.types.is_integer_dtype(frame[c].dtype)]
    return frame.astype(dict.fromkeys(integers, "float64")) if integers else frame


# Expectations whose outcome depends only on which values are equal and which are missing.
IDENTITY_CHECKS = {
    "expect_column_values_to_be_unique",
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_null",
}


def _only_identity_checks(suite: Suite, column: str) -> bool:
    """Whether every expectation that uses ``column`` is an identity check (none compares its values
    or names it in a row condition), so that codes in its place give the same outcome."""
    for expectation in suite.expectations:
        kwargs = expectation["kwargs"]
        if column in _condition_words(kwargs):
            return False
        if column in _named_columns(kwargs) and expectation["type"] not in IDENTITY_CHECKS:
            return False
    return True


def _group_results(suite: Suite, frame: pd.DataFrame) -> dict[str, GroupResult]:
    results = {}
    for check, result in _by_check(_validate(_gx_frame(frame, suite), suite)).items():
        counts = result.result
        results[check] = GroupResult(
            passed=bool(result.success),
            element_count=int(counts.get("element_count") or 0),
            unexpected_count=int(counts.get("unexpected_count") or 0),
            missing_count=int(counts.get("missing_count") or 0),
            unexpected_percent=round(float(counts.get("unexpected_percent") or 0.0), 3),
            sample_keys=_sample_keys(result, frame, suite.key),
            error=_exception_message(result.exception_info or {}),
        )
    return results


def _combine(suite: Suite, groups: Iterable[tuple[object, dict[str, GroupResult]]]) -> list[Outcome]:
    outcomes = {
        meta["check"]: Outcome(check=meta["check"], severity=meta["severity"], passed=True, why=meta["why"])
        for meta in suite.checks
    }
    nonmissing = dict.fromkeys(outcomes, 0)
    for group, results in groups:
        for check, result in results.items():
            outcome = outcomes[check]
            outcome.passed = outcome.passed and result.passed and not result.error
            outcome.element_count += result.element_count
            outcome.unexpected_count += result.unexpected_count
            nonmissing[check] += result.element_count - result.missing_count
            outcome.sample_keys = (outcome.sample_keys + result.sample_keys)[:SAMPLE_KEYS]
            outcome.error = outcome.error or result.error
            if group is not None:
                outcome.rates_by[str(group)] = result.unexpected_percent
    for check, outcome in outcomes.items():
        # GX's unexpected_percent: among the values that are not missing (all values for null checks).
        if nonmissing[check]:
            outcome.unexpected_percent = 100.0 * outcome.unexpected_count / nonmissing[check]
    return list(outcomes.values())


MEMO_FORMAT = 1  # raised when what a memo holds changes


def memo_path(home: Path, suite: Suite) -> Path:
    """Where a suite's results by group are kept between validations."""
    return Path(home) / "checks" / f"{suite.name}.json"


def validate(database: Path, suite: Suite, memo: Path | None = None) -> list[Outcome]:
    """The suite's outcomes, as ``run_suite`` over ``read_batch`` gives them. With ``memo`` and a
    suite validated by group, each group's rows are fingerprinted first (their number and the sum of
    DuckDB's 64-bit hash of each whole row, one query): a group whose fingerprint is the one the memo
    holds for the same suite (its expectations and query, GX's and DuckDB's versions) takes its
    results from there, the others are validated, and the memo is written again. Reusing a result is
    not checking less: the same rows under the same expectations give the same result. A group
    whose validation raised an error is not kept."""
    if memo is None or not suite.by:
        return run_suite(suite, read_batch(database, suite))
    digest = _suite_digest(suite)
    kept = _read_memo(memo, digest)
    con = connect(database, read_only=True)
    try:
        by = quote_identifier(suite.by)
        # hash(row): the alias as a struct of the whole row (an unlikely name, never a column's)
        fingerprints = con.execute(
            f"select {by}, count(*), sum(hash(fingerprinted)::hugeint)"
            f" from ({suite.query}) as fingerprinted group by 1 order by 1"
        ).fetchall()
        if not fingerprints:  # an empty table: validated as one empty batch
            return run_suite(suite, read_batch(database, suite))
        groups = []
        for group, count, total in fingerprints:
            fingerprint = f"{count}:{total}"
            known = kept.get(json.dumps(group, default=str))
            if known and known["fingerprint"] == fingerprint:
                results = {check: GroupResult(**result) for check, result in known["results"].items()}
            else:
                results = _group_results(suite, _group_frame(con, suite, group))
            groups.append((group, fingerprint, results))
    finally:
        con.close()
    _write_memo(memo, digest, groups)
    return _combine(suite, ((group, results) for group, _, results in groups))


def _suite_digest(suite: Suite) -> str:
    what = {
        "format": MEMO_FORMAT,
        "suite": [suite.query, suite.expectations, suite.key, suite.by],
        "versions": [version("great-expectations"), version("duckdb")],
    }
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()


def _read_memo(memo: Path, digest: str) -> dict[str, dict]:
    try:
        document = json.loads(memo.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if document.get("digest") != digest:
        return {}
    return {json.dumps(entry["group"], default=str): entry for entry in document.get("groups", [])}


def _write_memo(memo: Path, digest: str, groups: list[tuple[object, str, dict[str, GroupResult]]]) -> None:
    entries = [
        {"group": group, "fingerprint": fingerprint, "results": {c: asdict(r) for c, r in results.items()}}
        for group, fingerprint, results in groups
        if not any(r.error for r in results.values())
    ]
    memo.parent.mkdir(parents=True, exist_ok=True)
    written = memo.with_suffix(".tmp")
    written.write_text(json.dumps({"digest": digest, "groups": entries}, default=str), encoding="utf-8")
    written.replace(memo)


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
