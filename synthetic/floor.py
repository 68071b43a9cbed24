"""The floor of ``make bench``: the least work that turns the landing zone into headline figures.

One plain process, no orchestration, no quarantine, no tests: DuckDB reads each country's files
(fastexcel its workbooks, the fastest xlsx reader here), then one query per country, written from
the country's profile and the categorisation seed, computes children in scope (status not
duplicate, registered in the study period, aged 0-17 or unknown, one row per record id: its latest
version), the share of boys, the mean age, the share of unaccompanied or separated children, of closed cases, of
neglect among concern records and of MHPSS among service records. It prints the figures as one
JSON line. What the build does beyond this (row-level lineage and quarantine, every defect rule,
pseudonyms, dbt tests, GX suites, suppression, history) is what the ratio build/floor measures.

``python -m synthetic.floor LANDING``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb
import fastexcel
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.ingest.profiles import load_profiles
from orchestration.paths import CATEGORISATION_SEED
from orchestration.transform.policy import policy


def _xlsx_table(workbook, sheet: str, aliases: dict[str, str]) -> pa.Table:
    batch = workbook.load_sheet(sheet, dtypes="string", eager=True)
    # A date cell reads as "2023-01-05 00:00:00": its date alone, as the profiles' date formats expect.
    columns = [pc.replace_substring_regex(c, r"^(\d{4}-\d\d-\d\d) 00:00:00$", r"\1") for c in batch.columns]
    return pa.table(columns, names=[aliases.get(n, n) for n in batch.schema.names])


def read_country(con, profile, folder: Path) -> None:
    """Each raw table of the country as a DuckDB table named after it, columns renamed as the profile says."""
    created = set()
    for spec in profile.files:
        for path in sorted(p for p in folder.iterdir() if spec.matches(p.name)):
            workbook = fastexcel.read_excel(str(path)) if spec.format == "xlsx" else None
            for table in spec.tables:
                if spec.format == "csv":
                    rename = ", ".join(f'"{c}" as "{table.field_name(c)}"' for c in table.columns)
                    relation = con.sql(
                        f"select {rename} from read_csv('{path}', all_varchar = true, header = true,"
                        f" delim = '{spec.delimiter}', quote = '\"', escape = '\"')"
                    )
                elif spec.format == "xlsx":
                    relation = con.from_arrow(_xlsx_table(workbook, table.sheet, table.aliases))
                elif table.nested_in:
                    relation = con.sql(
                        f"select unnest({table.nested_in}, recursive := true), id as case_id"
                        f" from read_json('{path}', format = 'newline_delimited')"
                    )
                else:
                    relation = con.sql(
                        f"select * exclude (services_section) from read_json('{path}', format = 'newline_delimited')"
                    )
                name = f"{profile.country_code}_{table.table}"
                relation.insert_into(name) if name in created else relation.create(name)
                created.add(name)


def headline_query(profile, concern_is_list: bool) -> str:
    h, code = profile.harmonise, profile.country_code
    record, fields = h["record_id"], h["fields"]
    tables = [f"{code}_{t}" for t in h["case_tables"]]
    cases = tables[0] + "".join(f" join {t} using ({record})" for t in tables[1:])
    label = profile.value_style == "label"

    def category(field: str, value: str) -> str:
        keys = "lower(trim(label_en)) = k or lower(trim(label_local)) = k" if label else "lower(option_id) = k"
        return (
            f"(select any_value(category) from lookup where country_code = '{code}' and field = '{field}'"
            f" and ({keys.replace('k', f'lower(trim(cast({value} as varchar)))')}))"
        )

    style = profile.multiselect.get("style")
    concern_field = h["concern_fields"][0]
    if concern_is_list:  # JSON Lines: DuckDB read the array as a list
        options = f"unnest({concern_field})"
    elif style == "json_array":
        options = f"unnest(cast(from_json(cast({concern_field} as varchar), '[\"VARCHAR\"]') as varchar[]))"
    else:
        options = f"unnest(string_split(cast({concern_field} as varchar), '{profile.multiselect['separator']}'))"
    services = h["services"]
    if services["layout"] == "wide":
        prefix = profile.wide_services["prefix"]
        slots = profile.wide_services["slots"]
        service_rows = " union all ".join(
            f"select {prefix}{i}_service_type as service_type from scope where {prefix}{i}_service_type is not null"
            for i in range(1, slots + 1)
        )
    else:
        key = services.get("case_key", "case_id")
        refers = services.get("refers_to", record)
        service_rows = f"select s.service_type from {code}_{services['table']} s join scope on s.{key} = scope.{refers}"
    start, end = policy().study_start, policy().study_end
    date_format = h["raw_date_format"]
    return f"""
with cases as (
    select *, {category(fields["status"], "status")} as status_category,
           try_strptime(cast(registration_date as varchar), '{date_format}') as registered,
           try_cast(age as double) as age_years
    from {cases}
),
scope as (
    select * from cases
    where coalesce(status_category, '') <> 'duplicate'
      and registered between date '{start}' and date '{end}'
      and (age_years is null or age_years between 0 and 17)
    qualify row_number() over (partition by {record} order by last_updated_at desc nulls last, registered) = 1
),
children as (
    select *, {category(fields["sex"], fields["sex"])} as sex_category,
           {category(fields["uasc"], fields["uasc"])} as uasc_category
    from scope
),
concerns as (
    select {category(concern_field, "option")} as concern_category
    from (select {options} as option from scope)
    where trim(option) <> ''
),
services as (select {category("service_type", "service_type")} as service_category from ({service_rows}))
select
    (select count(*) from children) as children_in_scope,
    (select 100 * avg((sex_category = 'male')::int) from children where sex_category in ('male', 'female')) as pct_male,
    (select avg(age_years) from children) as mean_age_years,
    (select 100 * avg((uasc_category in ('unaccompanied', 'separated'))::int) from children) as pct_uasc,
    (select 100 * avg((status_category = 'closed')::int) from children) as pct_closed,
    (select 100 * avg((concern_category = 'neglect')::int) from concerns where concern_category <> 'none')
        as pct_concern__neglect,
    (select 100 * avg((service_category = 'mhpss')::int) from services where service_category is not null)
        as pct_service__mhpss
"""


def floor(landing: Path) -> dict[str, dict]:
    con = duckdb.connect()
    con.execute(f"create table lookup as select * from read_csv('{CATEGORISATION_SEED}', all_varchar = true)")
    figures = {}
    for code, profile in load_profiles().items():
        folder = landing / code
        exports = sorted(p for p in folder.iterdir() if (p / "_READY").exists()) if folder.is_dir() else []
        if not exports:
            continue
        read_country(con, profile, exports[-1])
        concern_type = con.execute(
            "select data_type from duckdb_columns() where table_name in ? and column_name = ?",
            [[f"{code}_{t}" for t in profile.harmonise["case_tables"]], profile.harmonise["concern_fields"][0]],
        ).fetchall()
        row = con.sql(headline_query(profile, concern_is_list=concern_type[0][0].endswith("[]")))
        values = zip(row.columns, row.fetchall()[0], strict=True)
        figures[code] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in values}
    return figures


if __name__ == "__main__":
    print(json.dumps(floor(Path(sys.argv[1]))))
