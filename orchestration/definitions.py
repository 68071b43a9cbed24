"""The Dagster code location: assembles assets, checks, resources, the build job, the schedule and
the sensor; nothing else. Importing it reads the settings from the environment and changes nothing."""

from dagster import AssetSelection, Definitions, define_asset_job, in_process_executor

from orchestration.automation.jobs import build_job
from orchestration.automation.schedules import nightly_build_schedule
from orchestration.automation.sensors import landing_zone_sensor
from orchestration.ingest.raw_assets import country_exports
from orchestration.publish.publish_assets import published_marts
from orchestration.quality.check_assets import suite_checks
from orchestration.report.report_assets import dbt_docs, report
from orchestration.resources import LandingZone, WarehouseResource
from orchestration.settings import WAREHOUSE_WRITER_TAG, Settings
from orchestration.transform.dbt_assets import dbt_warehouse
from orchestration.transform.dbt_project import dbt_resource

# The quality suites and publication alone, on the warehouse as it is (to re-check after a fix).
validate_and_publish_job = define_asset_job(
    "validate_and_publish",
    selection=AssetSelection.assets(published_marts, report, dbt_docs) | AssetSelection.checks(*suite_checks),
    tags={WAREHOUSE_WRITER_TAG: "warehouse"},
)


def build_definitions(settings: Settings) -> Definitions:
    return Definitions(
        assets=[country_exports, dbt_warehouse, published_marts, report, dbt_docs],
        asset_checks=suite_checks,
        jobs=[build_job, validate_and_publish_job],
        schedules=[nightly_build_schedule(settings)],
        sensors=[landing_zone_sensor(settings)],
        # One process per run: the run holds the warehouse's writer lock from start to end.
        executor=in_process_executor,
        resources={
            "warehouse": WarehouseResource.from_settings(settings),
            "landing_zone": LandingZone.from_settings(settings),
            "dbt": dbt_resource(settings.engine),
        },
    )


defs = build_definitions(Settings.from_env())
