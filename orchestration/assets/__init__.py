"""Dagster assets by layer: raw exports, dbt models."""
