"""The published file, downstream of the marts: it is written only when the dbt build and its blocking checks passed."""

from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from orchestration.publish.publication import PUBLISHED_TABLES, published_path
from orchestration.publish.publication import publish as publish_marts
from orchestration.quality.check_assets import guarded_assets
from orchestration.resources import WarehouseResource

# Every published table is a dbt mart of the same name: the published file depends on each of them.
MART_KEYS = [AssetKey(["marts", name]) for name in PUBLISHED_TABLES]


@asset(
    key=["published", "marts"],
    deps=sorted(set(MART_KEYS) | set(guarded_assets), key=lambda k: k.to_user_string()),
    group_name="published",
    kinds={"duckdb", "great_expectations"},
    owners=["team:data-engineering"],
    description="published/marts.duckdb: the aggregate marts with small cells suppressed, swapped in atomically.",
)
def published_marts(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    publication = publish_marts(
        warehouse.database, Path(warehouse.home), run_id=context.run_id, accept_drop=warehouse.accepted_drops
    )
    path = published_path(Path(warehouse.home))
    context.log.info(f"published {sum(publication.rows.values())} rows to {path}")
    return MaterializeResult(
        metadata={
            "path": str(path),
            "publication_id": publication.publication_id,
            "exports_used": MetadataValue.json(publication.exports_used),
            "rows": MetadataValue.json(publication.rows),
        }
    )
