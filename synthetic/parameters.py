"""Country parameters of the synthetic caseloads (``parameters.yaml``), defaults merged in."""

from __future__ import annotations

import zlib
from functools import cache
from pathlib import Path

import yaml

from orchestration.ingest.profiles import get_profile
from orchestration.transform.policy import policy

PARAMETERS_FILE = Path(__file__).with_name("parameters.yaml")
DEFECT_CODES = tuple(f"D{i}" for i in range(1, 14))


@cache
def _document() -> dict:
    return yaml.safe_load(PARAMETERS_FILE.read_text(encoding="utf-8"))


def country_parameters(country: str) -> dict:
    document = _document()
    study = policy()  # the study period is the project's (dbt_project.yml vars), not the generator's
    merged = {"study_start": study.study_start.isoformat(), "study_end": study.study_end.isoformat()}
    merged.update(document["defaults"])
    overrides = document["countries"][country]
    for key, value in overrides.items():
        if key == "defects":
            merged["defects"] = {**document["defaults"]["defects"], **value}
        else:
            merged[key] = value
    merged["defects"] = {**merged["defects"], **inapplicable_defects(country)}
    merged.setdefault("seed_stream", 100 + zlib.crc32(country.encode()) % 100_000)
    return merged


def inapplicable_defects(country: str) -> dict[str, float]:
    """Defects a profile's shape rules out: D5 needs two closure fields; D12 (services of no case)
    needs services in a table of their own, not inside the case row."""
    harmonise = get_profile(country).harmonise
    ruled_out = {}
    if len(harmonise["closure_fields"]) < 2:
        ruled_out["D5"] = 0.0
    if harmonise["services"]["layout"] != "table":
        ruled_out["D12"] = 0.0
    return ruled_out


def parse_defects(spec: str | None) -> dict[str, float] | None:
    """``None``/``default`` -> the per-country defaults; ``none`` -> all zero;
    ``D1=0.05,D10=0.02`` -> these rates for every country, the rest at their defaults."""
    if spec is None or spec.strip().lower() in ("", "default"):
        return None
    if spec.strip().lower() == "none":
        return {code: 0.0 for code in DEFECT_CODES}
    rates = {}
    for item in spec.split(","):
        code, _, rate = item.partition("=")
        code = code.strip().upper()
        if code not in DEFECT_CODES or not rate:
            raise ValueError(f"--defects: {item!r} is not CODE=RATE with CODE in D1..D13")
        value = float(rate)
        if not 0.0 <= value <= 0.5:
            raise ValueError(f"--defects: rate of {code} must be between 0 and 0.5, got {value}")
        rates[code] = value
    return rates
