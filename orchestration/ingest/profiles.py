"""Country export profiles: the declarative description of each CPIMS+ export.

A profile is data (``countries/<iso3>.yaml``). The generator writes exports from it and the
generic loader reads them with it, so a new country is a new YAML file, not new code.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from orchestration.ingest.profile_schema import ProfileError, check_profile

PROFILE_DIR = Path(__file__).parent / "countries"


@dataclass(frozen=True)
class TableSpec:
    """One raw table: a CSV file, an xlsx sheet, or the objects nested in a JSON key."""

    table: str
    columns: tuple[str, ...]
    aliases: dict[str, str] = field(default_factory=dict)
    sheet: str | None = None
    nested_in: str | None = None
    case_key: str | None = None
    required: tuple[str, ...] | None = None

    def field_name(self, header: str) -> str:
        """The canonical field name of a header (LBN's display labels have aliases)."""
        return self.aliases.get(header, header)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.field_name(c) for c in self.columns)

    @property
    def required_headers(self) -> tuple[str, ...]:
        return self.columns if self.required is None else self.required


@dataclass(frozen=True)
class FileSpec:
    pattern: str
    format: str
    tables: tuple[TableSpec, ...]
    encoding: str = "utf-8"
    delimiter: str = ","

    def matches(self, file_name: str) -> bool:
        return any(fnmatch.fnmatchcase(file_name, p) for p in self.pattern.split("|"))

    @property
    def canonical_name(self) -> str:
        """The file name of an export that is not split into parts."""
        return self.pattern.split("|")[0]

    def part_name(self, part: int) -> str:
        stem, dot, suffix = self.canonical_name.rpartition(".")
        return f"{stem}_part{part}{dot}{suffix}"


@dataclass(frozen=True)
class Profile:
    country_code: str
    country_name: str
    primero_version: str
    period_start: str
    date_format: str
    value_style: str
    multiselect: dict
    multiselect_fields: tuple[str, ...]
    uasc_concern_options: dict[str, str]
    case_key: str
    files: tuple[FileSpec, ...]
    estimated_values: dict[str, str] = field(default_factory=lambda: {"true": "true", "false": "false"})
    wide_services: dict | None = None
    revised_forms_from: str | None = None
    harmonise: dict = field(default_factory=dict)  # what the dbt staging macros need (dbt_config.py)

    @property
    def tables(self) -> tuple[TableSpec, ...]:
        return tuple(t for f in self.files for t in f.tables)

    def table(self, name: str) -> TableSpec:
        for spec in self.tables:
            if spec.table == name:
                return spec
        raise KeyError(f"profile {self.country_code} has no raw table {name!r}")

    def raw_table_name(self, table: str) -> str:
        return f"{self.country_code.lower()}__{table}"

    def id_columns(self) -> dict[str, tuple[str, ...]]:
        """The raw columns holding record ids, per raw table: the ones staging pseudonymises (the
        record id, the id services refer to, each service's id). The Parquet raw layer carries their
        keyed pseudonyms beside them (``ingest/lake.py``), so an engine without the key can stage."""
        services = self.harmonise.get("services", {})
        case_columns = [raw_column_name(self.harmonise["record_id"])]
        if services.get("refers_to") == "case_id_display":
            case_columns.append("case_id_display")
        if self.wide_services:
            prefix = self.wide_services["prefix"]
            case_columns += [f"{prefix}{slot}_unique_id" for slot in range(1, self.wide_services["slots"] + 1)]
        columns = {self.raw_table_name(self.harmonise["case_tables"][0]): tuple(case_columns)}
        if services.get("layout") in ("table", "nested"):
            link = services["case_key"] if services["layout"] == "table" else "case_id"
            columns[self.raw_table_name(services["table"])] = (raw_column_name(link), "unique_id")
        return columns


def raw_column_name(field_name: str) -> str:
    """A warehouse column name for a source field: lower snake case, portable to Spark.

    A leading underscore is kept: KEN's record id is ``_id``, and lineage columns start with one.
    """
    name = re.sub(r"[^0-9a-zA-Z_]+", "_", field_name.strip()).rstrip("_").lower()
    return name or "unnamed"


def _table_spec(raw: dict) -> TableSpec:
    return TableSpec(
        table=raw["table"],
        columns=tuple(raw["columns"]),
        aliases=dict(raw.get("aliases", {})),
        sheet=raw.get("sheet"),
        nested_in=raw.get("nested_in"),
        case_key=raw.get("case_key"),
        required=tuple(raw["required"]) if "required" in raw else None,
    )


def read_profile(path: Path) -> Profile:
    """One profile file, checked against the typed schema (``profile_schema.py``)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    problems = check_profile(raw)
    if problems:
        raise ProfileError(f"{path}: " + "; ".join(problems))
    return _profile(raw)


def _profile(raw: dict) -> Profile:
    files = tuple(
        FileSpec(
            pattern=f["pattern"],
            format=f["format"],
            encoding=f.get("encoding", "utf-8"),
            delimiter=f.get("delimiter", ","),
            tables=tuple(_table_spec(t) for t in f["tables"]),
        )
        for f in raw["files"]
    )
    known = {k: v for k, v in raw.items() if k != "files"}
    known["multiselect_fields"] = tuple(known.get("multiselect_fields", ()))
    known["uasc_concern_options"] = dict(known.get("uasc_concern_options") or {})
    for key in ("period_start", "revised_forms_from"):  # YAML may give a date; the profile keeps text
        if known.get(key) is not None:
            known[key] = str(known[key])
    return Profile(files=files, **known)


@cache
def load_profiles() -> dict[str, Profile]:
    """Every profile in ``countries/``, keyed by ISO3 code."""
    profiles = {}
    for path in sorted(PROFILE_DIR.glob("*.yaml")):
        profile = read_profile(path)
        if profile.country_code in profiles or path.stem != profile.country_code.lower():
            raise ProfileError(f"{path}: the file is named after its country_code, once ({profile.country_code})")
        profiles[profile.country_code] = profile
    return profiles


def get_profile(country_code: str) -> Profile:
    profiles = load_profiles()
    if country_code not in profiles:
        raise KeyError(f"no export profile for country {country_code!r}; known: {sorted(profiles)}")
    return profiles[country_code]


# The countries are the profiles in countries/: adding one is adding its YAML file.
COUNTRY_CODES: tuple[str, ...] = tuple(load_profiles())
