"""The Dagster code location: assembles assets, resources and jobs; nothing else."""

from dagster import AssetSelection, Definitions, define_asset_job
from dagster_dbt import DbtCliResource

from orchestration.assets.dbt import dbt_project, dbt_warehouse
from orchestration.assets.publish import published_marts, report
from orchestration.assets.quality import suite_checks
from orchestration.assets.raw import country_exports, country_partitions, raw_tables
from orchestration.resources import WarehouseResource
from orchestration.settings import Settings

settings = Settings.from_env()
settings.export_to_environment()

load_raw_job = define_asset_job(
    "load_raw_exports", selection=AssetSelection.assets(country_exports), partitions_def=country_partitions
)
transform_job = define_asset_job("transform", selection=AssetSelection.assets(dbt_warehouse, published_marts, report))
# The quality suites and publication alone, on the warehouse as it is (after a fix, or to re-check).
validate_and_publish_job = define_asset_job(
    "validate_and_publish",
    selection=AssetSelection.assets(published_marts, report) | AssetSelection.checks(*suite_checks),
)

defs = Definitions(
    assets=[country_exports, *raw_tables, dbt_warehouse, published_marts, report],
    asset_checks=suite_checks,
    jobs=[load_raw_job, transform_job, validate_and_publish_job],
    resources={
        "warehouse": WarehouseResource.from_settings(settings),
        "dbt": DbtCliResource(project_dir=dbt_project),
    },
)
