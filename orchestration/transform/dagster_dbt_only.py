"""dagster-dbt in Dagster's processes, without dbt-core imported beside it.

dagster-dbt imports dbt-core when it can (``dagster_dbt.compat``: dbt's adapters, results and
node types, about 1.2 s of a build's start-up, before the first file is read) and otherwise runs
without it, the way it runs with dbt Fusion. Dagster's processes here never run dbt in-process:
dbt runs in its own process (the warm dbt process or a dbt command, see ``dbt_project.py``), and
``LocalDbtCliResource`` already keeps dbt's adapter out of Dagster's process. So dagster-dbt is
imported here with dbt-core out of its sight, and every module of the product imports it from
here (ruff's banned-api rule in pyproject.toml says so to anyone who forgets). What dagster-dbt
then does without dbt-core:

- the assets and checks of the manifest: the default selection (every node, ``fqn:*``) is read
  from the manifest instead of dbt's graph; a test compares the job's assets, checks and
  dependencies with those built with dbt-core;
- dbt's events: its own copies of dbt's status and node types (string enums of the same values);
- the dbt version: ``DBT_VERSION``, read from the installed package's metadata (no import).

A process that has imported dbt-core or dagster-dbt already (a test, dagster-dbt's own command
line) gets dagster-dbt as it is; the behaviour is the same.
"""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata

from packaging import version


class _DbtCoreHidden(importlib.abc.MetaPathFinder):
    """A finder that says dbt-core's package ``dbt`` is not installed."""

    def find_spec(self, fullname, path, target=None):
        if fullname == "dbt" or fullname.startswith("dbt."):
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


@contextmanager
def _dbt_core_hidden() -> Iterator[None]:
    if "dbt" in sys.modules or "dagster_dbt" in sys.modules:  # already there: nothing to save
        yield
        return
    finder = _DbtCoreHidden()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


with _dbt_core_hidden():
    from dagster_dbt import (  # noqa: TID251 (the one place it is imported)
        DagsterDbtTranslator,
        DagsterDbtTranslatorSettings,
        DbtCliResource,
        DbtProject,
        dbt_assets,
    )

# The dbt-core this environment runs (its dbt executable and the warm dbt process import it).
DBT_VERSION = version.parse(metadata.version("dbt-core"))

__all__ = [
    "DBT_VERSION",
    "DagsterDbtTranslator",
    "DagsterDbtTranslatorSettings",
    "DbtCliResource",
    "DbtProject",
    "dbt_assets",
]
