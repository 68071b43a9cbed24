"""The dbt project as Dagster assets; dbt tests become asset checks.

Groups come from dbt (``meta.dagster.group`` per folder in dbt_project.yml) and the raw sources
resolve to the ``raw/country_exports`` asset through their ``meta`` (see _raw__sources.yml). The
manifest is prepared at build time (see ``orchestration/transform/dbt_project.py``), not when this is imported.
"""

import os
import threading
from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, PartitionKeyRange

from orchestration.ingest.raw_assets import country_partitions
from orchestration.quality import suites
from orchestration.resources import WarehouseResource
from orchestration.transform import incremental
from orchestration.transform.dagster_dbt_only import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)
from orchestration.transform.dbt_project import (
    dbt_project,
    docs_in_background,
    set_run_id,
    stop_docs,
    warm_dbt,
)
from orchestration.transform.spark_output import attach_spark_tables, detach_spark_tables
from orchestration.transform.warm_start import dbt_target_path

if not dbt_project.manifest_path.exists():
    raise FileNotFoundError(
        f"{dbt_project.manifest_path} is missing: run 'make setup' (or 'cpwh build', which prepares it)"
    )

# The models a Great Expectations suite guards (the suites name them in their meta): they show the kind too.
GUARDED_BY_SUITES = {AssetKey(list(suite.asset)) for suite in suites.load_suites()}


class WarehouseTranslator(DagsterDbtTranslator):
    """dbt's own translation (groups and owners from meta.dagster), plus the great_expectations kind."""

    def get_asset_spec(self, manifest, unique_id, project):
        spec = super().get_asset_spec(manifest, unique_id, project)
        if spec.key in GUARDED_BY_SUITES:
            return spec.merge_attributes(kinds={"great_expectations"})
        return spec


# The docs page (orchestration/report/report_assets.py), whose dbt command starts when dbt has built.
DOCS_PAGE = AssetKey(["published", "dbt_docs"])

translator = WarehouseTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def run_countries(tags: dict[str, str]) -> list[str] | None:
    """The countries whose exports this run loads (its partitions), or None for a run without any."""
    if "dagster/partition" in tags:
        return [tags["dagster/partition"]]
    start, end = tags.get("dagster/asset_partition_range_start"), tags.get("dagster/asset_partition_range_end")
    if start and end:
        return country_partitions.get_partition_keys_in_range(PartitionKeyRange(start, end))
    return None


def _warm_up_report() -> None:
    """The report's imports (pandas, matplotlib) and matplotlib's fonts, about 0.3 s that the report
    step took before; imported here, in a background thread, not when the code location loads."""
    from orchestration.report.html_report import warm_up

    warm_up()


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=translator)
def dbt_warehouse(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    set_run_id(context.run_id)
    suites.warm_up()  # the checks that follow need GX: import it while dbt works in its own process
    threading.Thread(target=_warm_up_report, name="report-warm-up", daemon=True).start()  # and the report matplotlib
    # dbt's own log file at info level: debug writes every statement (7 MB a build at scale 1);
    # the statements are in the target folder's compiled and run SQL.
    # dbt's unit tests check the SQL's rules on rows written in YAML, the same every night: as dbt Labs
    # recommends, they run where the code changes (`make test`, CI: tests/test_indicators.py), not
    # in the warehouse's builds, where they held back the models they test (about 1 s at scale 1).
    build = ["build", "--log-level-file", "info", "--exclude-resource-type", "unit_test"]
    if warehouse.engine == "duckdb" and warehouse.database.exists():
        detach_spark_tables(warehouse.database)
    home = Path(warehouse.home)
    stop_docs(home)  # a docs command left by a failed run in this process would hold the warehouse
    warehouse.before_writing()  # and so would this process's checks, had any come before this step
    # A run of some countries rebuilds only theirs in the models kept by country (incremental.py).
    countries, state = incremental.rebuilt_countries(
        run_countries(context.run.tags), home, warehouse.database, warehouse.engine
    )
    context.log.info(
        f"dbt rebuilds {', '.join(countries)} and keeps the other countries' rows"
        if countries
        else "dbt rebuilds every country"
    )
    try:
        build += incremental.start(countries, home, warehouse.engine)
        with warm_dbt(home, dbt) as warm:  # started while the exports loaded
            yield from warm.cli(build, context=context, target_path=dbt_target_path(home)).stream()
    finally:
        os.environ.pop(incremental.ENVIRONMENT_VARIABLE, None)
    incremental.finish(state, home, warehouse.engine, context.selected_asset_keys == context.assets_def.keys)
    selection = context.run.asset_selection  # empty or None: the whole job
    if warehouse.engine == "duckdb" and (not selection or DOCS_PAGE in selection):
        docs_in_background(home)  # reads the warehouse beside the checks; the docs page asset awaits it
    if warehouse.engine == "spark":
        tables = attach_spark_tables(warehouse.database, home)
        context.log.info(f"the warehouse reads the {len(tables)} tables Spark built")
