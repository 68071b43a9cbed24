"""The country profiles as the dbt macros see them: ``dbt_project/macros/country_profiles.sql``.

dbt cannot read the YAML profiles, so this renders what staging needs into a macro returning a
dict, written by ``cpwh profile sync`` with the other files that follow from the profiles.
"""

from __future__ import annotations

import json

from orchestration.ingest.lake import lake_columns
from orchestration.ingest.profiles import load_profiles, raw_column_name
from orchestration.paths import DBT_PROJECT_DIR

MACRO_FILE = DBT_PROJECT_DIR / "macros" / "country_profiles.sql"


def profile_config() -> dict:
    config = {}
    for code, profile in load_profiles().items():
        config[code] = {
            "country_name": profile.country_name,
            "primero_version": profile.primero_version,
            "period_start": profile.period_start,
            "value_style": profile.value_style,
            "multiselect_style": profile.multiselect["style"],
            "multiselect_separator": profile.multiselect.get("separator"),
            "multiselect_fields": list(profile.multiselect_fields),
            "uasc_concern_options": profile.uasc_concern_options,
            "estimated_true": profile.estimated_values["true"],
            "raw_tables": {t.table: profile.raw_table_name(t.table) for t in profile.tables},
            "raw_columns": {t.table: [raw_column_name(f) for f in t.fields] for t in profile.tables},
            "wide_services": profile.wide_services,
            # The Parquet raw layer's columns and Spark types (ingest/lake.py), for the Spark target.
            "lake_columns": lake_columns(profile),
            **profile.harmonise,
        }
        config[code]["record_id"] = raw_column_name(profile.harmonise["record_id"])
    return config


def render() -> str:
    payload = json.dumps(profile_config(), sort_keys=True, ensure_ascii=True).replace("'", "\\u0027")
    return (
        "{#- Generated from orchestration/ingest/countries/*.yaml by orchestration/transform/dbt_config.py:\n"
        "    do not edit; `cpwh profile sync` (run by make) rewrites it from the profiles. -#}\n"
        "{% macro country_profiles() %}\n"
        f"{{{{ return(fromjson('{payload}')) }}}}\n"
        "{% endmacro %}\n"
    )
