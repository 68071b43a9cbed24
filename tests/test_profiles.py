"""The declarative profiles agree with the spec's categorisation and with the dbt sources."""

import hashlib

import yaml

from orchestration.ingest.profiles import COUNTRY_CODES, PROFILE_DIR, load_profiles
from orchestration.paths import DBT_PROJECT_DIR
from orchestration.transform.profile_sync import sync
from orchestration.transform.seeds import categorisation
from tests.conftest import cpwh


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


def test_every_generated_file_is_current():
    """dbt sources, staging models, the profile macro and the raw-contract suites follow from the
    profiles; `make` writes them (`cpwh profile sync`), and nothing written may be stale."""
    assert sync(check=True) == [], "stale: run `cpwh profile sync` (make does)"


def test_profile_check_names_the_key_and_what_was_expected(tmp_path):
    raw = yaml.safe_load((PROFILE_DIR / "bgd.yaml").read_text(encoding="utf-8"))
    raw["harmonise"]["fields"]["risk"] = "risk_levle"
    raw["multiselect"] = {"style": "joined"}
    raw["files"][0]["format"] = "xls"
    del raw["country_name"]
    path = tmp_path / "bgd.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    run = cpwh(["profile", "check", str(path)], tmp_path)
    assert run.returncode == 1
    assert f"{path}: country_name: Field required" in run.stderr
    assert "multiselect: Value error, a joined multi-select needs its separator" in run.stderr
    assert "files.0.format: Input should be 'csv', 'xlsx' or 'jsonl'" in run.stderr
    raw = yaml.safe_load((PROFILE_DIR / "bgd.yaml").read_text(encoding="utf-8"))
    raw["harmonise"]["fields"]["risk"] = "risk_levle"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    run = cpwh(["profile", "check", str(path)], tmp_path)
    assert run.returncode == 1 and "harmonise.fields: ['risk_levle'] is not a column" in run.stderr
    good = cpwh(["profile", "check", *map(str, sorted(PROFILE_DIR.glob("*.yaml")))], tmp_path)
    assert good.returncode == 0 and good.stdout.count("a valid profile") == len(COUNTRY_CODES)


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


def test_sync_removes_only_what_it_generated(tmp_path, monkeypatch):
    from orchestration.transform import profile_sync

    staging = tmp_path / "staging"
    (staging / "xyz").mkdir(parents=True)
    (staging / "xyz" / "stg_xyz__cases.sql").write_text("{{ stage_cases('XYZ') }}\n")
    (staging / "custom").mkdir()
    (staging / "custom" / "stg_custom__notes.sql").write_text("select 1\n")
    (staging / "abc").mkdir()
    (staging / "abc" / "my_model.sql").write_text("select 1\n")
    monkeypatch.setattr(profile_sync, "STAGING_DIR", staging)
    listed = profile_sync.sync(check=True)
    assert staging / "xyz" in listed, "a country without a profile loses its generated models"
    assert staging / "custom" not in listed and staging / "abc" not in listed, "hand-written models stay"
