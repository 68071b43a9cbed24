"""The dbt project as Dagster assets; dbt tests become asset checks.

Groups come from dbt (``meta.dagster.group`` per folder in dbt_project.yml) and the raw sources
resolve to the ``raw/country_exports`` asset through their ``meta`` (see _raw__sources.yml).
"""

import os

from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from orchestration.paths import DBT_PROJECT_DIR
from orchestration.settings import OFFLINE_ENVIRONMENT, use_this_python_environment

use_this_python_environment()
for _key, _value in OFFLINE_ENVIRONMENT.items():
    os.environ.setdefault(_key, _value)

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
if not dbt_project.manifest_path.exists():
    # A fresh clone has no manifest yet: parse once (offline, a few seconds).
    dbt_project.preparer.prepare(dbt_project)

translator = DagsterDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=translator)
def dbt_warehouse(context: AssetExecutionContext, dbt: DbtCliResource):
    yield from dbt.cli(["build"], context=context).stream()
