"""Publishing and the report, downstream of the marts: they run only when the dbt build passed."""

from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from orchestration.assets.quality import guarded_assets
from orchestration.publish import publish as publish_marts
from orchestration.publish import published_path
from orchestration.report import write_report
from orchestration.resources import WarehouseResource

MART_KEYS = [
    AssetKey(["marts", name])
    for name in (
        "mart_indicators",
        "mart_sex_differences",
        "mart_data_quality",
        "mart_caseload_profile",
        "mart_concerns_by_sex_age",
        "mart_services_care_closure",
        "dim_country",
    )
]


@asset(
    key=["published", "marts"],
    deps=sorted(set(MART_KEYS) | set(guarded_assets), key=lambda k: k.to_user_string()),
    group_name="published",
    kinds={"duckdb"},
    pool="duckdb_warehouse",
    description="published/marts.duckdb: the aggregate marts with small cells suppressed, swapped in atomically.",
)
def published_marts(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    rows = publish_marts(warehouse.database, Path(warehouse.home))
    path = published_path(Path(warehouse.home))
    context.log.info(f"published {sum(rows.values())} rows to {path}")
    return MaterializeResult(metadata={"path": str(path), "rows": MetadataValue.json(rows)})


@asset(
    key=["published", "report"],
    deps=[published_marts],
    group_name="published",
    kinds={"html"},
    description="reports/report.html: the review's findings recomputed, from the published marts only.",
)
def report(warehouse: WarehouseResource) -> MaterializeResult:
    out = write_report(published_path(Path(warehouse.home)), Path(warehouse.home) / "reports" / "report.html")
    return MaterializeResult(metadata={"path": str(out), "bytes": out.stat().st_size})
