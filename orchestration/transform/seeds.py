"""The dbt seeds as Python reads them (the quality suites and the synthetic generator use the
categorisation seed): read from the dbt project, never retyped."""

from __future__ import annotations

from functools import cache

import pandas as pd

from orchestration.paths import CATEGORISATION_SEED


@cache
def categorisation() -> pd.DataFrame:
    """Every country option mapped to its harmonised category, as text."""
    return pd.read_csv(CATEGORISATION_SEED, dtype=str, keep_default_na=False)
