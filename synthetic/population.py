"""Simulated children and the life of their cases, in harmonised categories (vectorised).

A chunk of children is simulated once, up to the last export date; each export snapshot is then a
view of the same lives at its date (see ``snapshot.py``). Option ids are chosen here, from the
categorisation seed, so what the exports carry is exactly what the truth says.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from orchestration.ingest.profiles import get_profile
from synthetic.categories import categories, choose_options, options
from synthetic.names import agencies, free_text_places, locations, person_names

DAYS_PER_MONTH = 30.4375
UASC_CONCERN_CATEGORY = "family_separation"
D9_VARIANTS = ("missing", "unparseable", "before_period", "after_export")


@dataclass
class Lives:
    children: pd.DataFrame  # one row per child, index = position in the chunk
    concerns: pd.DataFrame  # child, field, option_id, category
    services: pd.DataFrame  # child, unique_id, option_id, category, response, implemented, service_date


def bucket(rows: np.ndarray, values, n: int) -> list[list]:
    """Values grouped by row number 0..n-1, in order (a plain loop: far faster than a pandas groupby)."""
    buckets: list[list] = [[] for _ in range(n)]
    for row, value in zip(rows.tolist(), values, strict=True):
        buckets[int(row)].append(value)
    return buckets


def uuids(rng: np.random.Generator, n: int) -> np.ndarray:
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexed = [row.tobytes().hex() for row in raw]
    return np.array([f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}" for h in hexed], dtype=object)


@cache
def _age_tilt(mean_age: float) -> np.ndarray:
    """Probabilities of ages 0..17, exponentially tilted to the wanted mean (bisection)."""
    ages = np.arange(18)
    low, high = -2.0, 2.0
    for _ in range(60):
        k = (low + high) / 2
        weights = np.exp(k * ages)
        if (weights * ages).sum() / weights.sum() < mean_age:
            low = k
        else:
            high = k
    weights = np.exp(k * ages)
    return weights / weights.sum()


def _draw_categories(rng, n: int, shares: dict[str, float]) -> np.ndarray:
    names = np.array(list(shares), dtype=object)
    probabilities = np.array(list(shares.values()), dtype=float)
    return names[rng.choice(len(names), size=n, p=probabilities / probabilities.sum())]


def _restrict(shares: dict[str, float], available: list[str]) -> dict[str, float]:
    kept = {k: v for k, v in shares.items() if k in available}
    return kept or {available[0]: 1.0}


def _missing(rng, values: np.ndarray, share: float) -> np.ndarray:
    values = values.copy()
    values[rng.random(len(values)) < share] = None
    return values


def _dates_of_birth(rng, registration: np.ndarray, age: np.ndarray) -> np.ndarray:
    """A date of birth giving exactly ``age`` whole years on the registration date."""
    reg = pd.DatetimeIndex(registration)
    year = reg.year.to_numpy() - age
    month = reg.month.to_numpy()
    day = np.where((month == 2) & (reg.day.to_numpy() == 29), 28, reg.day.to_numpy())
    anniversary = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": day}))
    back = rng.integers(0, 365, size=len(age))
    return (anniversary - pd.to_timedelta(back, unit="D")).to_numpy("datetime64[D]")


def _identity(rng, country: str, params: dict, n: int, first_seq: int, window) -> pd.DataFrame:
    start, end = window
    span = (end - start).astype(int) + 1
    reg = start + rng.integers(0, span, size=n).astype("timedelta64[D]")
    uasc_share = params["uasc_share"]
    is_uasc = rng.random(n) < uasc_share
    is_unaccompanied = is_uasc & (rng.random(n) < params["unaccompanied_share_of_uasc"])
    uasc = np.where(is_unaccompanied, "unaccompanied", np.where(is_uasc, "separated", "not_uasc")).astype(object)

    mean_uasc = params["mean_age"] + params["uasc_age_shift"]
    mean_other = (params["mean_age"] - uasc_share * mean_uasc) / (1 - uasc_share)
    age = np.where(
        is_uasc,
        rng.choice(18, size=n, p=_age_tilt(round(mean_uasc, 3))),
        rng.choice(18, size=n, p=_age_tilt(round(mean_other, 3))),
    )
    male_uasc = params["male_share"] + params["male_share_uasc_shift"]
    male_other = (params["male_share"] - uasc_share * male_uasc) / (1 - uasc_share)
    male = rng.random(n) < np.where(is_uasc, male_uasc, male_other)
    sex = np.where(male, "male", "female").astype(object)
    sex[rng.random(n) < params["other_sex_share"]] = "other_or_unknown"

    dob = _dates_of_birth(rng, reg, age)
    dob_known = rng.random(n) < params["dob_known_share"]
    seq = np.arange(first_seq, first_seq + n)
    given, family = person_names(rng, country, n)
    return pd.DataFrame(
        {
            "seq": seq,
            "id": uuids(rng, n),
            "case_id_display": [f"{country.lower()}-{s:08d}" for s in seq],
            "registration_date": reg,
            "age": age,
            "dob": np.where(dob_known, dob, np.datetime64("NaT")),
            "estimated": ~dob_known,
            "sex": sex,
            "uasc": uasc,
            "name": given + " " + family,
            "location": locations(rng, country, n),
            "agency": agencies(rng, country, n),
            "arabic_row": rng.random(n) < params["local_language_rows"],
        }
    )


def _care(rng, country: str, params: dict, uasc: np.ndarray) -> np.ndarray:
    available = categories(country, "care_arrangements_type")
    care = np.full(len(uasc), None, dtype=object)
    for group, shares in params["care"].items():
        where = np.flatnonzero(uasc == group)
        drawn = _draw_categories(rng, len(where), shares)
        care[where] = np.where(np.isin(drawn, available), drawn, None)
    return _missing(rng, care, params["care_missing"])


def _attributes(rng, country: str, params: dict, kids: pd.DataFrame) -> None:
    n = len(kids)
    kids["displacement"] = _missing(
        rng,
        _draw_categories(rng, n, _restrict(params["displacement"], categories(country, "displacement_status"))),
        params["displacement_missing"],
    )
    risk_field = get_profile(country).harmonise["fields"]["risk"]
    risk = _draw_categories(rng, n, params["risk"])
    risk = np.where(np.isin(risk, categories(country, risk_field)), risk, None)
    kids["risk"] = _missing(rng, risk, params["risk_missing"])
    kids["care"] = _care(rng, country, params, kids.uasc.to_numpy())
    kids["sex_option"] = choose_options(rng, country, "sex", kids.sex.to_numpy())
    kids["displacement_option"] = choose_options(rng, country, "displacement_status", kids.displacement.to_numpy())
    kids["risk_option"] = choose_options(rng, country, risk_field, kids.risk.to_numpy())
    kids["care_option"] = choose_options(rng, country, "care_arrangements_type", kids.care.to_numpy())


def _concern_fields(country: str) -> list[str]:
    return list(get_profile(country).harmonise["concern_fields"])


def _concern_options(rng, country: str, category: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(field, option_id) for n concerns of one category, spread over the fields that carry it."""
    candidates = pd.concat([options(country, f).assign(field=f) for f in _concern_fields(country)], ignore_index=True)
    candidates = candidates[candidates.category == category]
    # UASC concern options are kept for UASC children only (they decide uasc_status).
    markers = set(UASC_MARKER_OPTIONS) | set(options_for_uasc(country).values())
    candidates = candidates[~candidates.option_id.isin(markers)]
    if candidates.empty:
        return np.array([], dtype=object), np.array([], dtype=object)
    picks = rng.integers(0, len(candidates), size=n)
    return candidates.field.to_numpy()[picks], candidates.option_id.to_numpy()[picks]


UASC_MARKER_OPTIONS = ("unaccompanied", "separated", "unaccompanied_children", "separated_children")


def _concerns(rng, country: str, params: dict, kids: pd.DataFrame) -> pd.DataFrame:
    n = len(kids)
    male = (kids.sex == "male").to_numpy()
    available = set().union(*(categories(country, f) for f in _concern_fields(country))) - {"none"}
    parts = []
    for category, rate in params["concern_rates"].items():
        if category not in available:
            continue
        rates = np.where(male, rate["male"], rate["female"]) if isinstance(rate, dict) else np.full(n, rate)
        rates = rates * params["concern_multipliers"].get(category, 1.0)
        children = np.flatnonzero(rng.random(n) < rates)
        if len(children) == 0:
            continue
        field, option_id = _concern_options(rng, country, category, len(children))
        if len(option_id) == 0:
            continue
        parts.append(pd.DataFrame({"child": children, "field": field, "option_id": option_id, "category": category}))
        twice = children[rng.random(len(children)) < params["second_option_same_category"]]
        if len(twice):
            field, option_id = _concern_options(rng, country, category, len(twice))
            parts.append(pd.DataFrame({"child": twice, "field": field, "option_id": option_id, "category": category}))
    parts.append(_uasc_markers(rng, country, params, kids))
    concerns = pd.concat(parts, ignore_index=True)
    concerns = concerns.drop_duplicates(["child", "field", "option_id"])
    none_options = [
        (f, o) for f in _concern_fields(country) for o in options(country, f).query("category == 'none'").option_id
    ]
    if none_options:  # a "no risk" option (LBN's Type of Risk) for some children without a concern
        concerns = pd.concat([concerns, _no_concern(rng, params, n, concerns, none_options[0])], ignore_index=True)
    order = rng.random(len(concerns))
    return concerns.assign(_order=order).sort_values(["child", "_order"]).drop(columns="_order").reset_index(drop=True)


def _no_concern(rng, params: dict, n: int, concerns: pd.DataFrame, option: tuple[str, str]) -> pd.DataFrame:
    without = np.setdiff1d(np.arange(n), concerns.child.unique())
    chosen = without[rng.random(len(without)) < params["no_risk_when_no_concern"]]
    return pd.DataFrame({"child": chosen, "field": option[0], "option_id": option[1], "category": "none"})


def _uasc_markers(rng, country: str, params: dict, kids: pd.DataFrame) -> pd.DataFrame:
    """Decide how each UASC child's status is recorded: field, concern option, or both."""
    n = len(kids)
    marker_options = options_for_uasc(country)
    draw = rng.random(n)
    if marker_options:
        by_concern_only = draw < params["uasc_marked_by_concern"]
        both = (~by_concern_only) & (draw < params["uasc_marked_by_concern"] + params["uasc_marked_by_both"])
    else:
        by_concern_only = both = np.zeros(n, dtype=bool)
    uasc = kids.uasc.to_numpy()
    is_uasc = uasc != "not_uasc"
    field_category = np.where(is_uasc & ~by_concern_only, uasc, "not_uasc").astype(object)
    uasc_field = get_profile(country).harmonise["fields"]["uasc"]
    field_option = choose_options(rng, country, uasc_field, field_category)
    # A not-UASC child often has the field left empty.
    field_option[(field_category == "not_uasc") & (rng.random(n) < 0.3)] = None
    kids["uasc_field_option"] = field_option
    marked = np.flatnonzero(is_uasc & (by_concern_only | both))
    marker = np.array([marker_options.get(u) for u in uasc[marked]], dtype=object)
    return pd.DataFrame(
        {"child": marked, "field": "protection_concerns", "option_id": marker, "category": UASC_CONCERN_CATEGORY}
    )


def options_for_uasc(country: str) -> dict[str, str]:
    return get_profile(country).uasc_concern_options


def _services(rng, country: str, params: dict, kids: pd.DataFrame, last_day: np.datetime64) -> pd.DataFrame:
    n = len(kids)
    counts = np.minimum(rng.poisson(params["services_per_child"], size=n), params["max_services"])
    child = np.repeat(np.arange(n), counts)
    available = categories(country, "service_type")
    weights = {k: v * params["service_multipliers"].get(k, 1.0) for k, v in params["service_weights"].items()}
    category = _draw_categories(rng, len(child), _restrict(weights, available))
    reg = kids.registration_date.to_numpy()[child].astype("datetime64[D]")
    end = kids.close_date.to_numpy()[child]
    end = np.where(pd.isna(end), last_day, end).astype("datetime64[D]")
    span = np.maximum((end - reg).astype(int), 0)
    offset = np.floor(rng.random(len(child)) * (span + 1)).astype(int)
    implemented = rng.random(len(child)) < params["service_implemented"]
    service_date = np.where(implemented, reg + offset.astype("timedelta64[D]"), np.datetime64("NaT"))
    return pd.DataFrame(
        {
            "child": child,
            "unique_id": uuids(rng, len(child)),
            "option_id": choose_options(rng, country, "service_type", category),
            "category": category,
            "response": np.array(["care_plan", "service_provision", "referral"], dtype=object)[
                rng.integers(0, 3, size=len(child))
            ],
            "service_date": service_date.astype("datetime64[D]"),
        }
    )


def _closure_plan(rng, params: dict, kids: pd.DataFrame, last_day: np.datetime64, scale_days: float) -> None:
    n = len(kids)
    reg = kids.registration_date.to_numpy()
    duration = rng.gamma(params["duration_shape"], scale_days / params["duration_shape"], size=n)
    close = reg + np.ceil(duration).astype("timedelta64[D]")
    closes = (rng.random(n) < params["closed_share"]) & (close <= last_day)
    kids["close_date"] = np.where(closes, close, np.datetime64("NaT")).astype("datetime64[D]")
    transfer = reg + rng.integers(7, 120, size=n).astype("timedelta64[D]")
    transfers = (~closes) & (rng.random(n) < params["transferred_share"]) & (transfer <= last_day)
    kids["transfer_date"] = np.where(transfers, transfer, np.datetime64("NaT")).astype("datetime64[D]")


def plan_reopening(rng, params: dict, kids: pd.DataFrame, last_day: np.datetime64) -> None:
    """Some closed cases are reopened (``reopened_share`` of the closing ones, 10-90 days after the
    closure, and open from then on). Drawn from a random stream of its own, and only when there are
    successive exports to see it (``--snapshots`` above 1), so one export is the same with or without."""
    close = kids.close_date.to_numpy().astype("datetime64[D]")
    reopen = close + rng.integers(10, 91, size=len(kids)).astype("timedelta64[D]")
    reopens = ~np.isnat(close) & (rng.random(len(kids)) < params["reopened_share"]) & (reopen <= last_day)
    kids["reopen_date"] = np.where(reopens, reopen, np.datetime64("NaT")).astype("datetime64[D]")


def duration_scale_days(params: dict, window, last_day: np.datetime64) -> float:
    """Mean duration (days) to draw so that *observed* closed durations average the target.

    Cases whose closure would fall after the last export stay open, which shortens observed
    durations; a fixed-seed pilot finds the draw mean that compensates.
    """
    rng = np.random.default_rng(20231231)
    start, end = window
    span = (end - start).astype(int) + 1
    reg = start + rng.integers(0, span, size=100_000).astype("timedelta64[D]")
    base = rng.gamma(params["duration_shape"], 1.0 / params["duration_shape"], size=100_000)
    target = params["duration_mean_months"] * DAYS_PER_MONTH
    scale = target
    for _ in range(20):
        days = np.ceil(base * scale)
        observed = days[reg + days.astype("timedelta64[D]") <= last_day]
        if len(observed) == 0:
            break
        scale *= target / observed.mean()
    return float(scale)


def _closure_reasons(rng, country: str, params: dict, kids: pd.DataFrame, revised_from) -> None:
    """The closure reason each closing case will carry, in the country's closure field(s)."""
    n = len(kids)
    close = kids.close_date.to_numpy()
    profile = get_profile(country)
    closure_fields = profile.harmonise["closure_fields"]
    if len(closure_fields) > 1:  # revised forms (the first field) from a date, the legacy field before
        primary_field = np.where(close >= revised_from, closure_fields[0], closure_fields[1])
    else:
        primary_field = np.full(n, closure_fields[0], dtype=object)
    category = np.full(n, None, dtype=object)
    option = np.full(n, None, dtype=object)
    for field in np.unique(primary_field):
        where = np.flatnonzero(primary_field == field)
        cats = _draw_categories(rng, len(where), _restrict(params["closure"], categories(country, field)))
        category[where] = cats
        option[where] = choose_options(rng, country, field, cats)
    kids["closure_category"] = category
    kids["closure_field"] = primary_field
    kids["closure_option"] = option
    kids["legacy_option"] = None
    if len(closure_fields) > 1:  # the legacy field is often filled beside the revised one
        beside = (primary_field == closure_fields[0]) & (rng.random(n) < params["legacy_closure_beside_revised"])
        legacy = choose_options(rng, country, closure_fields[1], np.where(beside, category, None))
        kids["legacy_option"] = legacy
    kids["second_closure_option"] = None
    if closure_fields[0] in profile.multiselect_fields:  # a multi-select closure reason: sometimes two
        second = rng.random(n) < params["second_closure_option_share"]
        all_options = options(country, closure_fields[0]).option_id.to_numpy()
        kids.loc[second, "second_closure_option"] = all_options[rng.integers(0, len(all_options), second.sum())]
    places = free_text_places(rng, country, n)
    kids["closure_free_text"] = np.where(
        np.isin(category, ["other", "relocated_or_lost_contact"]), "Family moved to " + places, None
    )


def _mark_extras(rng, kids: pd.DataFrame, extra_kind: np.ndarray) -> None:
    """Records that are out of scope by design: adults (D8), broken registration dates (D9),
    and records marked as duplicates in Primero (D13)."""
    kids["extra_kind"] = extra_kind
    adults = np.flatnonzero(extra_kind == "D8")
    kids.loc[adults, "age"] = rng.integers(18, 21, size=len(adults))
    born = _dates_of_birth(rng, kids.registration_date.to_numpy()[adults], kids.age.to_numpy()[adults])
    kids.loc[adults, "dob"] = np.where(kids.dob.notna().to_numpy()[adults], born, np.datetime64("NaT"))
    broken = np.flatnonzero(extra_kind == "D9")
    variant = np.array(D9_VARIANTS, dtype=object)[rng.integers(0, len(D9_VARIANTS), size=len(broken))]
    kids["d9_variant"] = None
    kids.loc[broken, "d9_variant"] = variant
    kids.loc[broken, "dob"] = np.datetime64("NaT")  # no birth date to contradict the broken registration
    before = broken[variant == "before_period"]
    kids.loc[before, "registration_date"] = np.datetime64("2018-01-01") + rng.integers(0, 729, len(before)).astype(
        "timedelta64[D]"
    )


def simulate(
    rng, country: str, params: dict, extra_kind: np.ndarray, first_seq: int, window, last_day, duration_scale
) -> Lives:
    """Children registered within ``window``, their cases followed up to ``last_day``.

    ``extra_kind`` has one entry per child: None for an ordinary child, else the defect code of
    an out-of-scope record (D8, D9, D13).
    """
    n = len(extra_kind)
    kids = _identity(rng, country, params, n, first_seq, window)
    _mark_extras(rng, kids, extra_kind)
    _attributes(rng, country, params, kids)
    concerns = _concerns(rng, country, params, kids)
    _closure_plan(rng, params, kids, last_day, duration_scale)
    revised_from = get_profile(country).revised_forms_from
    _closure_reasons(rng, country, params, kids, np.datetime64(revised_from or "1900-01-01"))
    broken = (kids.extra_kind == "D9").to_numpy()
    kids.loc[broken, ["close_date", "transfer_date"]] = np.datetime64("NaT")
    kids.loc[broken, ["closure_category", "closure_option", "legacy_option", "closure_free_text"]] = None
    services = _services(rng, country, params, kids, last_day)
    services = services[~broken[services.child.to_numpy()]].reset_index(drop=True)
    return Lives(children=kids, concerns=concerns, services=services)
