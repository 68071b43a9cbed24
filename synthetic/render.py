"""Formatting a canonical snapshot the way one country's CPIMS+ instance exports it.

Everything country-specific comes from the profile (date format, value style, multi-select
encoding, headers, which fields carry risk, UASC, concerns and closure, how services refer to
their case) or from the country's synthetic parameters; no code branches on a country.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from orchestration.ingest.profiles import Profile
from synthetic.categories import label_lookup
from synthetic.parameters import country_parameters
from synthetic.population import bucket
from synthetic.snapshot import Snapshot

EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
RESPONSE_LABELS = {"care_plan": "Care plan", "service_provision": "Service provision", "referral": "Referral"}


def format_dates(profile: Profile, dates) -> np.ndarray:
    """Dates as the profile writes them: text, or Excel serial numbers for real date cells."""
    values = pd.Series(pd.to_datetime(np.asarray(dates, dtype="datetime64[D]")))
    if profile.date_format == "excel":
        serial = (values.to_numpy().astype("datetime64[D]") - EXCEL_EPOCH).astype("timedelta64[D]").astype(float)
        return np.where(values.isna(), None, serial).astype(object)
    return np.array(values.dt.strftime(profile.date_format).astype(object).where(values.notna(), None), dtype=object)


def _option_values(profile: Profile, field: str, option_ids: pd.Series, arabic: np.ndarray) -> np.ndarray:
    """Option ids as exported: ids, or LBN's labels in the row's language."""
    ids = np.array([v if isinstance(v, str) else None for v in option_ids], dtype=object)
    if profile.value_style != "label":
        return ids
    english = label_lookup(profile.country_code, field, "en")
    local = label_lookup(profile.country_code, field, "local")
    return np.array(
        [None if v is None else (local if ar else english).get(v, v) for v, ar in zip(ids, arabic, strict=True)],
        dtype=object,
    )


def _encode_multi(profile: Profile, values: list) -> object:
    values = [v for v in values if isinstance(v, str)]
    if not values:
        return None
    if profile.multiselect["style"] == "json_array":
        return json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return profile.multiselect["separator"].join(values)


def _multi_column(profile: Profile, snap: Snapshot, field: str, arabic: np.ndarray) -> list:
    rows = snap.concerns[snap.concerns.field == field]
    values = _option_values(profile, field, rows.option_id, arabic[rows.row.to_numpy()])
    return bucket(rows.row.to_numpy(), values, len(snap.cases))


def _stray(text: object, variant: str) -> object:
    if text is None:
        return None
    if variant == "case" and text.upper() != text.lower():  # Arabic has no case: spaces instead
        return text.upper() if text != text.upper() else text.lower()
    return f"  {text} "


def _case_fields(profile: Profile, snap: Snapshot) -> dict[str, object]:
    """Every case field of the profile, by canonical name, as exported values."""
    rows = snap.cases
    arabic = rows.arabic_row.to_numpy() & (profile.value_style == "label")

    def coded(field: str, column: str) -> np.ndarray:
        return _option_values(profile, field, rows[column], arabic)

    risk_field = profile.harmonise["fields"]["risk"]
    uasc_field = profile.harmonise["fields"]["uasc"]
    values = {
        "status": coded("status", "status"),
        "sex": coded("sex", "sex_option"),
        "displacement_status": coded("displacement_status", "displacement_option"),
        risk_field: coded(risk_field, "risk_option"),
        "care_arrangements_type": coded("care_arrangements_type", "care_option"),
        uasc_field: coded(uasc_field, "uasc_field_option"),
    }
    source_column = {
        "status": "status",
        "sex_option": "sex",
        "displacement_option": "displacement_status",
        "risk_option": risk_field,
        "care_option": "care_arrangements_type",
        "uasc_field_option": uasc_field,
    }
    for row in np.flatnonzero(rows.stray_field.notna().to_numpy()):
        field = source_column[rows.stray_field.iat[row]]
        if rows.stray_variant.iat[row] == "unmapped":
            values[field][row] = rows.unmapped_value.iat[row]
        else:
            values[field][row] = _stray(values[field][row], rows.stray_variant.iat[row])

    for field in profile.harmonise["concern_fields"]:
        values[field] = _multi_column(profile, snap, field, arabic)
    concerns = values[profile.harmonise["concern_fields"][0]]
    reg = format_dates(profile, rows.registration_date)
    reg[(rows.d9_variant == "unparseable").to_numpy()] = "unknown"
    estimated = np.where(
        rows.estimated.to_numpy(dtype=bool), profile.estimated_values["true"], profile.estimated_values["false"]
    )
    age = rows.age_recorded.to_numpy()
    values.update(
        {
            "id": rows.id.to_numpy(),
            "_id": rows.id.to_numpy(),
            "model_type": np.full(len(rows), "case", dtype=object),
            "case_id": np.array([i.replace("-", "") for i in rows.id], dtype=object),
            "short_id": np.array([i[-7:] for i in rows.id], dtype=object),
            "case_id_display": rows.case_id_display.to_numpy(),
            "registration_date": reg,
            "name": rows.name.to_numpy(),
            "date_of_birth": format_dates(profile, rows.dob),
            "age": np.array([None if np.isnan(a) else int(a) for a in age], dtype=object),
            "estimated": np.where(np.isnan(age), None, estimated).astype(object),
            "location_current": rows.location.to_numpy(),
            "date_closure": format_dates(profile, rows.date_closure),
            "owned_by_agency_id": rows.agency.to_numpy(),
            "last_updated_at": pd.Series(rows.last_updated_at).dt.strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy(dtype=object),
        }
    )
    values.update(_closure_fields(profile, rows, arabic))
    values["protection_concerns_other"] = np.where(
        [("other" in c) for c in concerns],
        "Child works at the market near " + rows.location.str.split(", ").str[-1],
        None,
    ).astype(object)
    return values


def _closure_fields(profile: Profile, rows: pd.DataFrame, arabic: np.ndarray) -> dict[str, np.ndarray]:
    """The closure field(s) of the profile: one field; a revised and a legacy field (the revised
    form's from ``revised_forms_from``); or a multi-select whose first option is the reason. The
    free-text field beside them is a parameter of the synthetic data (``closure_other``)."""
    fields = profile.harmonise["closure_fields"]
    option = rows.closure_option
    primary = (rows.closure_field == fields[0]).to_numpy()
    if len(fields) > 1:
        values = {
            fields[0]: _option_values(profile, fields[0], pd.Series(np.where(primary, option, None)), arabic),
            fields[1]: _option_values(
                profile, fields[1], pd.Series(np.where(primary, rows.legacy_option, option)), arabic
            ),
        }
    elif fields[0] in profile.multiselect_fields:
        pairs = zip(option, rows.second_closure_option, strict=True)
        values = {fields[0]: np.array([_encode_multi(profile, list(pair)) for pair in pairs], dtype=object)}
    else:
        values = {fields[0]: _option_values(profile, fields[0], option, arabic)}
    other = country_parameters(profile.country_code).get("closure_other")
    if other:
        keep = primary & ((rows.closure_category == "other").to_numpy() if other["only_for_other"] else True)
        values[other["field"]] = np.where(keep, rows.closure_free_text.to_numpy(dtype=object), None).astype(object)
    return values


def _service_fields(profile: Profile, snap: Snapshot, services: pd.DataFrame) -> dict[str, np.ndarray]:
    rows = snap.cases
    case_row = services.row.to_numpy()
    known = case_row >= 0
    arabic = np.zeros(len(services), dtype=bool)
    if profile.value_style == "label":
        arabic[known] = rows.arabic_row.to_numpy()[case_row[known]]
    # A services row names its case by the field the profile says (the record id, or the display id).
    by_display = profile.harmonise["services"].get("refers_to") == "case_id_display"
    key_column = "case_id_display" if by_display else "id"
    keys = np.where(known, rows[key_column].to_numpy()[np.where(known, case_row, 0)], services.orphan_key)
    if by_display:
        prefix = f"{profile.country_code.lower()}-9"
        orphan_display = [f"{prefix}{k[:7]}" if isinstance(k, str) else None for k in services.orphan_key]
        keys = np.where(known, keys, np.array(orphan_display, dtype=object))
    implemented = np.where(services.implemented, "implemented", "not_implemented").astype(object)
    response = services.response.to_numpy(dtype=object)
    if profile.value_style == "label":
        response = np.array([RESPONSE_LABELS[r] for r in response], dtype=object)
    return {
        "case_id": keys,
        "_id": keys,
        "case_id_display": keys,
        "model_type": np.full(len(services), "case", dtype=object),
        "unique_id": services.unique_id.to_numpy(),
        "service_type": _option_values(profile, "service_type", services.option_id, arabic),
        "service_response_type": response,
        "service_implemented": _option_values(profile, "service_implemented", pd.Series(implemented), arabic),
        "service_implemented_day_time": format_dates(profile, services.service_date),
    }


def _frame(spec, fields: dict[str, np.ndarray], n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {header: fields.get(spec.field_name(header), np.full(n, None, dtype=object)) for header in spec.columns}
    )


def _wide_services(profile: Profile, snap: Snapshot, fields: dict) -> None:
    """MMR: up to five services per case in numbered column groups; a date means implemented."""
    services = snap.services[snap.services.row >= 0].copy()
    services["slot"] = services.groupby("row").cumcount() + 1
    service_fields = _service_fields(profile, snap, services)
    n = len(snap.cases)
    for slot in range(1, profile.wide_services["slots"] + 1):
        in_slot = (services.slot == slot).to_numpy()
        target = services.row.to_numpy()[in_slot]
        for name in profile.wide_services["fields"]:
            column = np.full(n, None, dtype=object)
            column[target] = service_fields[name][in_slot]
            fields[f"{profile.wide_services['prefix']}{slot}_{name}"] = column


def _nested_services(profile: Profile, snap: Snapshot, spec) -> list:
    services = snap.services[snap.services.row >= 0]
    service_fields = _service_fields(profile, snap, services)
    frame = pd.DataFrame({c: service_fields[c] for c in spec.columns if c != "case_id"})
    nested = bucket(services.row.to_numpy(), frame.to_dict("records"), len(snap.cases))
    return [items or None for items in nested]


def render(profile: Profile, snap: Snapshot) -> dict[str, pd.DataFrame]:
    """Raw table name -> frame with the export's headers, in file order, values as exported."""
    fields = _case_fields(profile, snap)
    n = len(snap.cases)
    if profile.wide_services:
        _wide_services(profile, snap, fields)
    # Concern multi-selects are encoded as text, except in JSON Lines, where they stay arrays.
    as_arrays = profile.files[0].format == "jsonl"
    for name in profile.harmonise["concern_fields"]:
        if name in profile.multiselect_fields:
            values = [(v or None) if as_arrays else _encode_multi(profile, v) for v in fields[name]]
            fields[name] = np.array(values, dtype=object)
    frames = {}
    for spec in profile.tables:
        if spec.case_key is None:
            frames[spec.table] = _frame(spec, fields, n)
        elif spec.nested_in:
            frames["cases"]["services_section"] = _nested_services(profile, snap, spec)
        else:
            # Separate service tables list each service once: a stale duplicate row adds none.
            services = snap.services[(snap.services.row < 0) | _not_copy(snap, snap.services.row)]
            frames[spec.table] = _frame(spec, _service_fields(profile, snap, services), len(services))
    return frames


def _not_copy(snap: Snapshot, row: pd.Series) -> np.ndarray:
    kinds = snap.cases.row_kind.to_numpy()
    return kinds[np.maximum(row.to_numpy(), 0)] != "D10_copy"
