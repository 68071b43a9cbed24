"""Everything that follows from the country profiles, written in one step (``cpwh profile sync``,
run by ``make`` before dbt parses): the macro that tells staging about each profile, the raw
sources dbt reads, one staging model per country and entity with its documented properties, and
the GX suites.

A new country is its profile YAML and its seed rows; nothing generated here is edited by hand.
``cpwh profile sync --check`` (and tests/test_profiles.py) fails while a written file is stale.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml

from orchestration.ingest.profiles import Profile, load_profiles
from orchestration.paths import DBT_PROJECT_DIR, EXPECTATIONS_DIR
from orchestration.quality import contracts
from orchestration.transform import dbt_config

STAGING_DIR = DBT_PROJECT_DIR / "models" / "staging"
SOURCES_FILE = STAGING_DIR / "_raw__sources.yml"
MODELS_FILE = STAGING_DIR / "_staging__models.yml"
STAGING_COLUMNS = Path(__file__).with_name("staging_columns.yml")  # the column docs, the same for every country
ENTITIES = ("cases", "concerns", "services")  # one staging model each per country: stage_<entity>(country)

_SOURCES_HEAD = """version: 2

# Generated from the country profiles by orchestration/transform/profile_sync.py (`cpwh profile sync`):
# do not edit. Raw country exports as the generic loader writes them (orchestration/ingest/loader.py).
# Each table is the Dagster asset raw/<table> (dagster-dbt's default key for a source), declared in
# orchestration/ingest/raw_assets.py as written by the partitioned raw/country_exports asset, so the
# lineage runs from export files to marts in one graph.

sources:
  - name: raw
    schema: raw
    description: Every source row of every loaded export, as text, with lineage columns.
    tables:
"""
_SOURCE_COLUMNS = """        columns:
          - name: _source_row
            description: Row of the source file (line, sheet row or JSON line) the record came from.
          - name: _load_id
            description: The load that wrote the row (hash of the export's files).
"""
_LEDGER = """      - name: export_loads
        description: One row per attempt to load an export (loaded or failed, with the error).
      - name: export_files
        description: One row per file and table of a loaded export, with its checksum and row count.
"""


def _where(profile: Profile, table) -> str:
    if table.nested_in:
        return f"{table.table} nested in each case line"
    if table.sheet:
        return f"sheet '{table.sheet}'"
    spec = next(f for f in profile.files if table in f.tables)
    return f"file {spec.canonical_name}"


def render_sources(profiles: dict[str, Profile]) -> str:
    lines = [_SOURCES_HEAD]
    for code, profile in sorted(profiles.items()):
        for table in profile.tables:
            where = _where(profile, table).replace('"', "'")
            lines.append(
                f"      - name: {profile.raw_table_name(table.table)}\n"
                f'        description: "{profile.country_name} ({code}) export, {where}; one row per source row."\n'
                + _SOURCE_COLUMNS
            )
    lines.append(_LEDGER)
    return "".join(lines)


def _not_null_as_one_test(spec: dict) -> tuple[list[str], list[dict]]:
    """The columns whose only test is not_null, checked by one query per model (the generic test
    not_null_columns) instead of one per column: the same check, a sixth of the dbt nodes; and the
    columns without their tests."""
    required, columns = [], []
    for column in spec["columns"]:
        tests = column.get("data_tests", [])
        if tests and tests != ["not_null"]:
            raise ValueError(f"{STAGING_COLUMNS.name}: {column['name']}: only not_null is supported, not {tests}")
        if tests:
            required.append(column["name"])
        columns.append({k: v for k, v in column.items() if k != "data_tests"})
    return required, columns


def render_staging_models(profiles: dict[str, Profile]) -> str:
    """The properties of every staging model: each entity's columns once (a YAML anchor), then one
    entry per country and entity, with one test of the columns that must not be null."""
    entities = yaml.safe_load(STAGING_COLUMNS.read_text(encoding="utf-8"))
    lines = [
        "version: 2\n\n# Generated from the country profiles and orchestration/transform/staging_columns.yml by\n"
        "# orchestration/transform/profile_sync.py (`cpwh profile sync`): do not edit.\n\nmodels:\n"
    ]
    for number, (code, profile) in enumerate(sorted(profiles.items())):
        for entity in ENTITIES:
            spec = entities[entity]
            description = f"{profile.country_name} ({code}): {spec['description']}".replace('"', "'")
            required, documented = _not_null_as_one_test(spec)
            lines.append(f'  - name: stg_{code.lower()}__{entity}\n    description: "{description}"\n')
            if required:
                lines.append(
                    "    data_tests:\n      - not_null_columns:\n          arguments:\n"
                    f"            columns: [{', '.join(required)}]\n"
                )
            if number == 0:
                columns = yaml.safe_dump(documented, sort_keys=False, allow_unicode=True, width=1000)
                indented = "".join(f"      {line}\n" for line in columns.splitlines())
                lines.append(f"    columns: &{entity}_columns\n{indented}")
            else:
                lines.append(f"    columns: *{entity}_columns\n")
    return "".join(lines)


def generated_files() -> dict[Path, str]:
    """Every file this module owns, with the text it should hold."""
    profiles = load_profiles()
    files = {
        dbt_config.MACRO_FILE: dbt_config.render(),
        SOURCES_FILE: render_sources(profiles),
        MODELS_FILE: render_staging_models(profiles),
    }
    for code in profiles:
        for entity in ENTITIES:
            path = STAGING_DIR / code.lower() / f"stg_{code.lower()}__{entity}.sql"
            files[path] = f"{{{{ stage_{entity}('{code}') }}}}\n"
    for name, suite in contracts.written_suites().items():
        files[EXPECTATIONS_DIR / f"{name}.json"] = contracts.render(suite)
    return files


def _generated_country_dir(folder: Path) -> bool:
    """A staging folder this module wrote: a three-letter country code holding only its models."""
    code = folder.name
    names = [p.name for p in folder.iterdir()]
    return bool(re.fullmatch(r"[a-z]{3}", code)) and all(n in {f"stg_{code}__{e}.sql" for e in ENTITIES} for n in names)


def _orphans(files: dict[Path, str]) -> list[Path]:
    """Generated files of countries that no longer have a profile (nothing written by hand)."""
    country_dirs = {p.parent for p in files if p.parent.parent == STAGING_DIR}
    stale = [d for d in STAGING_DIR.iterdir() if d.is_dir() and d not in country_dirs and _generated_country_dir(d)]
    stale += [
        p
        for p in EXPECTATIONS_DIR.glob("raw__*.json")
        if re.fullmatch(r"raw__[a-z]{3}__\w+\.json", p.name) and p not in files
    ]
    return stale


def sync(check: bool = False) -> list[Path]:
    """Write every generated file that differs (or, with ``check``, only list them)."""
    files = generated_files()
    stale = [p for p, text in files.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    orphans = _orphans(files)
    if not check:
        for path in stale:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(files[path], encoding="utf-8")
        for path in orphans:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    return stale + orphans
