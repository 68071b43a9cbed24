"""The one definition of a build: every asset, in one run, in one process.

``cpwh build``, the nightly schedule, the landing-zone sensor and "Materialize all" in the UI run
these same assets. A full build is one run over every country partition (the raw asset's backfill
policy is a single run); the sensor runs the same job for one country's partition, and everything
downstream of the raw exports (dbt, the checks, publication, the report) follows in that run.
"""

from dagster import AssetSelection, define_asset_job
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from orchestration.ingest.raw_assets import country_partitions
from orchestration.settings import WAREHOUSE_WRITER_TAG

build_job = define_asset_job(
    "build",
    selection=AssetSelection.all(),
    partitions_def=country_partitions,
    tags={WAREHOUSE_WRITER_TAG: "warehouse"},
    description=(
        "Load the ready exports of the run's countries (every country for a full build), run the dbt "
        "project with its tests, the Great Expectations checks, publish the marts and write the report."
    ),
)


def full_build_tags(countries: list[str] | None = None) -> dict[str, str]:
    """Run tags that make a run of ``build`` cover these countries' partitions (default: all)."""
    keys = country_partitions.get_partition_keys()
    chosen = [k for k in keys if countries is None or k in countries]
    if countries is not None and chosen != keys[keys.index(chosen[0]) : keys.index(chosen[-1]) + 1]:
        raise ValueError("a build covers a contiguous range of countries, or one country")
    return {ASSET_PARTITION_RANGE_START_TAG: chosen[0], ASSET_PARTITION_RANGE_END_TAG: chosen[-1]}
