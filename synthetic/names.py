"""Synthetic personal data (names, places, agencies): what the warehouse must never let past raw.
A country's names and places are its synthetic parameters (``parameters.yaml``: ``names``)."""

from __future__ import annotations

import numpy as np

from synthetic.parameters import country_parameters


def _names(country: str) -> dict[str, list[str]]:
    return country_parameters(country)["names"]


def _pick(rng: np.random.Generator, values: list[str], n: int) -> np.ndarray:
    return np.array(values, dtype=object)[rng.integers(0, len(values), size=n)]


def person_names(rng, country: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    return _pick(rng, _names(country)["given"], n), _pick(rng, _names(country)["family"], n)


def locations(rng, country: str, n: int) -> np.ndarray:
    return _pick(rng, _names(country)["places"], n)


def free_text_places(rng, country: str, n: int) -> np.ndarray:
    return _pick(rng, [p.split(", ")[-1] for p in _names(country)["places"]], n)


def agencies(rng, country: str, n: int) -> np.ndarray:
    return _pick(rng, [f"agency-{country.lower()}-{k}" for k in ("unicef", "save", "irc", "local")], n)
