"""A straightforward harmonisation in pandas, written from the spec, for the tests.

It reads the raw tables the loader wrote and applies the rules of exports.md and indicators.md
with the categorisation seed. It shares no code with the generator, so when its result equals
the generator's truth child by child, both the files and the rules are what the spec says.
"""

from __future__ import annotations

import json
import re

import duckdb
import numpy as np
import pandas as pd

from orchestration.ingest.profiles import get_profile
from orchestration.paths import CATEGORISATION_SEED
from orchestration.transform.policy import policy

DAYS_PER_MONTH = 30.4375
STUDY_START, STUDY_END = pd.Timestamp(policy().study_start), pd.Timestamp(policy().study_end)


def normalise(value: object) -> object:
    if not isinstance(value, str):
        return None
    text = re.sub(r"\s+", " ", value.strip()).casefold()
    return text or None


class Categoriser:
    def __init__(self):
        seed = pd.read_csv(CATEGORISATION_SEED, dtype=str, keep_default_na=False)
        self.lookup: dict[tuple[str, str], dict[str, tuple[str, str]]] = {}
        for row in seed.itertuples():
            table = self.lookup.setdefault((row.country_code, row.field), {})
            keys = [row.option_id]
            if get_profile(row.country_code).value_style == "label":  # LBN, and any label-style export
                keys = [row.label_en, row.label_local]
            for key in keys:
                if key:
                    table[normalise(key)] = (row.option_id, row.category, frozenset(keys))

    def option(self, country: str, field: str, value: object) -> tuple[str | None, str | None, bool]:
        """(option_id, category, written_exactly) of a raw value; category 'unmapped' when no match."""
        key = normalise(value)
        if key is None:
            return None, None, True
        found = self.lookup.get((country, field), {}).get(key)
        if found is None:
            return None, "unmapped", False
        return found[0], found[1], value in found[2]

    def category(self, country: str, field: str, value: object) -> str | None:
        return self.option(country, field, value)[1]


def _split_multi(profile, value: object) -> list[str]:
    if not isinstance(value, str) or not value.strip():
        return []
    if profile.multiselect["style"] == "json_array":
        parsed = json.loads(value)
        return [str(v) for v in parsed]
    return [v for v in value.split(profile.multiselect["separator"]) if v.strip()]


def latest_export(con, country: str) -> str:
    return con.execute(
        "select max(export_date)::varchar from raw.export_loads where country = ? and status = 'loaded'", [country]
    ).fetchone()[0]


def _cases(con, country: str, export_date: str) -> pd.DataFrame:
    c = country.lower()
    if country == "KEN":
        frames = [
            con.execute(
                f"select * from raw.ken__{t} where _export_date = ? order by _source_file, _source_row", [export_date]
            ).df()
            for t in ("basic_identity", "protection_concern", "care_arrangements", "closure")
        ]
        cases = frames[0]
        for frame in frames[1:]:
            extra = frame.drop(
                columns=[k for k in frame.columns if k.startswith("_") and k != "_source_row"] + ["model_type"]
            )
            cases = cases.merge(extra, on="_source_row", how="left", suffixes=("", "_dup"))
        return cases.rename(
            columns={"_id": "id", "case_priority": "risk_level", "protection_status": "unaccompanied_separated_status"}
        )
    return con.execute(
        f"select * from raw.{c}__cases where _export_date = ? order by _source_file, _source_row", [export_date]
    ).df()


def _services(con, country: str, export_date: str, cases: pd.DataFrame) -> pd.DataFrame:
    c = country.lower()
    if country == "MMR":
        parts = []
        for slot in range(1, 6):
            prefix = f"services_section_{slot}_"
            part = cases[["_source_row", prefix + "service_type", prefix + "service_implemented_day_time"]].copy()
            part.columns = ["case_source_row", "service_type", "date"]
            part["implemented"] = part.date.notna()
            parts.append(part[part.service_type.notna()])
        return pd.concat(parts, ignore_index=True)
    table = "ken__services" if country == "KEN" else f"{c}__services"
    services = con.execute(f"select * from raw.{table} where _export_date = ?", [export_date]).df()
    if country == "UKR":
        return services.rename(columns={"_source_row": "case_source_row"})
    key = {"KEN": "_id", "LBN": "case_id_display"}.get(country, "case_id")
    return services.rename(columns={key: "case_key"})


def harmonise(con: duckdb.DuckDBPyConnection, country: str, export_date: str | None = None) -> dict:
    """Per case row of the export: the harmonised fields, plus services and defect counts."""
    profile = get_profile(country)
    cat = Categoriser()
    export_date = export_date or latest_export(con, country)
    cases = _cases(con, country, export_date)
    fmt = profile.harmonise["raw_date_format"]
    reg = pd.to_datetime(cases.registration_date, format=fmt, errors="coerce")
    dob = pd.to_datetime(cases.date_of_birth, format=fmt, errors="coerce")
    closure_date = pd.to_datetime(cases.date_closure, format=fmt, errors="coerce")
    out = pd.DataFrame({"id": cases.id, "source_row": cases._source_row, "last_updated_at": cases.last_updated_at})
    out["status"] = [cat.category(country, "status", v) for v in cases.status]
    years = reg.dt.year - dob.dt.year - ((reg.dt.month * 100 + reg.dt.day) < (dob.dt.month * 100 + dob.dt.day))
    recorded_age = pd.to_numeric(cases.age, errors="coerce")
    out["age_years"] = np.where(dob.notna() & reg.notna() & (dob <= reg), years, recorded_age)
    out["sex"] = [cat.category(country, "sex", v) or "other_or_unknown" for v in cases.sex]
    out["displacement"] = [
        cat.category(country, "displacement_status", v) or "unknown" for v in cases.displacement_status
    ]
    risk_field = "case_priority" if country == "KEN" else "risk_level"
    out["risk"] = [cat.category(country, risk_field, v) or "not_assessed" for v in cases.risk_level]
    out["care"] = [cat.category(country, "care_arrangements_type", v) for v in cases.care_arrangements_type]
    uasc_field = "protection_status" if country == "KEN" else "unaccompanied_separated_status"
    field_uasc = [cat.category(country, uasc_field, v) for v in cases.unaccompanied_separated_status]
    concern_fields = ["protection_concerns"] + (["type_of_risk"] if country == "LBN" else [])
    concerns, concern_ids = [], []
    for i in range(len(cases)):
        options = [cat.option(country, f, v) for f in concern_fields for v in _split_multi(profile, cases[f].iat[i])]
        concerns.append(tuple(sorted({o[1] for o in options if o[1] not in (None, "none")})))
        concern_ids.append({o[0] for o in options})
    out["concerns"] = concerns
    out["uasc_status"] = [
        "unaccompanied"
        if f == "unaccompanied" or ids & {"unaccompanied", "unaccompanied_children"}
        else "separated"
        if f == "separated" or ids & {"separated", "separated_children"}
        else "not_uasc"
        for f, ids in zip(field_uasc, concern_ids, strict=True)
    ]
    out["closure_category"] = _closure(country, profile, cat, cases)
    out["is_closed"] = out.status == "closed"
    days = (closure_date - reg).dt.days
    out["case_duration_months"] = np.where(out.is_closed & (days >= 0), days / DAYS_PER_MONTH, np.nan)
    out["closure_category"] = np.where(out.is_closed, out.closure_category.fillna("missing"), None)
    out["registration_date"], out["date_closure"], out["dob"] = reg, closure_date, dob
    out["recorded_age"] = recorded_age
    export_day = pd.Timestamp(export_date)
    out["duplicate_resolved"] = _resolve_duplicates(out)
    age_ok = out.age_years.isna() | out.age_years.between(0, 17)
    period_start = max(STUDY_START, pd.Timestamp(profile.period_start))
    out["in_scope"] = (
        ~out.duplicate_resolved
        & (out.status != "duplicate")
        & reg.between(period_start, STUDY_END)
        & (reg <= export_day)
        & age_ok
    )
    services = _services(con, country, export_date, cases)
    services["category"] = [cat.category(country, "service_type", v) for v in services.service_type]
    if country != "MMR":
        services["implemented"] = [
            cat.category(country, "service_implemented", v) == "implemented" for v in services.service_implemented
        ]
    return {"cases": out, "services": services, "raw_cases": cases, "export_date": export_date}


def _closure(country, profile, cat, cases) -> list:
    result = []
    for i in range(len(cases)):
        if country == "NGA":
            revised = cat.category(country, "primary_reason_closure", cases.primary_reason_closure.iat[i])
            legacy = cat.category(country, "closure_reason", cases.closure_reason.iat[i])
            result.append(revised or legacy)
        elif country == "KEN":
            listed = _split_multi(profile, cases.closure_reason.iat[i])
            result.append(cat.category(country, "closure_reason", listed[0]) if listed else None)
        else:
            field = "primary_reason_closure" if country == "UKR" else "closure_reason"
            result.append(cat.category(country, field, cases[field].iat[i]))
    return result


def _resolve_duplicates(cases: pd.DataFrame) -> pd.Series:
    """True for rows that lose to another row of the same id (latest last_updated_at, then file order)."""
    ranked = cases.assign(_order=np.arange(len(cases))).sort_values(
        ["id", "last_updated_at", "_order"], ascending=[True, False, True]
    )
    losers = ranked.duplicated("id", keep="first")
    return losers.reindex(cases.index)


def children(harmonised: dict, country: str) -> pd.DataFrame:
    """In-scope children with their implemented service categories.

    Embedded services (MMR's wide columns, UKR's nested array) belong to their case row; separate
    service tables point at the case by key (LBN: the displayed case id).
    """
    cases, services, raw = harmonised["cases"], harmonised["services"], harmonised["raw_cases"]
    done = services[services.implemented]
    scoped = cases[cases.in_scope].copy()
    if country in ("MMR", "UKR"):
        by_row = done.groupby("case_source_row").category.agg(lambda c: tuple(sorted(c)))
        scoped["services"] = [by_row.get(r, ()) for r in scoped.source_row]
    else:
        key = raw["case_id_display"] if country == "LBN" else raw["id"]
        by_key = done.groupby("case_key").category.agg(lambda c: tuple(sorted(c)))
        scoped["services"] = [by_key.get(k, ()) for k in key[cases.in_scope]]
    return scoped


SINGLE_CODED = {
    "status": "status",
    "sex": "sex",
    "displacement_status": "displacement_status",
    "risk_level": "risk_level",
    "care_arrangements_type": "care_arrangements_type",
    "unaccompanied_separated_status": "unaccompanied_separated_status",
}


def measure_defects(harmonised: dict, country: str) -> dict[str, tuple[int, int]]:
    """Each defect D1-D13 as (count, denominator), measured from the raw rows as the spec defines."""
    cases, raw, services = harmonised["cases"], harmonised["raw_cases"], harmonised["services"]
    profile = get_profile(country)
    cat = Categoriser()
    export_day = pd.Timestamp(harmonised["export_date"])
    closed = cases.status == "closed"
    has_closure = cases.date_closure.notna()
    both = closed & has_closure & cases.registration_date.notna()
    reason_fields = [f for f in ("closure_reason", "primary_reason_closure") if f in raw]
    no_reason = raw[reason_fields].isna().all(axis=1)
    reg = cases.registration_date
    dob_years = (
        reg.dt.year
        - cases.dob.dt.year
        - ((reg.dt.month * 100 + reg.dt.day) < (cases.dob.dt.month * 100 + cases.dob.dt.day))
    )
    period_start = max(STUDY_START, pd.Timestamp(profile.period_start))
    inexact = np.zeros(len(raw), dtype=bool)
    for column, field in SINGLE_CODED.items():
        field = (
            {"risk_level": "case_priority", "unaccompanied_separated_status": "protection_status"}.get(column, field)
            if country == "KEN"
            else field
        )
        inexact |= np.array([not cat.option(country, field, v)[2] for v in raw[column]])
    d5 = np.zeros(len(raw), dtype=bool)
    if country == "NGA":
        revised = [cat.category(country, "primary_reason_closure", v) for v in raw.primary_reason_closure]
        legacy = [cat.category(country, "closure_reason", v) for v in raw.closure_reason]
        d5 = np.array([r is not None and g is not None and r != g for r, g in zip(revised, legacy, strict=True)])
    n = len(cases)
    measured = {
        "D1": (int((closed & ~has_closure).sum()), int(closed.sum())),
        "D2": (int((~closed & has_closure).sum()), int((~closed).sum())),
        "D3": (int((both & (cases.date_closure < reg)).sum()), int(both.sum())),
        "D4": (int((closed & no_reason.to_numpy()).sum()), int(closed.sum())),
        "D5": (int(d5.sum()), n),
        "D6": (int((cases.recorded_age.isna() & cases.dob.isna()).sum()), n),
        "D7": (int(((cases.recorded_age - dob_years).abs() > 1).sum()), n),
        "D8": (int((cases.age_years >= 18).sum()), n),
        "D9": (int((reg.isna() | (reg < period_start) | (reg > export_day)).sum()), n),
        "D10": (int(n - cases.id.nunique()), n),
        "D11": (int(inexact.sum()), n),
        "D13": (int((cases.status == "duplicate").sum()), n),
    }
    if country in ("MMR", "UKR"):
        measured["D12"] = (0, len(services))
    else:
        keys = set(raw["case_id_display"] if country == "LBN" else raw["id"])
        measured["D12"] = (int((~services.case_key.isin(keys)).sum()), len(services))
    return measured


def headline_figures(kids: pd.DataFrame) -> dict[str, float]:
    """The review's headline figures (indicators.md) over a frame of in-scope children."""
    known_sex = kids[kids.sex.isin(["male", "female"])]
    uasc = kids[kids.uasc_status != "not_uasc"]
    uasc_known_sex = uasc[uasc.sex.isin(["male", "female"])]
    concern_records = kids.concerns.explode().dropna()
    concern_share = concern_records.value_counts(normalize=True) * 100
    service_share = kids.services.explode().dropna().value_counts(normalize=True) * 100
    care = kids.care[kids.care.notna() & (kids.care != "unmapped")]
    closed = kids[kids.is_closed]
    outcome = closed.closure_category.map(
        lambda c: (
            "positive"
            if c == "goals_met"
            else "neutral"
            if c in ("turned_18", "transferred")
            else "unknown"
            if c in ("other", "unmapped", "missing")
            else "excluded"
            if c == "opened_in_error"
            else "negative"
        )
    )
    rated = outcome[~outcome.isin(["unknown", "excluded"])]
    return {
        "children_in_scope": len(kids),
        "mean_age_years": kids.age_years.mean(),
        "pct_male": 100 * (known_sex.sex == "male").mean(),
        "pct_uasc": 100 * len(uasc) / len(kids),
        "mean_age_uasc_years": uasc.age_years.mean(),
        "pct_male_among_uasc": 100 * (uasc_known_sex.sex == "male").mean(),
        "pct_displacement__refugee": 100 * (kids.displacement == "refugee").mean(),
        "pct_concern__neglect": concern_share.get("neglect", 0.0),
        "pct_concern__child_labour": concern_share.get("child_labour", 0.0),
        "concern_ranks_3_4": set(concern_share.index[2:4]),
        "pct_service__mhpss": service_share.get("mhpss", 0.0),
        "pct_service__education": service_share.get("education", 0.0),
        "pct_service__health": service_share.get("health", 0.0),
        "pct_care_family": 100 * care.isin(["parents", "kinship_care"]).mean(),
        "mean_case_duration_months": kids.case_duration_months.mean(),
        "pct_closed_positive_outcome": 100 * (rated == "positive").mean(),
    }
