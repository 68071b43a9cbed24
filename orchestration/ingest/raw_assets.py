"""Raw country exports: one asset partitioned by country, loaded by the generic loader.

A full build materialises every partition in one run (single-run backfill policy); the landing-zone
sensor materialises one country's partition, and the rest of the build follows in the same run."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    BackfillPolicy,
    Backoff,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    StaticPartitionsDefinition,
    multi_asset,
)

from orchestration.ingest.lake import mirror_countries
from orchestration.ingest.loader import CountryLoadError, ensure_all_raw_tables, load_country, ready_exports
from orchestration.ingest.profiles import COUNTRY_CODES, get_profile
from orchestration.resources import WarehouseResource
from orchestration.transform.dbt_project import set_run_id, stop_docs
from orchestration.transform.warm_start import start_warm_dbt

country_partitions = StaticPartitionsDefinition(list(COUNTRY_CODES))
LEDGER_TABLES = {
    "export_loads": "One row per attempt to load an export: loaded or failed, with the error.",
    "export_files": "One row per file and table of a loaded export, with its checksum and row count.",
}


EXPORTS_KEY = AssetKey(["raw", "country_exports"])
# Countries load two at a time, each on a connection of its own to the one warehouse: their raw
# tables differ, and the ledgers only take appends and deletes of the country's own rows, which
# DuckDB's transactions let run side by side. The readers (fastexcel, DuckDB's CSV reader) and the
# inserts release Python's lock, so two loads use both cores.
LOAD_THREADS = 2


def _bytes(folders: list[Path]) -> int:
    """The size of a country's exports, to order the loads (a folder that cannot be read counts 0:
    its load records why)."""
    try:
        return sum(f.stat().st_size for folder in folders for f in folder.iterdir() if f.is_file())
    except OSError:
        return 0


def _raw_table_specs() -> list[AssetSpec]:
    """The raw tables the loader writes, as assets of the same op: dbt's sources resolve to these
    (dagster-dbt gives each source its own key), so dbt runs after the load in the same run and the
    graph runs from the export files to the marts."""
    specs = []
    for code in COUNTRY_CODES:
        profile = get_profile(code)
        for table in profile.tables:
            where = (
                f"sheet {table.sheet!r}" if table.sheet else ("nested " + table.nested_in if table.nested_in else "")
            )
            specs.append(
                AssetSpec(
                    key=["raw", profile.raw_table_name(table.table)],
                    deps=[EXPORTS_KEY],
                    group_name="raw",
                    kinds={"duckdb"},
                    owners=["team:data-engineering"],
                    description=f"{profile.country_name} export rows ({where or 'file'}), written by "
                    f"raw/country_exports: every source row as text with its lineage.",
                )
            )
    for name, description in LEDGER_TABLES.items():
        specs.append(
            AssetSpec(
                key=["raw", name],
                deps=[EXPORTS_KEY],
                group_name="raw",
                kinds={"duckdb"},
                owners=["team:data-engineering"],
                description=description,
            )
        )
    return specs


raw_tables = _raw_table_specs()
EXPORTS_SPEC = AssetSpec(
    key=EXPORTS_KEY,
    group_name="raw",
    kinds={"duckdb", "python"},
    owners=["team:data-engineering"],
    description=(
        "Every ready export (landing/<ISO3>/<date>/_READY) of the run's countries, loaded into "
        "raw.<iso3>__<table> with every source row kept as text and its lineage (file, sheet, row, "
        "checksum, load id). Re-loading the same files changes nothing. An export that cannot be read "
        "is recorded as failed in raw.export_loads (the blocking check every_ready_export_loaded then "
        "stops publication) while the other countries load; a full build is one run over every partition."
    ),
)


@multi_asset(
    name="raw__country_exports",
    specs=[EXPORTS_SPEC, *raw_tables],
    partitions_def=country_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    retry_policy=RetryPolicy(max_retries=3, delay=5, backoff=Backoff.EXPONENTIAL),
)
def country_exports(context: AssetExecutionContext, warehouse: WarehouseResource):
    # Which exports this run loads is fixed now: an export landing while it runs waits for the next run.
    countries = list(context.partition_keys)
    stop_docs(Path(warehouse.home))  # a docs command left by a failed run in this process reads the warehouse
    selection = context.run.asset_selection  # empty or None: the whole job
    if not selection or any(key.path[0] != "raw" for key in selection):
        set_run_id(context.run_id)  # as the dbt step will: the parse that follows sees the same
        start_warm_dbt(Path(warehouse.home), warehouse.engine)  # dbt imports and parses while the exports load
    ensure_all_raw_tables(warehouse.database, [get_profile(code) for code in COUNTRY_CODES])
    folders = {code: ready_exports(warehouse.landing_path, code) for code in countries}

    def load(code: str) -> tuple[list, CountryLoadError | None]:
        try:
            return load_country(warehouse.database, warehouse.landing_path, get_profile(code), folders[code]), None
        except CountryLoadError as error:  # the country's failure is recorded; the others go on
            return error.results, error

    loads = []
    with ThreadPoolExecutor(max_workers=LOAD_THREADS, thread_name_prefix="load") as pool:
        # The largest exports start first, so that a large one does not run alone at the end.
        started = {code: pool.submit(load, code) for code in sorted(countries, key=lambda c: -_bytes(folders[c]))}
        for code in countries:
            results, error = started[code].result()
            if error is not None:
                context.log.error(str(error))
            loads.extend(results)
    failed = [x for x in loads if x.status == "failed"]
    context.log.info(f"{len(loads)} export(s) of {', '.join(countries)}: {len(failed)} failed")
    if warehouse.engine == "spark":  # Spark reads the raw layer as Parquet, with the pseudonyms
        written = mirror_countries(warehouse.database, Path(warehouse.home), [get_profile(c) for c in COUNTRY_CODES])
        context.log.info(f"raw Parquet for Spark: {sum(written.values())} export folder(s) written")
    yield MaterializeResult(
        asset_key=EXPORTS_KEY,
        metadata={
            "loads": MetadataValue.json([x.summary() for x in loads]),
            "exports_loaded": sum(x.status == "loaded" for x in loads),
            "exports_unchanged": sum(x.status == "unchanged" for x in loads),
            "exports_failed": len(failed),
        },
    )
    rows: dict[str, int] = {}
    for load in loads:
        for table, count in load.rows.items():
            rows[table] = rows.get(table, 0) + count
    for spec in raw_tables:
        table = spec.key.path[-1]
        yield MaterializeResult(asset_key=spec.key, metadata={"rows_in_this_run": rows.get(table, 0)})
