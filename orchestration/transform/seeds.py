"""The dbt seeds as Python reads them (the quality suites and the synthetic generator use the
categorisation seed): read from the dbt project, never retyped."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from orchestration.paths import CATEGORISATION_SEED

if TYPE_CHECKING:
    import pandas as pd


@cache
def categorisation() -> pd.DataFrame:
    """Every country option mapped to its harmonised category, as text."""
    import pandas as pd  # here, not when the code location loads (pandas is a third of a second)

    return pd.read_csv(CATEGORISATION_SEED, dtype=str, keep_default_na=False)
