"""Publishing: the aggregate marts, small cells suppressed, into ``published/marts.duckdb``.

The copy is written to a temporary file beside the published one and renamed over it, so a reader
opening the path gets the old file or the new one, never a half-written one, and a reader that
has it open keeps its file while the next build runs. No record-level table is published.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.transform.policy import policy
from orchestration.warehouse import quote_identifier


def _quality_rates(leading: str, trailing: str, table: str) -> str:
    """A table of data-quality rates with the small-cell rule (policy): 1..small_cell_limit affected
    records hide the count and the rate."""
    hidden = _hidden("affected_rows")
    return f"""
        select {leading},
               case when {hidden} then null else affected_rows end as affected_rows,
               denominator_rows,
               case when {hidden} then null else rate_pct end as rate_pct,
               {trailing}
               {hidden} as suppressed
        from w.marts.{table}"""


def _hidden(column: str, limit: str = "") -> str:
    """A count of 1..limit hides itself (the small-cell rule; ``limit`` defaults to the policy's)."""
    return f"({column} between 1 and {limit or policy().small_cell_limit})"


def _unless(hidden: str, columns: list[str]) -> str:
    return ", ".join(f"case when {hidden} then null else {c} end as {c}" for c in columns)


FLOW_COUNTS = ["cases_in_scope", "opened", "closed", "reopened", "transferred", "open_at_month_end"]
SURVIVAL_COUNTS = ["cases", "closures", "censored", "closed_without_duration"]
SERVICE_COUNTS = ["children_with_concern", "children_served", "children_without_service", "children_with_service_date"]
SURVIVAL_FIGURES = [
    "still_open_1m_pct",
    "still_open_3m_pct",
    "still_open_6m_pct",
    "still_open_12m_pct",
    "median_days",
    "median_lower_days",
    "median_upper_days",
    "median_months",
    "mean_closed_months",
]
CURVE_FIGURES = ["at_risk", "still_open_pct", "still_open_lower_pct", "still_open_upper_pct"]
SERVICE_FIGURES = [
    "children_with_concern",
    "children_served",
    "pct_served",
    "children_without_service",
    "pct_without_service",
    "children_with_service_date",
    "median_days_to_first_service",
]


def _with_siblings(rows: str, primary: str, breakdown: str, order: str) -> str:
    """``rows`` with ``hidden``: the row is small (``primary``), or it is the smallest published
    sibling in a breakdown (sex, age group, risk level: ``breakdown`` partitions, ``order`` ranks)
    that has exactly one small row, which its total and the other siblings would give away, as
    int_indicators__suppressed does for mart_indicators."""
    small = f"case when ({primary}) then 1 else 0 end"
    return f"""
        select *,
               ({primary}) or (dimension <> 'total'
                   and sum({small}) over (partition by {breakdown}) = 1
                   and row_number() over (partition by {breakdown} order by {small}, {order}) = 1) as hidden
        from ({rows}) as rows_"""


def _time_to_closure_rows() -> str:
    """A group is hidden whole when one of its counts is 1..limit (with so few closures or open
    cases, the estimate is one child's duration), or as the sibling of such a group."""
    small = " or ".join(_hidden(c) for c in SURVIVAL_COUNTS)
    return _with_siblings(
        "select * from w.marts.mart_time_to_closure", small, "country_code, dimension", "cases, dimension_value"
    )


def _mart_case_flow() -> str:
    hidden = " or ".join(_hidden(c) for c in FLOW_COUNTS)
    columns = ", ".join(f"case when {_hidden(c)} then null else {c} end as {c}" for c in FLOW_COUNTS)
    return f"""
        select country_code, month, export_date, previous_export_date, is_baseline, {columns},
               coalesce({hidden}, false) as suppressed
        from w.marts.mart_case_flow"""


def _mart_time_to_closure() -> str:
    return f"""
        select country_code, dimension, dimension_value,
               {_unless("hidden", SURVIVAL_COUNTS + SURVIVAL_FIGURES)}, hidden as suppressed
        from ({_time_to_closure_rows()})"""


def _mart_time_to_closure_curve() -> str:
    """A point is hidden with its group, when 1..limit cases are still at risk (the tail), or as
    the sibling of such a point (the groups' cases at risk add up to the total's)."""
    rows = f"""
        select curve.*, groups.hidden as group_hidden
        from w.marts.mart_time_to_closure_curve as curve
        inner join ({_time_to_closure_rows()}) as groups using (country_code, dimension, dimension_value)"""
    flagged = _with_siblings(
        rows,
        f"group_hidden or {_hidden('at_risk')}",
        "country_code, dimension, month_number",
        "at_risk, dimension_value",
    )
    return f"""
        select country_code, dimension, dimension_value, month_number, {_unless("hidden", CURVE_FIGURES)},
               hidden as suppressed
        from ({flagged})"""


def _mart_services_by_concern() -> str:
    """A row is hidden whole when one of its counts is 1..limit (1..sensitive limit for the
    sensitive concerns), or as the sibling of such a row in the sex breakdown."""
    small = " or ".join(_hidden(c, "limit_") for c in SERVICE_COUNTS)
    rows = f"select *, {policy().limit_sql('concern_category')} as limit_ from w.marts.mart_services_by_concern"
    flagged = _with_siblings(
        rows,
        small,
        "country_code, dimension, concern_category, service_category",
        "children_with_concern, children_served, dimension_value",
    )
    return f"""
        select country_code, dimension, dimension_value, concern_category, service_category,
               {_unless("hidden", SERVICE_FIGURES)}, hidden as suppressed
        from ({flagged})"""


# Published table -> the SELECT over the warehouse (alias w) that makes it.
PUBLISHED_TABLES = {
    "mart_indicators": """
        select indicator_id, country_code, dimension, dimension_value,
               case when suppressed then null else numerator end as numerator,
               denominator,
               case when suppressed then null else value end as value,
               unit, suppressed
        from w.marts.mart_indicators""",
    "mart_sex_differences": f"""
        select country_code, concern_category, boys_with_any_concern, girls_with_any_concern,
               case when hidden then null else boys_with end as boys_with,
               case when hidden then null else girls_with end as girls_with,
               case when hidden then null else prevalence_boys_pct end as prevalence_boys_pct,
               case when hidden then null else prevalence_girls_pct end as prevalence_girls_pct,
               case when hidden then null else difference_pp end as difference_pp,
               chi_square, p_value, p_value_bh, is_significant, more_exposed, hidden as suppressed
        from (
            select *, (boys_with between 1 and limit_) or (girls_with between 1 and limit_) as hidden
            from (
                select *, {policy().limit_sql("concern_category")} as limit_
                from w.marts.mart_sex_differences
            )
        )""",
    "mart_data_quality": _quality_rates(
        "country_code, export_date, is_latest_export, check_id, check_kind, description", "", "mart_data_quality"
    ),
    "mart_caseload_profile": "select * from w.marts.mart_caseload_profile",
    "mart_concerns_by_sex_age": "select * from w.marts.mart_concerns_by_sex_age",
    "mart_services_care_closure": "select * from w.marts.mart_services_care_closure",
    "dim_country": "select * from w.marts.dim_country",
    "dim_concern_category": "select * from w.marts.dim_concern_category",
    "dim_service_category": "select * from w.marts.dim_service_category",
    "dim_care_category": "select * from w.marts.dim_care_category",
    "dim_closure_category": "select * from w.marts.dim_closure_category",
    "mart_data_quality_trend": _quality_rates(
        "run_id, built_at, country_code, export_date, check_id, check_kind",
        "previous_rate_pct, rate_jumped,",
        "mart_data_quality_trend",
    ),
    "mart_case_flow": _mart_case_flow(),
    "mart_time_to_closure": _mart_time_to_closure(),
    "mart_time_to_closure_curve": _mart_time_to_closure_curve(),
    "mart_services_by_concern": _mart_services_by_concern(),
}
# The exports every published figure rests on: per country, the latest complete export and its load.
EXPORTS_USED = """
    select latest.country_code, latest.export_date, loads.load_id
    from w.intermediate.int_exports__latest as latest
    left join (
        select country, export_date, load_id,
               row_number() over (partition by country, export_date order by loaded_at desc) as attempt
        from w.raw.export_loads where status = 'loaded'
    ) as loads
        on loads.country = latest.country_code and loads.export_date = latest.export_date and loads.attempt = 1
    order by country_code"""
# What every published figure rests on, per country: the export and its load, the files with their
# SHA-256, and the rows of all the country's loaded exports (cases, concerns, services) by what
# became of them (the reconciliation: raw = harmonised + quarantined + resolved duplicates + superseded).
PROVENANCE = """
    select used.country_code, used.export_date, used.load_id, loads.loaded_at,
           files.files, files.file_sha256,
           cast(rows_.raw_rows as bigint) as raw_rows,
           cast(rows_.harmonised_rows as bigint) as harmonised_rows,
           cast(rows_.quarantined_rows as bigint) as quarantined_rows,
           cast(rows_.resolved_duplicate_rows as bigint) as resolved_duplicate_rows,
           cast(rows_.superseded_rows as bigint) as superseded_rows
    from main.publication_exports as used
    left join w.raw.export_loads as loads on loads.load_id = used.load_id
    left join (
        select load_id,
               string_agg(distinct source_file, '; ' order by source_file) as files,
               string_agg(distinct source_file || ' ' || file_sha256, '; ' order by source_file || ' ' || file_sha256)
                   as file_sha256
        from w.raw.export_files group by load_id
    ) as files on files.load_id = used.load_id
    left join (
        select country_code, sum(raw_rows) as raw_rows, sum(harmonised_rows) as harmonised_rows,
               sum(quarantined_rows) as quarantined_rows, sum(resolved_duplicate_rows) as resolved_duplicate_rows,
               sum(superseded_rows) as superseded_rows
        from w.intermediate.int_rows__reconciled group by country_code
    ) as rows_ on rows_.country_code = used.country_code
    order by used.country_code"""
# DuckDB 1.x (1.4 is the long-term-support release many SQL clients and drivers embed) cannot open
# a file in DuckDB 2.0's storage format: the published file is written in 1.4's.
PUBLISHED_STORAGE_VERSION = "v1.4.0"


class PublishError(Exception):
    """The warehouse is not fit to publish; the previous published file stays."""


def published_path(home: Path) -> Path:
    return Path(home) / "published" / "marts.duckdb"


@dataclass
class Publication:
    publication_id: str
    rows: dict[str, int]  # published table -> rows
    exports_used: dict[str, str]  # country -> export date


def publish(
    warehouse: Path, home: Path, run_id: str | None = None, accept_drop: frozenset[str] = frozenset()
) -> Publication:
    """Write the published copy, check it against the current one, and swap it in. ``accept_drop``
    names countries whose fall in children (see ``guard_against_drops``) is accepted as real."""
    target = published_path(home)
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(".marts-*"):  # left by a build that was killed (only one build writes)
        stale.unlink(missing_ok=True)
    staging = target.with_name(f".marts-{uuid.uuid4().hex}.duckdb")
    try:
        publication = _write(warehouse, staging, run_id)
        _validate_before_swap(staging)
        if target.exists():
            guard_against_drops(target, staging, accept_drop)
        os.replace(staging, target)
    finally:
        staging.unlink(missing_ok=True)
        staging.with_name(staging.name + ".wal").unlink(missing_ok=True)
    return publication


DROP_LIMIT = 0.5  # a country may not lose more than half of its children in scope from one publication to the next


def _children_by_country(path: Path) -> tuple[dict[str, float], dict[str, str]]:
    """Children in scope per country (a suppressed count reads as 0), and the export each rests on."""
    with duckdb.connect(str(path), read_only=True) as con:
        children = con.execute(
            "select country_code, coalesce(value, 0) from mart_indicators where indicator_id = 'children_in_scope'"
            " and dimension = 'total' and country_code <> 'ALL'"
        ).fetchall()
        exports = con.execute("select country_code, cast(export_date as varchar) from publication_exports").fetchall()
    return {c: float(n) for c, n in children}, dict(exports)


def guard_against_drops(current: Path, candidate: Path, accept_drop: frozenset[str]) -> None:
    """Refuse a publication in which a country vanishes or loses more than half of its children in
    scope: far more often a broken export (unreadable dates, a partial file) than a real change."""
    (before, _), (after, exports) = _children_by_country(current), _children_by_country(candidate)
    refused = []
    for country, children in sorted(before.items()):
        now = after.get(country, 0.0)
        if children > 0 and now < DROP_LIMIT * children and not accept_drop & {country, "ALL"}:
            refused.append(
                f"{country} (export {exports.get(country, 'none')}): children in scope would fall from "
                f"{children:,.0f} to {now:,.0f}"
            )
    if refused:
        raise PublishError(
            "refused: " + "; ".join(refused) + f" (more than {DROP_LIMIT:.0%} lost against the current publication). "
            "If the drop is real, build again with --accept-drop "
            + ",".join(r[:3] for r in refused)
            + " (or CPWH_ACCEPT_DROP)"
        )


def _validate_before_swap(path: Path) -> None:
    """The published copy's own suites (suppression) must pass before it replaces the old one."""
    from orchestration.quality.suites import load_suites, read_batch, run_suite

    for suite in load_suites():
        if suite.database != "published":
            continue
        failed = [
            o.check for o in run_suite(suite, read_batch(path, suite)) if o.severity == "blocking" and not o.passed
        ]
        if failed:
            raise PublishError(f"the published copy fails {suite.name}: {', '.join(failed)}")


def _write(warehouse: Path, path: Path, run_id: str | None) -> Publication:
    con = duckdb.connect()
    try:
        con.execute(f"attach ? as published (storage_version '{PUBLISHED_STORAGE_VERSION}')", [str(path)])
        con.execute("use published")
        con.execute("attach ? as w (read_only)", [str(warehouse)])  # a path is bound, never pasted into SQL
        unbalanced = con.execute("select count(*) from w.intermediate.int_rows__reconciled where not is_balanced")
        if unbalanced.fetchone()[0]:
            raise PublishError("raw rows do not reconcile with harmonised, quarantined and duplicate rows")
        rows = {}
        for table, query in PUBLISHED_TABLES.items():
            con.execute(f"create table main.{quote_identifier(table)} as {query}")  # both are this module's text
            rows[table] = con.execute(f"select count(*) from main.{quote_identifier(table)}").fetchone()[0]
        publication_id = uuid.uuid4().hex
        con.execute(
            "create table main.publication as select ? as publication_id, ? as published_at, ? as table_rows,"
            " ? as run_id",
            [publication_id, datetime.now(UTC).replace(tzinfo=None), sum(rows.values()), run_id],
        )
        con.execute(f"create table main.publication_exports as {EXPORTS_USED}")
        exports = {c: str(d) for c, d, _ in con.execute("select * from main.publication_exports").fetchall()}
        con.execute(f"create table main.provenance as {PROVENANCE}")
        con.execute("detach w")
        con.execute("checkpoint published")
        con.execute("use memory")
        con.execute("detach published")
    finally:
        con.close()
    return Publication(publication_id, rows, exports)
