"""Settings from the environment, each also a ``cpwh`` option, with safe defaults.

``CPWH_HOME`` (default ``./data``) holds the warehouse, the Dagster instance and the published
files; ``CPWH_LANDING`` (default ``$CPWH_HOME/landing``) is where exports arrive.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

# Nothing may reach the network at run time: dbt and GX telemetry off wherever we run.
OFFLINE_ENVIRONMENT = {
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "GX_ANALYTICS_ENABLED": "false",
}
DAGSTER_YAML = """\
# Written by cpwh: the local Dagster instance of this warehouse.
telemetry:
  enabled: false
concurrency:
  pools:
    default_limit: 1  # one writer at a time on the embedded DuckDB warehouse
"""


@dataclass(frozen=True)
class Settings:
    home: Path
    landing: Path

    @classmethod
    def from_env(cls, home: str | Path | None = None, landing: str | Path | None = None) -> Settings:
        home_path = Path(home or os.environ.get("CPWH_HOME") or "data").resolve()
        landing_path = Path(landing or os.environ.get("CPWH_LANDING") or home_path / "landing").resolve()
        return cls(home_path, landing_path)

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    def export_to_environment(self) -> None:
        """Make these settings the process's: dbt reads CPWH_HOME from the environment."""
        os.environ["CPWH_HOME"] = str(self.home)
        os.environ["CPWH_LANDING"] = str(self.landing)
        for key, value in OFFLINE_ENVIRONMENT.items():
            os.environ.setdefault(key, value)
        use_this_python_environment()

    def ensure_dagster_home(self) -> Path:
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        config = self.dagster_home / "dagster.yaml"
        if not config.exists():
            config.write_text(DAGSTER_YAML, encoding="utf-8")
        os.environ["DAGSTER_HOME"] = str(self.dagster_home)
        return self.dagster_home


def use_this_python_environment() -> None:
    """Put this interpreter's scripts (dbt, dagster) first on PATH, also when the venv is not activated."""
    scripts = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != scripts:
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")
