"""The categorisation seed as the generator uses it: which options a country has per category."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from orchestration.transform.seeds import categorisation  # noqa: F401 - the generator reads the seed through here


@cache
def options(country: str, field: str) -> pd.DataFrame:
    """Option rows (option_id, label_en, label_local, category) of one country's field."""
    seed = categorisation()
    rows = seed[(seed.country_code == country) & (seed.field == field)]
    return rows.reset_index(drop=True)


def categories(country: str, field: str) -> list[str]:
    return sorted(set(options(country, field).category))


def choose_options(rng: np.random.Generator, country: str, field: str, cats: np.ndarray) -> np.ndarray:
    """For each harmonised category, one option id of the country's field in that category.

    None where the category is None or the country has no option in it.
    """
    table = options(country, field)
    chosen = np.full(len(cats), None, dtype=object)
    for category, group in table.groupby("category"):
        where = np.flatnonzero(cats == category)
        if len(where):
            picks = rng.integers(0, len(group), size=len(where))
            chosen[where] = group.option_id.to_numpy()[picks]
    return chosen


def label_lookup(country: str, field: str, language: str) -> dict[str, str]:
    """option_id -> display label in 'en' or 'local' (falls back to English where no local label)."""
    table = options(country, field)
    labels = table.label_local.where((language == "local") & (table.label_local != ""), table.label_en)
    return dict(zip(table.option_id, labels, strict=True))
