"""mart_indicators and mart_sex_differences against figures computed in Python from what the
generator intended, for every country and ALL; suppression in the warehouse and the published copy."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency

from orchestration.ingest.profiles import COUNTRY_CODES
from orchestration.paths import DBT_PROJECT_DIR
from orchestration.transform.warm_start import dbt_target_path
from tests.conftest import EXPORT, KEY, copy_of_home, run_dbt_unit_tests
from tests.reference import DAYS_PER_MONTH, harmonise, measure_defects

SENSITIVE = ("sexual_violence", "recruitment_caafag", "trafficking")


def _age_group(age: float) -> str:
    if pd.isna(age):
        return "unknown"
    return "0-4" if age <= 4 else "5-9" if age <= 9 else "10-14" if age <= 14 else "15-17"


def _children(results) -> pd.DataFrame:
    frames = []
    for country in COUNTRY_CODES:
        truth = results[country].truth[EXPORT]
        frames.append(truth[truth.in_scope].assign(country_code=country))
    children = pd.concat(frames, ignore_index=True)
    children["age_group"] = children.age_years.map(_age_group)
    children["sex_group"] = children.sex.where(children.sex.isin(["male", "female"]), "other_or_unknown")
    return children


def _outcome(category: str) -> str:
    if category == "goals_met":
        return "positive"
    if category in ("turned_18", "transferred"):
        return "neutral"
    if category in ("other", "unmapped", "missing"):
        return "unknown"
    return "excluded" if category == "opened_in_error" else "negative"


def _share(part: pd.Series, whole: pd.Series) -> tuple[float, float]:
    return float(part.sum()), float(whole.sum())


def expected_figures(kids: pd.DataFrame) -> dict[str, tuple[float | None, float | None]]:
    """(numerator, denominator) per indicator over one group of in-scope children."""
    figures = {"children_in_scope": (len(kids), None)}
    known_age = kids.age_years.notna()
    figures["mean_age_years"] = (kids.age_years.sum(), known_age.sum())
    known_sex = kids.sex.isin(["male", "female"])
    figures["pct_male"] = _share(kids.sex == "male", known_sex)
    uasc = kids.uasc_status != "not_uasc"
    figures["pct_uasc"] = (uasc.sum(), len(kids))
    figures["pct_unaccompanied"] = ((kids.uasc_status == "unaccompanied").sum(), len(kids))
    figures["mean_age_uasc_years"] = (kids.age_years[uasc].sum(), (uasc & known_age).sum())
    figures["pct_male_among_uasc"] = ((uasc & (kids.sex == "male")).sum(), (uasc & known_sex).sum())
    for category in ("refugee", "idp", "unknown"):
        figures[f"pct_displacement__{category}"] = ((kids.displacement == category).sum(), len(kids))
    for level in ("high", "not_assessed"):
        figures[f"pct_risk__{level}"] = ((kids.risk == level).sum(), len(kids))
    mapped_care = kids.care.notna() & (kids.care != "unmapped")
    figures["pct_care__parents"] = ((kids.care == "parents").sum(), mapped_care.sum())
    figures["pct_care_family"] = (kids.care.isin(["parents", "kinship_care"]).sum(), mapped_care.sum())
    records = kids.concerns.explode().dropna()
    with_any = kids.concerns.map(len) > 0
    for category in ("neglect", "child_labour", "sexual_violence", "physical_violence"):
        figures[f"pct_concern__{category}"] = ((records == category).sum(), len(records))
        figures[f"pct_children_with_concern__{category}"] = ((records == category).sum(), with_any.sum())
    services = kids.services.explode().dropna()
    for category in ("mhpss", "education", "health"):
        figures[f"pct_service__{category}"] = ((services == category).sum(), len(services))
    closed = kids[kids.is_closed]
    figures["pct_closed"] = (len(closed), len(kids))
    durations = closed.case_duration_months.dropna()
    # The numerator of a mean duration is its whole days (exact in any order); the value is in months.
    figures["mean_case_duration_months"] = ((durations * DAYS_PER_MONTH).round().sum(), len(durations))
    for category in ("goals_met", "missing"):
        figures[f"pct_closure__{category}"] = ((closed.closure_category == category).sum(), len(closed))
    outcomes = closed.closure_category.map(_outcome)
    rated = outcomes.isin(["positive", "neutral", "negative"])
    figures["pct_closed_positive_outcome"] = ((outcomes == "positive").sum(), rated.sum())
    return figures


def _value(indicator: str, numerator, denominator) -> float | None:
    if indicator == "children_in_scope":
        return numerator
    if not denominator:
        return None
    if indicator == "mean_case_duration_months":
        return numerator / DAYS_PER_MONTH / denominator
    scale = 1.0 if indicator.startswith("mean_") else 100.0
    return scale * numerator / denominator


@pytest.fixture(scope="module")
def marts(built_home):
    _, results, con = built_home
    indicators = con.execute("select * from marts.mart_indicators").df()
    return results, indicators.set_index(["indicator_id", "country_code", "dimension", "dimension_value"])


@pytest.mark.parametrize("country", [*COUNTRY_CODES, "ALL"])
def test_indicators_equal_independent_figures(marts, country):
    results, indicators = marts
    kids = _children(results)
    group = kids if country == "ALL" else kids[kids.country_code == country]
    for indicator, (numerator, denominator) in expected_figures(group).items():
        row = indicators.loc[(indicator, country, "total", "total")]
        assert row.numerator == pytest.approx(numerator), f"{country} {indicator} numerator"
        if denominator is not None:
            assert row.denominator == pytest.approx(denominator), f"{country} {indicator} denominator"
        expected = _value(indicator, numerator, denominator)
        if expected is None:
            assert pd.isna(row.value), f"{country} {indicator}"
        else:
            assert row.value == pytest.approx(expected), f"{country} {indicator} value"
    median = group[group.is_closed].case_duration_months.median()
    assert indicators.loc[("median_case_duration_months", country, "total", "total")].value == pytest.approx(median)


@pytest.mark.parametrize("dimension, column", [("sex", "sex_group"), ("age_group", "age_group")])
def test_sex_and_age_breakdowns(marts, dimension, column):
    results, indicators = marts
    kids = _children(results)
    for country in [*COUNTRY_CODES, "ALL"]:
        scope = kids if country == "ALL" else kids[kids.country_code == country]
        for value, group in scope.groupby(column):
            figures = expected_figures(group)
            for indicator in ("pct_uasc", "pct_concern__neglect", "pct_children_with_concern__child_labour"):
                numerator, denominator = figures[indicator]
                row = indicators.loc[(indicator, country, dimension, value)]
                assert (row.numerator, row.denominator) == (numerator, denominator), (country, indicator, value)


def test_every_indicator_exists_for_every_country_and_all(marts):
    _, indicators = marts
    frame = indicators.reset_index()
    totals = frame[frame.dimension == "total"]
    per_indicator = totals.groupby("indicator_id").country_code.apply(set)
    assert (per_indicator == set([*COUNTRY_CODES, "ALL"])).all(), per_indicator[per_indicator.map(len) < 7]
    expected = {
        "children_in_scope",
        "mean_age_years",
        "pct_male",
        "pct_female",
        "pct_uasc",
        "pct_unaccompanied",
        "pct_separated",
        "mean_age_uasc_years",
        "pct_male_among_uasc",
        "pct_care_family",
        "pct_closed",
        "mean_case_duration_months",
        "median_case_duration_months",
        "pct_closed_positive_outcome",
        *(f"dq_pct__d{i}" for i in range(1, 14)),
    }
    assert expected <= set(per_indicator.index)
    assert {"sex", "age_group"} == set(frame[frame.indicator_id == "pct_uasc"].dimension) - {"total"}
    assert set(frame[frame.indicator_id == "mean_age_years"].dimension) == {"total", "sex"}
    assert set(frame.unit) == {"count", "percent", "years", "months"}
    registry = pd.read_csv(DBT_PROJECT_DIR / "seeds" / "indicator_registry.csv")
    for entry in registry.indicator_id:
        prefix = entry.removesuffix("*")
        hits = per_indicator.index.str.startswith(prefix) if entry.endswith("*") else per_indicator.index == entry
        assert hits.any(), f"the registry's {entry} yields no indicator"


def test_data_quality_indicators_count_the_injected_defects(built_home, marts):
    _, results, con = built_home
    _, indicators = marts
    for country in COUNTRY_CODES:
        measured = measure_defects(harmonise(con, country), country)
        for code, (count, denominator) in measured.items():
            row = indicators.loc[(f"dq_pct__{code.lower()}", country, "total", "total")]
            assert row.numerator == results[country].defects[EXPORT][code] == count, (country, code)
            assert row.denominator == denominator, (country, code)


def test_small_cells_are_suppressed(marts):
    _, indicators = marts
    frame = indicators.reset_index()
    limit = np.where(frame.indicator_id.str.endswith(SENSITIVE), 9, 4)
    small = frame.numerator.between(1, limit) | frame.denominator.between(1, limit)
    assert small.any() and (~small).any()
    assert frame.suppressed[small].all(), "every small cell is suppressed"
    for _, breakdown in frame[frame.dimension != "total"].groupby(["indicator_id", "country_code", "dimension"]):
        if small[breakdown.index].sum() == 1 and len(breakdown) > 1:
            assert breakdown.suppressed.sum() >= 2, "a lone hidden cell gets a hidden sibling"


def test_published_copy_hides_suppressed_values(built_home, marts):
    home, _, _ = built_home
    _, indicators = marts
    with duckdb.connect(str(home / "published/marts.duckdb"), read_only=True) as con:
        published = con.execute("select * from mart_indicators").df()
        tables = {t for (t,) in con.execute("select table_name from information_schema.tables").fetchall()}
    assert not tables & {"fct_cases", "fct_case_concerns", "fct_case_services"}, "no record-level table"
    assert len(published) == len(indicators)
    hidden = published[published.suppressed]
    assert len(hidden) > 0 and hidden.value.isna().all() and hidden.numerator.isna().all()
    shown = published[~published.suppressed & (published.indicator_id != "median_case_duration_months")]
    assert shown.numerator.notna().all(), "a median has no numerator; every other published cell has one"


def _benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    order = np.argsort(p_values)
    ranked = p_values[order] * len(p_values) / np.arange(1, len(p_values) + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    result = np.empty_like(adjusted)
    result[order] = np.minimum(adjusted, 1.0)
    return result


def test_sex_differences_equal_scipy(built_home):
    _, results, con = built_home
    kids = _children(results)
    kids = kids[kids.sex.isin(["male", "female"]) & (kids.concerns.map(len) > 0)]
    mart = con.execute("select * from marts.mart_sex_differences").df()
    rows = []
    for country in [*COUNTRY_CODES, "ALL"]:
        scope = kids if country == "ALL" else kids[kids.country_code == country]
        for category in mart.concern_category.unique():
            has = scope.concerns.map(lambda c, k=category: k in c)
            table = pd.crosstab(scope.sex, has).reindex(columns=[False, True], fill_value=0)
            p_value = np.nan
            if table[True].sum() > 0 and table[False].sum() > 0:
                _, p_value, _, _ = chi2_contingency(table, correction=False)
            rows.append((country, category, p_value, has[scope.sex == "male"].sum(), has[scope.sex == "female"].sum()))
    expected = pd.DataFrame(rows, columns=["country_code", "concern_category", "p_value", "boys_with", "girls_with"])
    tested = expected.p_value.notna()
    expected.loc[tested, "p_value_bh"] = _benjamini_hochberg(expected.p_value[tested].to_numpy())
    merged = expected.merge(mart, on=["country_code", "concern_category"], suffixes=("", "_mart"))
    assert len(merged) == len(expected)
    assert (merged.boys_with == merged.boys_with_mart).all() and (merged.girls_with == merged.girls_with_mart).all()
    both = merged.p_value.notna()
    assert (merged.p_value_mart.notna() == both).all()
    np.testing.assert_allclose(merged.p_value_mart[both], merged.p_value[both], rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(merged.p_value_bh_mart[both], merged.p_value_bh[both], rtol=1e-5, atol=1e-12)
    assert (merged.is_significant[both] == (merged.p_value_bh[both] <= 0.05)).all()


def test_the_dbt_unit_tests_pass_here_and_stay_out_of_the_builds(built_home, tmp_path, monkeypatch):
    """dbt's unit tests (the rules on rows written in YAML: age groups, closure outcomes, the
    chi-square p-value, suppression) run where the code changes, here, not in every build
    (orchestration/transform/dbt_assets.py): each one the project declares runs and passes, on a copy
    of a built home (dbt reads the column types of a unit test's inputs from the warehouse)."""
    home, _, _ = built_home
    built = json.loads((dbt_target_path(home) / "run_results.json").read_text(encoding="utf-8"))
    assert built["results"] and not [r for r in built["results"] if r["unique_id"].startswith("unit_test.")]

    copy = copy_of_home(home, tmp_path)
    monkeypatch.setenv("CPWH_HOME", str(copy))
    monkeypatch.setenv("CPWH_PSEUDONYM_KEY", KEY)
    declared, tested = run_dbt_unit_tests(copy)
    assert declared and tested == dict.fromkeys(declared, "pass")
