"""One export snapshot: the simulated lives seen at an export date, with the defects injected.

The result is canonical (field names and option ids, not yet formatted for a profile) and comes
with the truth: for every case row written, what a correct harmonisation must make of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from orchestration.ingest.profiles import get_profile
from synthetic.categories import options
from synthetic.parameters import country_parameters
from synthetic.population import DAYS_PER_MONTH, Lives, bucket, uuids

EXTRA_KINDS = ("D8", "D9", "D13")
UNMAPPED_VALUES = {
    "care_arrangements_type": ["Host family (informal)", "with grandmother??", "street"],
    "displacement_status": ["Nomadic", "Pastoralist", "unknown status"],
}
NOT_CLOSED = ("open", "transferred", "duplicate")


@dataclass
class Snapshot:
    cases: pd.DataFrame  # one row per case row, in file order
    concerns: pd.DataFrame  # row, field, option_id
    services: pd.DataFrame  # row (case row) or case_key for orphans, unique_id, option_id, ...
    truth: pd.DataFrame  # one row per case row: what the harmonised layer must say
    defects: dict[str, int]  # injected counts per defect code


def view(lives: Lives, child: np.ndarray, as_of: np.ndarray, rng) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Case rows of ``child`` as recorded on the dates ``as_of`` (one date per row)."""
    kids = lives.children.iloc[child].reset_index(drop=True)
    as_of = as_of.astype("datetime64[D]")
    reopened = _reopened(kids, as_of)
    closed = (kids.close_date.to_numpy() <= as_of) & ~reopened
    transferred = (~closed) & (kids.transfer_date.to_numpy() <= as_of)
    status = np.where(closed, "closed", np.where(transferred, "transferred", "open")).astype(object)
    marked_duplicate = kids.extra_kind.to_numpy() == "D13"
    status[marked_duplicate] = "duplicate"
    closed &= ~marked_duplicate  # a record marked duplicate keeps no closure
    rows = kids.assign(
        status=status,
        as_of=as_of,
        date_closure=np.where(closed, kids.close_date.to_numpy(), np.datetime64("NaT")).astype("datetime64[D]"),
    )
    for column in ("closure_option", "legacy_option", "second_closure_option", "closure_free_text"):
        rows[column] = rows[column].where(closed, None)
    rows["closure_category"] = rows.closure_category.where(closed, None)

    row_of_child = pd.Series(np.arange(len(child)), index=child)
    services = lives.services[lives.services.child.isin(child)]
    if len(np.unique(child)) != len(child):
        raise ValueError("a view holds each child once")
    services = services.assign(row=row_of_child.loc[services.child].to_numpy())
    service_as_of = as_of[services.row.to_numpy()]
    implemented = services.service_date.to_numpy() <= service_as_of
    services = services.assign(
        implemented=implemented,
        service_date=np.where(implemented, services.service_date.to_numpy(), np.datetime64("NaT")).astype(
            "datetime64[D]"
        ),
    )
    last_activity = np.maximum.reduce(
        [
            rows.registration_date.to_numpy().astype("datetime64[D]"),
            np.where(closed, rows.close_date.to_numpy(), np.datetime64("1900-01-01")).astype("datetime64[D]"),
            np.where(transferred, rows.transfer_date.to_numpy(), np.datetime64("1900-01-01")).astype("datetime64[D]"),
            np.where(reopened, _reopen_dates(kids), np.datetime64("1900-01-01")).astype("datetime64[D]"),
            _latest_service(services, len(rows)),
        ]
    )
    last_activity = np.minimum(last_activity + rng.integers(0, 4, size=len(rows)).astype("timedelta64[D]"), as_of)
    seconds = rng.integers(6 * 3600, 20 * 3600, size=len(rows)).astype("timedelta64[s]")
    rows["last_updated_at"] = last_activity.astype("datetime64[s]") + seconds
    return rows, services


def _reopen_dates(kids: pd.DataFrame) -> np.ndarray:
    """When each case is reopened (``plan_reopening``); never when reopening was not planned."""
    if "reopen_date" not in kids:
        return np.full(len(kids), np.datetime64("NaT"), dtype="datetime64[D]")
    return kids.reopen_date.to_numpy().astype("datetime64[D]")


def _reopened(kids: pd.DataFrame, as_of: np.ndarray) -> np.ndarray:
    return _reopen_dates(kids) <= as_of


def _latest_service(services: pd.DataFrame, n_rows: int) -> np.ndarray:
    latest = np.full(n_rows, np.datetime64("1900-01-01"), dtype="datetime64[D]")
    done = services[services.implemented]
    np.maximum.at(latest, done.row.to_numpy(), done.service_date.to_numpy().astype("datetime64[D]"))
    return latest


def _count(rate: float, denominator: int) -> int:
    return int(round(rate * denominator))


def _pick(rng, eligible: np.ndarray, count: int) -> np.ndarray:
    eligible = np.flatnonzero(eligible)
    return np.sort(rng.choice(eligible, size=min(count, len(eligible)), replace=False))


def _stale_copies(lives: Lives, rows: pd.DataFrame, rng, rate: float, base: np.ndarray):
    """D10: earlier versions of some records, as a re-synchronised instance exports them."""
    count = _count(rate / (1 - rate), len(rows)) if rate else 0
    chosen = _pick(rng, base, count)
    reg = rows.registration_date.to_numpy()[chosen].astype("datetime64[D]")
    updated = rows.last_updated_at.to_numpy()[chosen].astype("datetime64[D]")
    span = (updated - reg).astype(int)
    stale_as_of = reg + np.floor(rng.random(len(chosen)) * span).astype("timedelta64[D]")
    positions = rows.position.to_numpy()[chosen]
    children = rows.child.to_numpy()[chosen]
    copies, services = view(lives, children, stale_as_of, rng)
    tie = span == 0
    stamp = rows.last_updated_at.to_numpy()[chosen]
    stale_stamp = np.minimum(copies.last_updated_at.to_numpy(), stamp - np.timedelta64(1, "h"))
    copies["last_updated_at"] = np.where(tie, stamp, stale_stamp)
    copies.loc[tie, "agency"] = copies.loc[tie, "agency"] + "-old"
    # A tie keeps the first row in file order, so a tie copy comes after the original.
    offset = np.where(tie | (rng.random(len(chosen)) < 0.5), 0.5, -0.5)
    copies["position"] = positions + offset
    copies["row_kind"] = "D10_copy"
    copies["child"] = children
    return copies, services


def _closure_defects(rng, rows: pd.DataFrame, rates: dict, base: np.ndarray, counts: dict) -> None:
    closed = (rows.status == "closed").to_numpy()
    d1 = _pick(rng, base & closed, _count(rates["D1"], closed.sum()))
    rows.loc[d1, "date_closure"] = np.datetime64("NaT")
    counts["D1"] = len(d1)
    with_dates = closed & rows.date_closure.notna().to_numpy() & rows.registration_date.notna().to_numpy()
    d3 = _pick(rng, base & with_dates, _count(rates["D3"], with_dates.sum()))
    rows.loc[d3, "date_closure"] = rows.registration_date.to_numpy()[d3] - rng.integers(1, 90, len(d3)).astype(
        "timedelta64[D]"
    )
    counts["D3"] = len(d3)
    open_rows = ~closed
    d2 = _pick(rng, base & open_rows, _count(rates["D2"], open_rows.sum()))
    reg = rows.registration_date.to_numpy()[d2].astype("datetime64[D]")
    span = (rows.as_of.to_numpy()[d2].astype("datetime64[D]") - reg).astype(int)
    rows.loc[d2, "date_closure"] = reg + np.floor(rng.random(len(d2)) * (span + 1)).astype("timedelta64[D]")
    counts["D2"] = len(d2)
    d4 = _pick(rng, base & closed, _count(rates["D4"], closed.sum()))
    for column in ("closure_option", "legacy_option", "second_closure_option", "closure_free_text"):
        rows.loc[d4, column] = None
    rows.loc[d4, "closure_category"] = "missing"
    counts["D4"] = len(d4)


def _closure_disagreement(rng, country: str, rows: pd.DataFrame, rate: float, base: np.ndarray, counts: dict) -> None:
    """D5: the legacy closure reason in another category than the revised one."""
    revised_field, legacy_field = get_profile(country).harmonise["closure_fields"][:2]
    revised = (rows.closure_field == revised_field).to_numpy() & rows.closure_option.notna().to_numpy()
    d5 = _pick(rng, base & revised, _count(rate, len(rows)))
    legacy = options(country, legacy_field)
    for row in d5:
        others = legacy[legacy.category != rows.at[row, "closure_category"]]
        rows.at[row, "legacy_option"] = others.option_id.iloc[rng.integers(0, len(others))]
    counts["D5"] = len(d5)


def _age_defects(rng, rows: pd.DataFrame, rates: dict, base: np.ndarray, counts: dict) -> None:
    d6 = _pick(rng, base, _count(rates["D6"], len(rows)))
    rows.loc[d6, "dob"] = np.datetime64("NaT")
    rows.loc[d6, "age_recorded"] = np.nan
    rows.loc[d6, "expected_age"] = np.nan
    counts["D6"] = len(d6)
    has_both = base & rows.dob.notna().to_numpy()
    has_both[d6] = False
    d7 = _pick(rng, has_both, _count(rates["D7"], len(rows)))
    shift = rng.integers(2, 5, size=len(d7)) * np.where(rng.random(len(d7)) < 0.5, -1, 1)
    age = rows.age_recorded.to_numpy()[d7]
    shifted = np.where(age + shift < 0, age - shift, age + shift)
    rows.loc[d7, "age_recorded"] = shifted
    counts["D7"] = len(d7)


STRAY_FIELDS = ("sex_option", "displacement_option", "risk_option", "care_option", "uasc_field_option", "status")


def _stray_values(rng, rows: pd.DataFrame, rate: float, base, country, counts) -> None:
    """D11: option values not written as in the lists (case, spaces) or matching nothing."""
    chosen = _pick(rng, base, _count(rate, len(rows)))
    refugee_only = len(country_parameters(country)["displacement"]) == 1  # nothing else to be unmapped into
    rows["stray_field"] = None
    rows["stray_variant"] = None
    rows["unmapped_value"] = None
    for row in chosen:
        variant = rng.choice(["case", "space", "unmapped"], p=[0.4, 0.4, 0.2])
        if variant == "unmapped":
            field = "care_option" if refugee_only or rng.random() < 0.5 else "displacement_option"
            profile_field = "care_arrangements_type" if field == "care_option" else "displacement_status"
            values = UNMAPPED_VALUES[profile_field]
            rows.at[row, "unmapped_value"] = values[rng.integers(0, len(values))]
            rows.at[row, "care" if field == "care_option" else "displacement"] = "unmapped"
        else:
            filled = [f for f in STRAY_FIELDS if rows.at[row, f] is not None and not pd.isna(rows.at[row, f])]
            field = filled[rng.integers(0, len(filled))]
        rows.at[row, "stray_field"] = field
        rows.at[row, "stray_variant"] = variant
    counts["D11"] = len(chosen)


def _extras_as_of(rows: pd.DataFrame, snapshot_date: np.datetime64) -> None:
    """Registration dates of D9 rows are broken relative to the export."""
    d9 = (rows.extra_kind == "D9").to_numpy()
    variant = rows.d9_variant.to_numpy()
    after = d9 & (variant == "after_export")
    rows.loc[after, "registration_date"] = snapshot_date + (rows.seq.to_numpy()[after] % 60 + 1).astype(
        "timedelta64[D]"
    )
    rows.loc[d9 & np.isin(variant, ["missing", "unparseable"]), "registration_date"] = np.datetime64("NaT")


def _truth(rows: pd.DataFrame, concerns: pd.DataFrame, services: pd.DataFrame, country: str) -> pd.DataFrame:
    reg = rows.registration_date.to_numpy().astype("datetime64[D]")
    close = rows.date_closure.to_numpy().astype("datetime64[D]")
    closed = (rows.status == "closed").to_numpy()
    days = (close - reg).astype("timedelta64[D]").astype(float)
    duration = np.where(closed & ~np.isnan(days) & (days >= 0), days / DAYS_PER_MONTH, np.nan)
    real = concerns[concerns.category != "none"]
    concern_sets = [tuple(sorted(set(c))) for c in bucket(real.row.to_numpy(), real.category.tolist(), len(rows))]
    implemented = services[services.implemented & services.row.notna()]
    service_lists = [
        tuple(sorted(c)) for c in bucket(implemented.row.to_numpy(), implemented.category.tolist(), len(rows))
    ]
    closure = rows.closure_category.where(rows.closure_category.notna(), "missing")
    return pd.DataFrame(
        {
            "country_code": country,
            "id": rows.id,
            "row_kind": rows.row_kind,
            "in_scope": (rows.row_kind == "base").to_numpy(),
            "status": rows.status,
            "age_years": rows.expected_age,
            "sex": rows.sex.fillna("other_or_unknown"),
            "uasc_status": rows.uasc,
            "displacement": rows.displacement.fillna("unknown"),
            "risk": rows.risk.fillna("not_assessed"),
            "care": rows.care,
            "is_closed": closed,
            "closure_category": np.where(closed, closure, None),
            "case_duration_months": duration,
            "concerns": concern_sets,
            "services": service_lists,
        }
    )


def take_snapshot(lives: Lives, snapshot_date, rates: dict, rng, country: str) -> Snapshot:
    kids = lives.children
    snapshot_date = np.datetime64(snapshot_date, "D")
    visible = (kids.registration_date.to_numpy() <= snapshot_date) | (kids.extra_kind == "D9").to_numpy()
    child = np.flatnonzero(visible)
    rows, services = view(lives, child, np.full(len(child), snapshot_date), rng)
    rows["child"] = child
    rows["position"] = rows.seq.astype(float)
    rows["row_kind"] = np.where(rows.extra_kind.notna(), rows.extra_kind, "base")
    _extras_as_of(rows, snapshot_date)
    base = (rows.row_kind == "base").to_numpy()

    copies, copy_services = _stale_copies(lives, rows, rng, rates["D10"], base)
    counts = {"D8": int((rows.row_kind == "D8").sum()), "D9": int((rows.row_kind == "D9").sum())}
    counts["D13"] = int((rows.row_kind == "D13").sum())
    counts["D10"] = len(copies)
    copy_services = copy_services.assign(row=copy_services.row + len(rows))
    rows = pd.concat([rows, copies], ignore_index=True)
    services = pd.concat([services, copy_services], ignore_index=True)
    base = np.concatenate([base, np.zeros(len(copies), dtype=bool)])
    rows["age_recorded"] = rows.age.astype(float)
    rows["expected_age"] = rows.age.astype(float)

    _closure_defects(rng, rows, rates, base, counts)
    if len(get_profile(country).harmonise["closure_fields"]) > 1:
        _closure_disagreement(rng, country, rows, rates["D5"], base, counts)
    else:
        counts["D5"] = 0
    _age_defects(rng, rows, rates, base, counts)
    concerns = _concern_rows(lives, rows)
    _stray_values(rng, rows, rates["D11"], base, country, counts)

    order = np.argsort(rows.position.to_numpy(), kind="stable")
    remap = np.empty(len(order), dtype=int)
    remap[order] = np.arange(len(order))
    rows = rows.iloc[order].reset_index(drop=True)
    concerns = concerns.assign(row=remap[concerns.row.to_numpy()]).sort_values("row", kind="stable")
    services = services.assign(row=remap[services.row.to_numpy()]).sort_values("row", kind="stable")
    truth = _truth(rows, concerns, services, country)
    services = _orphan_services(rng, services, rates["D12"], counts)
    return Snapshot(cases=rows, concerns=concerns, services=services, truth=truth, defects=counts)


def _concern_rows(lives: Lives, rows: pd.DataFrame) -> pd.DataFrame:
    """Concern options per case row (a child's concerns are on each of its rows)."""
    concerns = lives.concerns
    index = pd.DataFrame({"child": rows.child.to_numpy(), "row": np.arange(len(rows))})
    return concerns.merge(index, on="child", how="inner")[["row", "field", "option_id", "category"]]


def _orphan_services(rng, services: pd.DataFrame, rate: float, counts: dict) -> pd.DataFrame:
    """D12: service rows whose case is not in the export (the case was deleted or never synced)."""
    n = _count(rate / (1 - rate), len(services)) if rate else 0
    counts["D12"] = n
    if n == 0:
        return services.assign(orphan_key=None)
    template = services.iloc[rng.integers(0, len(services), size=n)].copy() if len(services) else None
    if template is None:
        counts["D12"] = 0
        return services.assign(orphan_key=None)
    template["row"] = -1
    template["orphan_key"] = uuids(rng, n)
    template["unique_id"] = uuids(rng, n)
    template["position"] = rng.random(n) * len(services)
    merged = pd.concat([services.assign(orphan_key=None, position=np.arange(len(services))), template])
    return merged.sort_values("position", kind="stable").drop(columns="position").reset_index(drop=True)
