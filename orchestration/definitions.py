"""The Dagster code location: assembles assets, resources and jobs; nothing else."""

from dagster import AssetSelection, Definitions, define_asset_job
from dagster_dbt import DbtCliResource

from orchestration.assets.dbt import dbt_project, dbt_warehouse
from orchestration.assets.publish import published_marts, report
from orchestration.assets.raw import country_exports, country_partitions, raw_tables
from orchestration.resources import WarehouseResource
from orchestration.settings import Settings

settings = Settings.from_env()
settings.export_to_environment()

load_raw_job = define_asset_job(
    "load_raw_exports", selection=AssetSelection.assets(country_exports), partitions_def=country_partitions
)
transform_job = define_asset_job("transform", selection=AssetSelection.assets(dbt_warehouse, published_marts, report))

defs = Definitions(
    assets=[country_exports, *raw_tables, dbt_warehouse, published_marts, report],
    jobs=[load_raw_job, transform_job],
    resources={
        "warehouse": WarehouseResource.from_settings(settings),
        "dbt": DbtCliResource(project_dir=dbt_project),
    },
)
