"""Sharing the published marts in open formats (``cpwh export``): CSV, HXL or Parquet, one file per
published table, and a Frictionless data package (``datapackage.json``) that describes every file
and column, its unit, and the small-cell rule.

The HXL form is CSV with the Humanitarian Exchange Language hashtag row under the header, so it
loads into the humanitarian data exchange tools as it is. Only the published file is read: what it
holds is already aggregated and suppressed.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
from frictionless import Dialect, Package, Resource, Schema, fields

from orchestration.transform.dbt_project import dbt_project
from orchestration.transform.policy import policy
from orchestration.warehouse import quote_identifier

FORMATS = ("csv", "hxl", "parquet")

# HXL hashtags of the columns analysts join on; any other column is tagged from its name and type
# (#indicator+<name>+num for figures, #meta+<name> for the rest).
HXL_TAGS = {
    "country_code": "#country+code",
    "indicator_id": "#indicator+code",
    "value": "#value",
    "numerator": "#affected+children",
    "denominator": "#population+children",
    "unit": "#meta+unit",
    "dimension": "#meta+dimension",
    "dimension_value": "#meta+group",
    "export_date": "#date+export",
    "month": "#date+month",
    "concern_category": "#impact+concern",
    "service_category": "#service+category",
    "suppressed": "#meta+suppressed",
}

# Column types of the published file -> Frictionless field types.
FIELD_TYPES = {
    "VARCHAR": fields.StringField,
    "BIGINT": fields.IntegerField,
    "INTEGER": fields.IntegerField,
    "HUGEINT": fields.IntegerField,
    "DOUBLE": fields.NumberField,
    "FLOAT": fields.NumberField,
    "BOOLEAN": fields.BooleanField,
    "DATE": fields.DateField,
    "TIMESTAMP": fields.DatetimeField,
}

TABLES_OUTSIDE_DBT = {
    "publication": "The publication: its id, time, the run that made it and the rows published.",
    "publication_exports": "Per country, the export (date and load id) every published figure rests on.",
    "provenance": (
        "Per country, what every figure rests on: the export date, load id and time, the files with their SHA-256, "
        "and the rows of all the country's loaded exports (cases, concerns, services) by what became of them: "
        "harmonised, quarantined, resolved duplicates, superseded (raw = the four together)."
    ),
}
SUPPRESSED_COLUMN = "true where small cells of the row are hidden (null) by the small-cell rule"


class ExportError(Exception):
    """The published file cannot be exported (missing, unreadable, or a wrong format)."""


def suppression_rule() -> str:
    rule = policy()
    return (
        f"Published counts of 1 to {rule.small_cell_limit} children are hidden (null), and the figures computed from "
        f"them; 1 to {rule.sensitive_small_cell_limit} for the sensitive concern categories "
        f"({', '.join(rule.sensitive_categories)}). Where one hidden cell could be recomputed from its published "
        "siblings and their total, the smallest sibling is hidden too. `suppressed` marks such rows."
    )


def hxl_tag(column: str, column_type: str) -> str:
    if column in HXL_TAGS:
        return HXL_TAGS[column]
    if FIELD_TYPES.get(column_type) in (fields.IntegerField, fields.NumberField):
        return f"#indicator+{column}+num"
    return f"#meta+{column}"


def unit_of(column: str, column_type: str) -> str | None:
    """The unit a column's values are in, from the project's naming (…_pct, …_days, …_months, counts)."""
    if column.endswith("_pct") or column.startswith("pct_"):
        return "percent"
    if column.endswith("_days") or column == "days_to_first_service":
        return "days"
    if column.endswith("_months"):
        return "months"
    if FIELD_TYPES.get(column_type) is fields.IntegerField and column not in ("month_number",):
        return "count"
    return None


def _dbt_docs() -> dict[str, dict]:
    """Descriptions of the marts and their columns, from dbt's manifest."""
    manifest = json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))
    return {
        node["name"]: {
            "description": " ".join((node.get("description") or "").split()),
            "columns": {c: " ".join((d.get("description") or "").split()) for c, d in node["columns"].items()},
        }
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }


def export_published(published: Path, out: Path, fmt: str) -> list[Path]:
    """Write every table of ``published`` to ``out`` in ``fmt``, and ``out/datapackage.json``."""
    if fmt not in FORMATS:
        raise ExportError(f"format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if not published.exists():
        raise ExportError(f"{published}: no published file (run `cpwh build` first)")
    out.mkdir(parents=True, exist_ok=True)
    docs = _dbt_docs()
    resources = []
    written = []
    try:
        con = duckdb.connect(str(published), read_only=True)
    except duckdb.Error as error:
        raise ExportError(f"{published}: cannot be opened ({error})") from error
    with con:
        tables = [t for (t,) in con.execute("select table_name from information_schema.tables order by 1").fetchall()]
        for table in tables:
            columns = con.execute(
                "select column_name, data_type from information_schema.columns where table_name = ? "
                "order by ordinal_position",
                [table],
            ).fetchall()
            path = out / f"{table}.{'parquet' if fmt == 'parquet' else 'csv'}"
            relation = con.table(quote_identifier(table))
            if fmt == "parquet":
                relation.write_parquet(str(path))
            elif fmt == "csv":
                relation.write_csv(str(path), header=True)
            else:
                _write_hxl(con, table, columns, path)
            written.append(path)
            resources.append(_resource(table, columns, path, fmt, docs.get(table)))
    package = Package(
        name="cpwh-published-marts",
        title="Child protection case management: harmonised indicators",
        description=(
            "The published marts of the child protection case-management warehouse: aggregates only. "
            + suppression_rule()
        ),
        resources=resources,
    )
    package.custom["suppression"] = {
        "small_cell_limit": policy().small_cell_limit,
        "sensitive_small_cell_limit": policy().sensitive_small_cell_limit,
        "sensitive_categories": list(policy().sensitive_categories),
        "rule": suppression_rule(),
    }
    descriptor = out / "datapackage.json"
    descriptor.write_text(json.dumps(package.to_descriptor(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return [*written, descriptor]


def _write_hxl(con: duckdb.DuckDBPyConnection, table: str, columns: list[tuple[str, str]], path: Path) -> None:
    cursor = con.execute(f"select * from {quote_identifier(table)}")
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([name for name, _ in columns])
        writer.writerow([hxl_tag(name, kind) for name, kind in columns])
        while batch := cursor.fetchmany(10_000):
            writer.writerows(
                ["" if v is None else ("true" if v is True else "false" if v is False else v) for v in row]
                for row in batch
            )


def _resource(table: str, columns: list[tuple[str, str]], path: Path, fmt: str, doc: dict | None) -> Resource:
    doc = doc or {"description": TABLES_OUTSIDE_DBT.get(table, ""), "columns": {}}
    schema_fields = []
    for name, kind in columns:
        field_type = FIELD_TYPES.get(kind.split("(")[0], fields.StringField)
        description = doc["columns"].get(name) or (SUPPRESSED_COLUMN if name == "suppressed" else "")
        field = field_type(name=name, description=description or None)
        if unit := unit_of(name, kind):
            field.custom["unit"] = unit
        if fmt == "hxl":
            field.custom["hxl"] = hxl_tag(name, kind)
        schema_fields.append(field)
    resource = Resource(
        name=table.replace("_", "-"),
        path=path.name,
        format="parquet" if fmt == "parquet" else "csv",
        description=doc["description"] or None,
        schema=Schema(fields=schema_fields),
    )
    if fmt == "hxl":
        resource.dialect = Dialect(comment_rows=[2])  # the HXL hashtag row
        resource.custom["hxl"] = True
    return resource
