"""Raw country exports: one asset partitioned by country, loaded by the generic loader."""

from dagster import (
    AssetExecutionContext,
    Failure,
    MaterializeResult,
    MetadataValue,
    StaticPartitionsDefinition,
    asset,
)

from orchestration.profiles import COUNTRY_CODES, get_profile
from orchestration.profiles.loader import CountryLoadError, load_country
from orchestration.resources import WarehouseResource

country_partitions = StaticPartitionsDefinition(list(COUNTRY_CODES))


@asset(
    key=["raw", "country_exports"],
    partitions_def=country_partitions,
    group_name="raw",
    kinds={"duckdb", "python"},
    pool="duckdb_warehouse",
    description=(
        "Every ready export (landing/<ISO3>/<date>/_READY) of the partition's country, loaded into "
        "raw.<iso3>__<table> with every source row kept as text and its lineage (file, sheet, row, "
        "checksum, load id). Re-loading the same files changes nothing."
    ),
)
def country_exports(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    profile = get_profile(context.partition_key)
    try:
        loads = load_country(warehouse.database, warehouse.landing_path, profile)
    except CountryLoadError as error:
        context.log.error(str(error))
        raise Failure(description=str(error)) from None
    rows = {}
    for load in loads:
        for table, count in load.rows.items():
            rows[f"{load.export_date} {table}"] = count
    context.log.info(f"{profile.country_code}: {[(x.export_date, x.status) for x in loads]}")
    return MaterializeResult(
        metadata={
            "exports": MetadataValue.json([{"export_date": x.export_date, "status": x.status} for x in loads]),
            "rows_loaded": MetadataValue.json(rows),
            "exports_loaded": sum(x.status == "loaded" for x in loads),
            "exports_unchanged": sum(x.status == "unchanged" for x in loads),
        }
    )
