"""Synthetic CPIMS+ exports for the six country profiles (``cpwh generate``).

Children are simulated in chunks (bounded memory), each chunk seen at every export date
(``--snapshots``), defects injected, and the rows appended to streaming writers. ``_READY`` is
written last in each export folder.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from orchestration.ingest.profiles import COUNTRY_CODES, get_profile
from synthetic.parameters import country_parameters, inapplicable_defects
from synthetic.population import duration_scale_days, plan_reopening, simulate
from synthetic.render import render
from synthetic.snapshot import EXTRA_KINDS, take_snapshot
from synthetic.writers import EXCEL_MAX_DATA_ROWS, open_writer

CHUNK_CHILDREN = 200_000


@dataclass
class CountryResult:
    country: str
    export_dates: list[str]
    defects: dict[str, dict[str, int]] = field(default_factory=dict)  # export date -> code -> count
    rows: dict[str, int] = field(default_factory=dict)  # export date -> case rows
    truth: dict[str, pd.DataFrame] = field(default_factory=dict)  # export date -> truth
    seconds: float = 0.0


def snapshot_dates(as_of: date, snapshots: int) -> list[date]:
    """Monthly exports ending on ``as_of``."""
    final = pd.Timestamp(as_of)
    return [(final - pd.DateOffset(months=snapshots - 1 - k)).date() for k in range(snapshots)]


def _rates(params: dict, defects: dict[str, float] | None, country: str) -> dict[str, float]:
    rates = dict(params["defects"])
    if defects:
        rates.update(defects)
    rates.update(inapplicable_defects(country))
    return rates


def _split(total: int, parts: int) -> list[int]:
    base, rest = divmod(total, parts)
    return [base + (1 if k < rest else 0) for k in range(parts)]


def _population_plan(country: str, params: dict, scale: float, as_of: date, rates: dict):
    """Ordinary children and out-of-scope extras to simulate, and the registration window."""
    start = np.datetime64(get_profile(country).period_start, "D")
    study_end = np.datetime64(params["study_end"], "D")
    last_day = np.datetime64(as_of, "D")
    study_days = (study_end - start).astype(int) + 1
    window_days = max((last_day - start).astype(int) + 1, 0)
    base = int(round(params["size"] * scale * window_days / study_days))
    extra_share = sum(rates[code] for code in EXTRA_KINDS)
    total = int(round(base / (1 - extra_share))) if base else 0
    extras = {code: int(round(rates[code] * total)) for code in EXTRA_KINDS}
    return base, extras, (start, last_day)


def generate_country(
    country: str,
    landing: Path,
    *,
    scale: float = 1.0,
    seed: int = 42,
    as_of: date = date(2023, 12, 31),
    snapshots: int = 1,
    defects: dict[str, float] | None = None,
    keep_truth: bool = False,
    max_xlsx_rows: int = EXCEL_MAX_DATA_ROWS,
    progress: Callable[[str], None] | None = None,
) -> CountryResult:
    started = time.perf_counter()
    profile = get_profile(country)
    params = country_parameters(country)
    rates = _rates(params, defects, country)
    base, extras, window = _population_plan(country, params, scale, as_of, rates)
    dates = snapshot_dates(as_of, snapshots)
    result = CountryResult(country, [d.isoformat() for d in dates])
    folders = [landing / country / d.isoformat() for d in dates]
    writers = []
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "_READY").unlink(missing_ok=True)
        writers.append([(spec, open_writer(folder, spec, profile, max_xlsx_rows)) for spec in profile.files])
    duration_scale = duration_scale_days(params, window, window[1]) if window[1] >= window[0] else 1.0
    chunks = max(1, -(-(base + sum(extras.values())) // CHUNK_CHILDREN))
    stream = params["seed_stream"]  # the country's own random stream: adding a country changes no other
    plan = zip(_split(base, chunks), *(_split(n, chunks) for n in extras.values()), strict=True)
    first_seq = 1
    for chunk, (n_base, *n_extra) in enumerate(plan):
        rng = np.random.default_rng([seed, stream, chunk])
        kinds = np.array(
            [None] * n_base + sum(([k] * n for k, n in zip(EXTRA_KINDS, n_extra, strict=True)), []), dtype=object
        )
        rng.shuffle(kinds)
        lives = simulate(rng, country, params, kinds, first_seq, window, window[1], duration_scale)
        first_seq += len(kinds)
        if snapshots > 1:
            plan_reopening(np.random.default_rng([seed, stream, chunk, 2000]), params, lives.children, window[1])
        for k, export_date in enumerate(dates):
            snap_rng = np.random.default_rng([seed, stream, chunk, 1000 + k])
            snap = take_snapshot(lives, export_date, rates, snap_rng, country)
            frames = render(profile, snap)
            for spec, writer in writers[k]:
                writer.append(frames, spec)
            key = export_date.isoformat()
            totals = result.defects.setdefault(key, {})
            for code, count in snap.defects.items():
                totals[code] = totals.get(code, 0) + count
            result.rows[key] = result.rows.get(key, 0) + len(snap.cases)
            if keep_truth:
                previous = result.truth.get(key)
                result.truth[key] = snap.truth if previous is None else pd.concat([previous, snap.truth])
        if progress:
            progress(f"{country}: chunk {chunk + 1}/{chunks} written")
    for folder, folder_writers in zip(folders, writers, strict=True):
        for _, writer in folder_writers:
            writer.close()
        (folder / "_READY").write_bytes(b"")
    result.seconds = time.perf_counter() - started
    return result


def generate_exports(landing: Path, countries=COUNTRY_CODES, **options) -> dict[str, CountryResult]:
    """Write exports for ``countries`` under ``landing``; see ``generate_country`` for options."""
    return {country: generate_country(country, Path(landing), **options) for country in countries}
