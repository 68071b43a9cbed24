"""The report asset: written after each publication, from the published file and the run history."""

from pathlib import Path

from dagster import MaterializeResult, asset

from orchestration.publish.publication import published_path
from orchestration.publish.publish_assets import published_marts
from orchestration.report.html_report import write_report
from orchestration.resources import WarehouseResource


@asset(
    key=["published", "report"],
    deps=[published_marts],
    group_name="published",
    kinds={"html"},
    owners=["team:analysis"],
    description="reports/report.html: the review's findings recomputed, from the published marts and the run history.",
)
def report(warehouse: WarehouseResource) -> MaterializeResult:
    home = Path(warehouse.home)
    out = write_report(published_path(home), home / "reports" / "report.html", home=home)
    return MaterializeResult(metadata={"path": str(out), "bytes": out.stat().st_size})
