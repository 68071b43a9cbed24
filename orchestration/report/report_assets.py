"""What analysts read after each publication: the report (from the published file and the run
history) and dbt's documentation site of the warehouse as one offline page."""

import os
import shutil
from pathlib import Path

from dagster import MaterializeResult, asset

from orchestration.publish.publication import published_path
from orchestration.publish.publish_assets import published_marts
from orchestration.resources import WarehouseResource
from orchestration.transform.dagster_dbt_only import DbtCliResource
from orchestration.transform.dbt_project import DOCS_COMMAND, await_docs
from orchestration.transform.warm_start import dbt_target_path

# In a run, the report comes before the docs page (Dagster runs the ready step of highest priority
# first): the docs page awaits the dbt command started when dbt had built, which then has the
# report's time too to finish (at scales up to 1 the docs page waited about 1 s for it).
REPORT_FIRST = {"dagster/priority": "1"}


@asset(
    key=["published", "report"],
    deps=[published_marts],
    group_name="published",
    kinds={"html"},
    owners=["team:analysis"],
    op_tags=REPORT_FIRST,
    description="reports/report.html: the review's findings recomputed, from the published marts and the run history.",
)
def report(warehouse: WarehouseResource) -> MaterializeResult:
    from orchestration.report.html_report import write_report  # pandas and matplotlib: when a report is due

    home = Path(warehouse.home)
    out = write_report(published_path(home), home / "reports" / "report.html", home=home)
    return MaterializeResult(metadata={"path": str(out), "bytes": out.stat().st_size})


@asset(
    key=["published", "dbt_docs"],
    deps=[published_marts],
    group_name="published",
    kinds={"dbt", "html"},
    owners=["team:analysis"],
    description=(
        "reports/dbt_docs.html: dbt's documentation site as one offline page (dbt docs generate --static): "
        "every model, column, test and contract, and the lineage from the raw exports to the marts."
    ),
)
def dbt_docs(warehouse: WarehouseResource, dbt: DbtCliResource) -> MaterializeResult:
    home = Path(warehouse.home)
    # The catalog reads the warehouse of this home (dbt's profile finds it through CPWH_HOME); the
    # build's own target folder holds the parsed project, so nothing is parsed or compiled again.
    # In a build, the command started when dbt had built (dbt_project.docs_in_background).
    target = await_docs(home)
    if target is None:
        invocation = dbt.cli(DOCS_COMMAND, target_path=dbt_target_path(home))
        target = Path(invocation.wait().target_path)
    page = target / "static_index.html"
    out = home / "reports" / "dbt_docs.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{os.getpid()}")
    shutil.copyfile(page, partial)
    os.replace(partial, out)
    return MaterializeResult(metadata={"path": str(out), "bytes": out.stat().st_size})
