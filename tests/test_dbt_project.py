"""The dbt project's generated profile macro is current."""

from orchestration.transform.dbt_config import MACRO_FILE, render


def test_country_profiles_macro_is_current():
    assert MACRO_FILE.read_text(encoding="utf-8") == render(), (
        "dbt_project/macros/country_profiles.sql is out of date: run python -m orchestration.transform.dbt_config"
    )
