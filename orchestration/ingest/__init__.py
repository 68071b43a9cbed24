"""Ingest: country profiles (data), the readers of the three export formats, the generic raw loader and
its Dagster asset."""
