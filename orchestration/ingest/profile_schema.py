"""The typed schema of a country profile (``countries/<iso3>.yaml``), checked when profiles load and
by ``cpwh profile check FILE``: a typo names its key and what was expected, before any Jinja runs.

Besides each key's type, the schema checks what ties the keys together: every field the profile
harmonises is a column of one of its tables, the case tables and the services table exist, a
joined multi-select has a separator, and a date is a date.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

IDENTIFIER = r"^[a-z][a-z0-9_]*$"


class ProfileError(ValueError):
    """A profile that does not follow the schema: every problem names its key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TableSchema(_Strict):
    table: str = Field(pattern=IDENTIFIER, description="raw table name, lower snake case")
    columns: list[str] = Field(min_length=1)
    aliases: dict[str, str] = {}
    sheet: str | None = None
    nested_in: str | None = None
    case_key: str | None = None
    required: list[str] | None = None

    def fields(self) -> list[str]:
        return [self.aliases.get(c, c) for c in self.columns]


class FileSchema(_Strict):
    pattern: str = Field(min_length=1, description="file name, or glob patterns separated by |")
    format: Literal["csv", "xlsx", "jsonl"]
    encoding: str = "utf-8"
    delimiter: str = Field(",", min_length=1, max_length=1)
    tables: list[TableSchema] = Field(min_length=1)

    @model_validator(mode="after")
    def _sheets(self) -> FileSchema:
        if self.format == "xlsx" and any(t.sheet is None for t in self.tables):
            raise ValueError("every table of an xlsx file names its sheet")
        return self


class FieldsSchema(_Strict):
    status: str
    sex: str
    displacement: str
    uasc: str
    risk: str
    care: str


class ServicesSchema(_Strict):
    layout: Literal["table", "nested", "wide"] = Field(
        description="table: a file or sheet of its own; nested: a list inside each case (JSON); wide: numbered columns"
    )
    table: str | None = None
    case_key: str | None = None
    refers_to: str | None = None

    @model_validator(mode="after")
    def _table_layout(self) -> ServicesSchema:
        if self.layout == "table" and not (self.table and self.case_key and self.refers_to):
            raise ValueError("a services table names its table, its case_key and the case field it refers_to")
        if self.layout == "nested" and not self.table:
            raise ValueError("nested services name the table the loader writes them to")
        return self


class HarmoniseSchema(_Strict):
    raw_date_format: str
    record_id: str
    case_tables: list[str] = Field(min_length=1)
    fields: FieldsSchema
    closure_fields: list[str] = Field(
        min_length=1,
        max_length=2,
        description="the closure reason field, or a revised one and the legacy one it replaced",
    )
    concern_fields: list[str] = Field(min_length=1)
    services: ServicesSchema | None = None


class MultiselectSchema(_Strict):
    style: Literal["json_array", "joined"]
    separator: str | None = None

    @model_validator(mode="after")
    def _separator(self) -> MultiselectSchema:
        if self.style == "joined" and not self.separator:
            raise ValueError("a joined multi-select needs its separator")
        return self


class WideServicesSchema(_Strict):
    prefix: str
    slots: int = Field(ge=1)
    fields: list[str] = Field(min_length=1)


class ProfileSchema(_Strict):
    country_code: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 3166-1 alpha-3")
    country_name: str = Field(min_length=1)
    primero_version: str
    period_start: date
    date_format: str = Field(description="strftime format of dates in the export, or 'excel' for date cells")
    value_style: Literal["option_id", "label"]
    estimated_values: dict[Literal["true", "false"], str] = {"true": "true", "false": "false"}
    multiselect: MultiselectSchema
    multiselect_fields: list[str] = []
    uasc_concern_options: dict[Literal["unaccompanied", "separated"], str] = {}
    case_key: str
    wide_services: WideServicesSchema | None = None
    revised_forms_from: date | None = None
    harmonise: HarmoniseSchema
    files: list[FileSchema] = Field(min_length=1)

    @field_validator("date_format")
    @classmethod
    def _date_format(cls, value: str) -> str:
        if value != "excel" and not re.search(r"%[dmYybB]", value):
            raise ValueError("a strftime format such as %d.%m.%Y, or 'excel'")
        return value

    @model_validator(mode="after")
    def _references(self) -> ProfileSchema:
        tables = {t.table: t for f in self.files for t in f.tables}
        fields = {name for t in tables.values() for name in t.fields()}
        if self.wide_services:
            fields |= set(self.wide_services.fields)
        h = self.harmonise
        wanted = {
            "harmonise.record_id": [h.record_id],
            "case_key": [self.case_key],
            "harmonise.fields": list(h.fields.model_dump().values()),
            "harmonise.closure_fields": h.closure_fields,
            "harmonise.concern_fields": h.concern_fields,
            "multiselect_fields": self.multiselect_fields,
        }
        for key, names in wanted.items():
            missing = [n for n in names if n not in fields]
            if missing:
                raise ValueError(f"{key}: {missing} is not a column of any table of the profile")
        unknown = [t for t in h.case_tables if t not in tables]
        if h.services and h.services.table and h.services.table not in tables:
            unknown.append(h.services.table)
        if unknown:
            raise ValueError(f"harmonise: table(s) {unknown} are not tables of the profile ({sorted(tables)})")
        if (h.services is not None and h.services.layout == "wide") != (self.wide_services is not None):
            raise ValueError("harmonise.services.layout 'wide' and wide_services go together")
        return self


def check_profile(raw: object) -> list[str]:
    """Problems of a parsed profile, each naming its key and what was expected; [] when valid."""
    try:
        ProfileSchema.model_validate(raw)
    except ValidationError as error:
        return [f"{'.'.join(str(p) for p in e['loc']) or 'profile'}: {e['msg']}" for e in error.errors()]
    return []
