"""The project's policies, defined once as dbt vars in ``dbt_project/dbt_project.yml`` and read
from there by dbt, the publisher, the quality suites, the report and the synthetic generator:
the study period, and the small-cell rule (the limit, the stricter limit, and the concern
categories it applies to)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache

import yaml

from orchestration.paths import DBT_PROJECT_DIR


@dataclass(frozen=True)
class Policy:
    study_start: date
    study_end: date
    small_cell_limit: int  # counts 1..limit are hidden
    sensitive_small_cell_limit: int  # ... and 1..this for sensitive concern categories
    sensitive_categories: tuple[str, ...]

    def indicator_limit_sql(self, indicator_expression: str) -> str:
        """SQL for the small-cell limit of an indicator row (a sensitive concern ends its id)."""
        cases = " ".join(
            f"when {indicator_expression} like '%{c}' then {self.sensitive_small_cell_limit}"
            for c in self.sensitive_categories
        )
        return f"case {cases} else {self.small_cell_limit} end"

    def limit_sql(self, category_expression: str) -> str:
        """SQL for the small-cell limit of a row whose concern category is ``category_expression``."""
        listed = ", ".join(f"'{c}'" for c in self.sensitive_categories)
        return (
            f"case when {category_expression} in ({listed}) then {self.sensitive_small_cell_limit}"
            f" else {self.small_cell_limit} end"
        )


@cache
def policy() -> Policy:
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    v = project["vars"]
    categories = tuple(v["sensitive_categories"])
    if not all(re.fullmatch(r"[a-z_]+", c) for c in categories):  # they reach SQL text as literals
        raise ValueError(f"dbt_project.yml: sensitive_categories must be category names, got {categories}")
    return Policy(
        study_start=date.fromisoformat(str(v["study_start"])),
        study_end=date.fromisoformat(str(v["study_end"])),
        small_cell_limit=int(v["small_cell_limit"]),
        sensitive_small_cell_limit=int(v["sensitive_small_cell_limit"]),
        sensitive_categories=categories,
    )
