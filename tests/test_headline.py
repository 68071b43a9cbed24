"""Scale-1 default data, read back and harmonised independently, lands on the review's figures."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from scipy.stats import chi2_contingency

from orchestration.ingest.loader import load_country
from orchestration.ingest.profiles import COUNTRY_CODES, get_profile
from synthetic import generate_exports
from tests.reference import children, harmonise, headline_figures

# The review's figures and the tolerances of indicators.md (percentage points, years, months).
REVIEW = {
    "mean_age_years": (11.5, 0.3),
    "pct_male": (56.0, 1.5),
    "pct_uasc": (19.0, 1.5),
    "mean_age_uasc_years": (12.0, 0.3),
    "pct_concern__neglect": (43.0, 1.5),
    "pct_concern__child_labour": (18.0, 1.5),
    "pct_service__mhpss": (25.0, 1.5),
    "pct_service__education": (14.0, 1.5),
    "pct_service__health": (12.0, 1.5),
    "pct_care_family": (72.0, 1.5),
    "mean_case_duration_months": (5.5, 0.3),
}


@pytest.fixture(scope="module")
def scale_one(tmp_path_factory) -> dict[str, pd.DataFrame]:
    root = tmp_path_factory.mktemp("scale1")
    generate_exports(root / "landing", scale=1.0, seed=42)
    for country in COUNTRY_CODES:
        load_country(root / "w.duckdb", root / "landing", get_profile(country))
    con = duckdb.connect(str(root / "w.duckdb"), read_only=True)
    kids = {c: children(harmonise(con, c), c).assign(country=c) for c in COUNTRY_CODES}
    con.close()
    return kids


@pytest.mark.slow
def test_headline_figures_within_tolerance(scale_one):
    everyone = pd.concat(scale_one.values(), ignore_index=True)
    figures = headline_figures(everyone)
    assert 91_000 <= figures["children_in_scope"] <= 92_000
    for name, (review, tolerance) in REVIEW.items():
        assert abs(figures[name] - review) <= tolerance, f"{name}: {figures[name]:.2f} vs review {review}"
    assert 56.0 < figures["pct_male_among_uasc"] <= 57.5, "slightly above 56%"
    assert figures["concern_ranks_3_4"] == {"physical_violence", "emotional_violence"}
    assert figures["pct_closed_positive_outcome"] > 50


@pytest.mark.slow
def test_countries_differ_as_real_operations_do(scale_one):
    sizes = {c: len(k) for c, k in scale_one.items()}
    expected = {"BGD": 24_000, "KEN": 12_000, "LBN": 15_000, "MMR": 8_000, "NGA": 20_000, "UKR": 12_000}
    for country, size in expected.items():
        assert abs(sizes[country] - size) <= 0.02 * size, f"{country}: {sizes[country]} children"
    per_country = {c: headline_figures(k) for c, k in scale_one.items()}
    assert per_country["KEN"]["pct_displacement__refugee"] == 100
    assert per_country["BGD"]["pct_displacement__refugee"] == 100
    assert (scale_one["NGA"].displacement == "idp").mean() > 0.6
    assert scale_one["UKR"].registration_date.min() >= pd.Timestamp("2022-03-01")
    durations = [f["mean_case_duration_months"] for f in per_country.values()]
    assert max(durations) - min(durations) > 2, "case duration varies by country"


@pytest.mark.slow
def test_sex_differences_in_concerns_are_significant(scale_one):
    everyone = pd.concat(scale_one.values(), ignore_index=True)
    with_concern = everyone[everyone.concerns.map(len) > 0]
    with_concern = with_concern[with_concern.sex.isin(["male", "female"])]
    for concern, more_exposed in (
        ("child_labour", "male"),
        ("recruitment_caafag", "male"),
        ("sexual_violence", "female"),
    ):
        has = with_concern.concerns.map(lambda c, k=concern: k in c)
        table = pd.crosstab(with_concern.sex, has)
        _, p_value, _, _ = chi2_contingency(table)
        prevalence = has.groupby(with_concern.sex).mean()
        other = "female" if more_exposed == "male" else "male"
        assert prevalence[more_exposed] > prevalence[other] and p_value < 0.001, concern
