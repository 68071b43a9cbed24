"""Raw country exports: one asset partitioned by country, loaded by the generic loader."""

from dagster import (
    AssetExecutionContext,
    AssetSpec,
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
LEDGER_TABLES = {
    "export_loads": "One row per attempt to load an export: loaded or failed, with the error.",
    "export_files": "One row per file and table of a loaded export, with its checksum and row count.",
}


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


def _raw_table_specs() -> list[AssetSpec]:
    """The raw tables the loader writes, as assets downstream of it: dbt's sources resolve to these
    (dagster-dbt gives each source its own key), so the graph runs from the export files to the marts."""
    specs = []
    for code in COUNTRY_CODES:
        profile = get_profile(code)
        for table in profile.tables:
            name = profile.raw_table_name(table.table)
            where = (
                f"sheet {table.sheet!r}" if table.sheet else ("nested " + table.nested_in if table.nested_in else "")
            )
            specs.append(
                AssetSpec(
                    key=["raw", name],
                    deps=[country_exports],
                    group_name="raw",
                    kinds={"duckdb"},
                    description=f"{profile.country_name} export rows ({where or 'file'}), written by "
                    f"raw/country_exports partition {code}: every source row as text with its lineage.",
                )
            )
    for name, description in LEDGER_TABLES.items():
        specs.append(
            AssetSpec(
                key=["raw", name], deps=[country_exports], group_name="raw", kinds={"duckdb"}, description=description
            )
        )
    return specs


raw_tables = _raw_table_specs()
