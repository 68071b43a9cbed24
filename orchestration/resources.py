"""Dagster resources, configured from the environment (see ``settings.py``)."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource

from orchestration.settings import Settings


class WarehouseResource(ConfigurableResource):
    """Where the warehouse and the landing zone are."""

    home: str
    landing: str

    @classmethod
    def from_settings(cls, settings: Settings) -> WarehouseResource:
        return cls(home=str(settings.home), landing=str(settings.landing))

    @property
    def database(self) -> Path:
        return Path(self.home) / "warehouse.duckdb"

    @property
    def landing_path(self) -> Path:
        return Path(self.landing)
