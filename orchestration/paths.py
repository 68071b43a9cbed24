"""Where the project's own files are, relative to this package (no reads outside the repository)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
CATEGORISATION_SEED = DBT_PROJECT_DIR / "seeds" / "categorisation.csv"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
