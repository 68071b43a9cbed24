"""The declarative profiles agree with the spec's categorisation and with the dbt sources."""

import hashlib

import yaml

from orchestration.ingest.profiles import COUNTRY_CODES, load_profiles
from orchestration.paths import DBT_PROJECT_DIR
from orchestration.transform.seeds import categorisation


def test_one_profile_per_country():
    assert sorted(load_profiles()) == sorted(COUNTRY_CODES)


def test_every_coded_field_of_the_seed_is_an_export_field():
    seed = categorisation()
    for code, profile in load_profiles().items():
        fields = {f for spec in profile.tables for f in spec.fields}
        if profile.wide_services:  # MMR: services_section_<n>_<field>
            fields |= set(profile.wide_services["fields"])
        for field in set(seed[seed.country_code == code].field):
            assert field in fields, f"{code}: seed field {field} has no column in the profile"


def test_dbt_sources_list_every_raw_table_of_every_profile():
    sources = yaml.safe_load((DBT_PROJECT_DIR / "models/staging/_raw__sources.yml").read_text())
    (raw,) = [s for s in sources["sources"] if s["name"] == "raw"]
    declared = {t["name"] for t in raw["tables"]} - {"export_loads", "export_files"}
    expected = {p.raw_table_name(t.table) for p in load_profiles().values() for t in p.tables}
    assert declared == expected


# sha256 of shared/spec/categorisation.csv when it was copied in: the seed is the spec's file, not a retyping.
SPEC_SEED_SHA256 = "811a738c29ca25085d851972c1a5b6ce51e16b18227e8ff3d5973614c7045010"


def test_seed_is_the_spec_file_unchanged():
    seed_file = DBT_PROJECT_DIR / "seeds/categorisation.csv"
    assert hashlib.sha256(seed_file.read_bytes()).hexdigest() == SPEC_SEED_SHA256
    assert list(categorisation().columns) == [
        "country_code",
        "field",
        "option_id",
        "label_en",
        "label_local",
        "category",
    ]
