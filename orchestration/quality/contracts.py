"""The suites that follow from the profiles, the seed and the policies: one raw contract per raw
table, the staging suite's category sets and study period, and the published copy's small-cell
checks, written by ``cpwh profile sync`` (orchestration/transform/
profile_sync.py). The other suites in expectations/ are written by hand.
"""

from __future__ import annotations

import json

from orchestration.ingest.profiles import COUNTRY_CODES, get_profile, raw_column_name
from orchestration.publish.publication import FLOW_COUNTS, SERVICE_COUNTS, SURVIVAL_COUNTS
from orchestration.transform.policy import policy
from orchestration.transform.seeds import categorisation

LATEST_LOADED = "(select max(export_date) from raw.export_loads where country = '{country}' and status = 'loaded')"


def raw_contract(country: str, table) -> dict:
    profile = get_profile(country)
    name = profile.raw_table_name(table.table)
    key = raw_column_name(table.case_key or profile.harmonise["record_id"])
    required = sorted(raw_column_name(table.field_name(h)) for h in table.required_headers)
    is_case_table = table.table == profile.harmonise["case_tables"][0]
    query = (
        f"select columns.column_name, batch.row_count, batch.missing_key_pct "
        f"from information_schema.columns as columns cross join ("
        f"select case when {LATEST_LOADED.format(country=country)} is not null then count(*) end as row_count, "
        f"coalesce(100.0 * (count(*) - count(nullif(trim({key}), ''))) / "
        f"nullif(count(*), 0), 0) as missing_key_pct from raw.{name} "
        f"where _export_date = {LATEST_LOADED.format(country=country)}) as batch "
        f"where columns.table_schema = 'raw' and columns.table_name = '{name}'"
    )
    expectations = [
        {
            "type": "expect_column_distinct_values_to_contain_set",
            "kwargs": {"column": "column_name", "value_set": required},
            "meta": {
                "check": f"{name}__required_columns_present",
                "severity": "blocking",
                "why": f"every column of the {country} profile must be in raw.{name}",
            },
        },
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "missing_key_pct", "min_value": 0, "max_value": 1.0},
            "meta": {
                "check": f"{name}__key_not_null",
                "severity": "blocking",
                "why": f"{key} links the rows: more than 1% of rows without it means a broken export",
            },
        },
    ]
    if is_case_table:
        expectations.append(
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "row_count", "min_value": 1},
                "meta": {
                    "check": f"{name}__rows_loaded",
                    "severity": "blocking",
                    "why": f"the latest loaded {country} export must hold cases (a country with no export yet has "
                    "no rows to check)",
                },
            }
        )
    # The contract is checked on the staging model that reads the table (the raw tables are written
    # by the same op as raw/country_exports), so a breach stops that run's publication.
    entity = "services" if table.table == profile.harmonise["services"].get("table") else "cases"
    guarded = ["staging", f"stg_{country.lower()}__{entity}"]
    return {
        "name": f"raw__{name}",
        "meta": {"asset": guarded, "raw_table": f"raw.{name}", "query": query},
        "expectations": expectations,
    }


def _categories(*fields: str) -> list[str]:
    seed = categorisation()
    return sorted(set(seed[seed.field.isin(fields)].category))


def staging_suite() -> dict:
    query = (
        "select country_code, case_key, status_category, sex, displacement_category, risk_level, care_category, "
        "age_years, cast(registration_date as varchar) as registration_date, "
        f"coalesce(registration_date between date '{policy().study_start}' and date '{policy().study_end}', false) "
        "as registered_in_study_period from intermediate.int_cases__derived"
    )
    sets = {
        "status_category": _categories("status") + ["unmapped"],
        "sex": sorted(set(_categories("sex")) | {"other_or_unknown", "unmapped"}),
        "displacement_category": _categories("displacement_status") + ["unknown", "unmapped"],
        "risk_level": sorted(set(_categories("risk_level", "case_priority")) | {"not_assessed", "unmapped"}),
        "care_category": _categories("care_arrangements_type") + ["unmapped"],
    }
    expectations = [
        _in_set(
            column,
            values,
            f"{column}_in_seed",
            f"{column} must be a category of the categorisation seed (or unmapped): anything else is "
            "a mapping bug, and every indicator built on it would be wrong",
        )
        for column, values in sets.items()
    ]
    expectations += [
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "age_years", "min_value": 0, "max_value": 25},
            "meta": {
                "check": "age_between_0_and_25",
                "severity": "warning",
                "why": "ages outside 0-25 are recording errors (D7, D8); tracked per country",
            },
        },
        {
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": "registration_date"},
            "meta": {
                "check": "registration_date_parses",
                "severity": "warning",
                "why": "D9: a registration date that is missing or does not parse in the profile's format",
            },
        },
        _in_set(
            "registered_in_study_period",
            [True],
            "registration_date_in_study_period",
            "D9: registrations missing, unparseable or outside the study period are out of scope",
            severity="warning",
        ),
    ]
    return {
        "name": "intermediate__int_cases__derived",
        "meta": {
            "asset": ["intermediate", "int_cases__derived"],
            "query": query,
            "key": "case_key",
            "by": "country_code",
        },
        "expectations": expectations,
    }


def _in_set(column: str, values: list, check: str, why: str, severity: str = "blocking") -> dict:
    """An expectation that every value of ``column`` is one of ``values``."""
    return {
        "type": "expect_column_values_to_be_in_set",
        "kwargs": {"column": column, "value_set": values},
        "meta": {"check": check, "severity": severity, "why": why},
    }


def published_suite() -> dict:
    """The published copy's suppression checks, with the small-cell rule of dbt_project.yml."""
    p = policy()
    query = (
        "select indicator_id || ' ' || country_code || ' ' || dimension || ' ' || dimension_value as cell, "
        "suppressed, value, numerator, not suppressed and (numerator between 1 and limit_ or denominator "
        f"between 1 and limit_) as small_cell_shown from (select *, {p.indicator_limit_sql('indicator_id')} as limit_ "
        "from mart_indicators)"
    )
    hidden = "a suppressed cell publishes neither its value nor its numerator"
    return {
        "name": "published__marts",
        "meta": {"asset": ["published", "marts"], "database": "published", "query": query, "key": "cell"},
        "expectations": [
            _in_set(
                "small_cell_shown",
                [False],
                "small_cells_suppressed",
                f"cells of 1-{p.small_cell_limit} children (1-{p.sensitive_small_cell_limit} for "
                "sensitive concerns) could identify a child",
            ),
            *(
                {
                    "type": "expect_column_values_to_be_null",
                    "kwargs": {"column": column, "row_condition": "suppressed==True", "condition_parser": "pandas"},
                    "meta": {"check": f"suppressed_{column}s_hidden", "severity": "blocking", "why": hidden},
                }
                for column in ("value", "numerator")
            ),
        ],
    }


def published_analyses_suite() -> dict:
    """The published copy's suppression checks of the analyses beyond the review: no count of
    1..limit children shows in the case flow, time to closure or services by concern, and a hidden
    time-to-closure group shows no estimate."""
    p = policy()

    def shown(columns: list[str], limit: str = str(p.small_cell_limit)) -> str:
        return "(" + " or ".join(f"coalesce({c} between 1 and {limit}, false)" for c in columns) + ")"

    def lone(table: str, breakdown: str) -> str:
        """One row per breakdown: exactly one hidden row among several gives itself away (the total
        minus the others)."""
        label = " || ' ' || ".join(breakdown.split(", "))
        return (
            f"select 'breakdown {table} ' || {label}, false, "
            f"sum(case when suppressed then 1 else 0 end) = 1 and count(*) > 1 from {table} where dimension <> 'total' "
            f"group by {breakdown}"
        )

    query = " union all ".join(
        [
            f"select 'mart_case_flow ' || country_code || ' ' || cast(export_date as varchar) as cell, "
            f"{shown(FLOW_COUNTS)} as small_cell_shown, false as lone_hidden_cell from mart_case_flow",
            "select 'mart_time_to_closure ' || country_code || ' ' || dimension || ' ' || dimension_value, "
            f"{shown(SURVIVAL_COUNTS)} "
            "or (suppressed and coalesce(median_days, still_open_12m_pct, mean_closed_months) is not null), false "
            "from mart_time_to_closure",
            "select 'mart_time_to_closure_curve ' || country_code || ' ' || dimension || ' ' || dimension_value "
            f"|| ' ' || cast(month_number as varchar), {shown(['at_risk'])} "
            "or (suppressed and still_open_pct is not null), false from mart_time_to_closure_curve",
            "select 'mart_services_by_concern ' || country_code || ' ' || dimension || ' ' || dimension_value || ' ' "
            f"|| concern_category || ' ' || service_category, {shown(SERVICE_COUNTS, 'limit_')}, false from "
            f"(select *, {p.limit_sql('concern_category')} as limit_ from mart_services_by_concern)",
            lone("mart_time_to_closure", "country_code, dimension"),
            lone("mart_time_to_closure_curve", "country_code, dimension, cast(month_number as varchar)"),
            lone("mart_services_by_concern", "country_code, dimension, concern_category, service_category"),
        ]
    )
    return {
        "name": "published__analyses",
        "meta": {"asset": ["published", "marts"], "database": "published", "query": query, "key": "cell"},
        "expectations": [
            _in_set(
                "small_cell_shown",
                [False],
                "analysis_small_cells_suppressed",
                f"counts of 1-{p.small_cell_limit} children (1-{p.sensitive_small_cell_limit} for "
                "sensitive concerns) in the flow, time to closure or services by concern could identify a child",
            ),
            _in_set(
                "lone_hidden_cell",
                [False],
                "analysis_no_lone_hidden_cell",
                "one hidden group in a breakdown is its total minus the groups shown",
            ),
        ],
    }


def written_suites() -> dict[str, dict]:
    suites = {
        "intermediate__int_cases__derived": staging_suite(),
        "published__marts": published_suite(),
        "published__analyses": published_analyses_suite(),
    }
    for country in COUNTRY_CODES:
        for table in get_profile(country).tables:
            suite = raw_contract(country, table)
            suites[suite["name"]] = suite
    return suites


def render(suite: dict) -> str:
    return json.dumps(suite, indent=2, ensure_ascii=False) + "\n"
