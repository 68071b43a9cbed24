"""Analyses beyond the review, against independent figures: the case flow against what the generator
intended across six monthly exports, time to closure against lifelines, services by concern against
pandas; and the open formats they are shared in (CSV, HXL, Parquet, a Frictionless data package,
a published file that DuckDB 1.4 reads)."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration.publish.publication import PUBLISHED_TABLES
from tests.conftest import ROOT, cpwh, headless_chromium

DAYS_PER_MONTH = 30.4375
SURVIVAL_MONTHS = [1, 3, 6, 12]


def _warehouse(con, query: str) -> pd.DataFrame:
    return con.execute(query).df()


def _expected_flows(results) -> pd.DataFrame:
    """The flow of every country's exports after the first, from the generator's truth (each case
    row's intended status; in scope = an ordinary record)."""
    rows = []
    for country, result in results.items():
        previous = None
        for export_date in sorted(result.truth):
            truth = result.truth[export_date]
            now = truth[truth.in_scope].set_index("id").status
            row = {"country_code": country, "export_date": export_date, "cases_in_scope": len(now)}
            row["open_at_month_end"] = int((now == "open").sum())
            if previous is not None:
                before = previous.reindex(now.index)
                row["opened"] = int(before.isna().sum())
                row["closed"] = int(((now == "closed") & (before != "closed")).sum())
                row["reopened"] = int(((now == "open") & (before == "closed")).sum())
                row["transferred"] = int(((now == "transferred") & (before != "transferred")).sum())
            rows.append(row)
            previous = now
    return pd.DataFrame(rows)


def test_case_flow_equals_what_the_generator_intended(history_home):
    _, results, con = history_home
    expected = _expected_flows(results).sort_values(["country_code", "export_date"]).reset_index(drop=True)
    flow = _warehouse(
        con,
        "select country_code, cast(export_date as varchar) as export_date, is_baseline, cases_in_scope, opened,"
        " closed, reopened, transferred, open_at_month_end from marts.mart_case_flow order by 1, 2",
    )
    assert len(flow) == 6 * 6 and flow.is_baseline.sum() == 6
    for column in ("cases_in_scope", "open_at_month_end", "opened", "closed", "reopened", "transferred"):
        assert flow[column].astype("Float64").tolist() == expected[column].astype("Float64").tolist(), column
    flows = flow[~flow.is_baseline]
    assert (flows[["opened", "closed", "reopened", "transferred"]].sum() > 0).all(), "every kind of flow occurs"


def _observations(con) -> pd.DataFrame:
    """Time to closure computed here from the facts: a closed case at its duration (when valid), an
    open or transferred one censored at its export date."""
    cases = _warehouse(
        con,
        "select country_code, sex, age_group, risk_level, is_closed, case_duration_days, registration_date,"
        " export_date from marts.fct_cases where is_in_scope",
    )
    cases["is_closed"] = cases.is_closed.fillna(False).astype(bool)  # a status mapping to nothing: not closed
    open_days = (pd.to_datetime(cases.export_date) - pd.to_datetime(cases.registration_date)).dt.days
    cases["days"] = np.where(cases.is_closed, cases.case_duration_days, open_days)
    cases["event"] = cases.is_closed.astype(int)
    cases["sex"] = cases.sex.where(cases.sex.isin(["male", "female"]), "other_or_unknown")
    return cases[cases.days.notna()]


def _groups(cases: pd.DataFrame) -> dict[str, pd.DataFrame]:
    groups = {}
    for country in ["ALL", *sorted(cases.country_code.unique())]:
        part = cases if country == "ALL" else cases[cases.country_code == country]
        groups[f"{country}|total|total"] = part
        for dimension in ("sex", "age_group", "risk_level"):
            for value, subset in part.groupby(dimension):
                groups[f"{country}|{dimension}|{value}"] = subset
    return groups


def test_time_to_closure_equals_lifelines(history_home, reference_python):
    _, _, con = history_home
    groups = _groups(_observations(con))
    request = {
        "groups": {
            name: {"durations": part.days.astype(float).tolist(), "events": part.event.tolist()}
            for name, part in groups.items()
        },
        "months": SURVIVAL_MONTHS,
        "days_per_month": DAYS_PER_MONTH,
    }
    run = subprocess.run(
        [str(reference_python), str(ROOT / "tests/reference_env/km_lifelines.py")],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    reference = json.loads(run.stdout)
    steps = _warehouse(con, "select * from intermediate.int_survival__estimated")
    steps["name"] = steps.country_code + "|" + steps.dimension + "|" + steps.dimension_value
    summary = _warehouse(con, "select * from marts.mart_time_to_closure")
    summary["name"] = summary.country_code + "|" + summary.dimension + "|" + summary.dimension_value
    assert set(steps.name) == set(reference) == set(summary.name)
    compared = 0
    for name, expected in reference.items():
        ours = steps[steps.name == name].sort_values("time_days")
        timeline = pd.Series(expected["timeline"])
        extra = set(timeline) - set(ours.time_days.astype(float))
        assert extra <= {0.0}, f"{name}: lifelines has steps at {sorted(extra)[:5]}"
        keep = timeline.isin(ours.time_days.astype(float)).to_numpy()
        for column, key in (("still_open", "still_open"), ("still_open_lower", "lower"), ("still_open_upper", "upper")):
            np.testing.assert_allclose(
                ours[column].to_numpy(), np.array(expected[key])[keep], rtol=0, atol=1e-9, err_msg=f"{name} {column}"
            )
        row = summary[summary.name == name].iloc[0]
        for column, key in (
            ("median_days", "median"),
            ("median_lower_days", "median_lower"),
            ("median_upper_days", "median_upper"),
        ):
            value = None if pd.isna(row[column]) else float(row[column])
            assert value == expected[key], f"{name} {column}: {value} against lifelines' {expected[key]}"
        for months, value in zip(SURVIVAL_MONTHS, expected["at_months"], strict=True):
            assert math.isclose(row[f"still_open_{months}m_pct"] / 100, value, abs_tol=1e-9), f"{name} {months}m"
        compared += len(ours)
    assert compared > 1000
    total = summary[summary.name == "ALL|total|total"].iloc[0]
    assert total.censored > 0 and total.median_months > total.mean_closed_months, "the closed-only mean is biased"


def test_services_by_concern_equal_an_independent_pandas_computation(history_home):
    _, _, con = history_home
    cases = _warehouse(
        con, "select case_key, country_code, sex, registration_date from marts.fct_cases where is_in_scope"
    )
    cases["sex"] = cases.sex.where(cases.sex.isin(["male", "female"]), "other_or_unknown")
    concerns = _warehouse(con, "select case_key, concern_category from marts.fct_case_concerns where is_in_scope")
    services = _warehouse(
        con,
        "select case_key, service_category, service_date from marts.fct_case_services"
        " where is_in_scope and is_implemented",
    )
    services = services.merge(cases[["case_key", "registration_date"]], on="case_key")
    services["days"] = (pd.to_datetime(services.service_date) - pd.to_datetime(services.registration_date)).dt.days
    first = services[services.days >= 0].groupby("case_key").days.min()
    served_any = set(services.case_key)
    children = concerns.merge(cases, on="case_key")
    expected = []
    for country in ["ALL", *sorted(cases.country_code.unique())]:
        part = children if country == "ALL" else children[children.country_code == country]
        for dimension, key in (("total", None), ("sex", "sex")):
            for value, group in [("total", part)] if key is None else part.groupby(key):
                for concern, members in group.groupby("concern_category"):
                    keys = set(members.case_key)
                    days = first.reindex(list(keys)).dropna()
                    for service, users in services[services.case_key.isin(keys)].groupby("service_category"):
                        expected.append(
                            (
                                country,
                                dimension,
                                value,
                                concern,
                                service,
                                len(keys),
                                users.case_key.nunique(),
                                len(keys - served_any),
                                len(days),
                                float(days.median()) if len(days) else None,
                            )
                        )
    expected = pd.DataFrame(
        expected,
        columns=[
            "country_code",
            "dimension",
            "dimension_value",
            "concern_category",
            "service_category",
            "children_with_concern",
            "children_served",
            "children_without_service",
            "children_with_service_date",
            "median_days_to_first_service",
        ],
    )
    mart = _warehouse(con, "select * from marts.mart_services_by_concern")
    keys = ["country_code", "dimension", "dimension_value", "concern_category", "service_category"]
    merged = expected.merge(mart, on=keys, how="left", suffixes=("", "_mart"), indicator=True)
    assert (merged._merge == "both").all() and len(expected) > 500
    for column in (
        "children_with_concern",
        "children_served",
        "children_without_service",
        "children_with_service_date",
    ):
        assert (merged[column] == merged[f"{column}_mart"]).all(), column
    np.testing.assert_allclose(
        merged.median_days_to_first_service.astype(float), merged.median_days_to_first_service_mart, atol=1e-9
    )
    assert (mart[~mart.set_index(keys).index.isin(expected.set_index(keys).index)].children_served == 0).all(), (
        "a service category no child with the concern received is listed with zero"
    )


def test_duration_bands_are_an_indicator_family(history_home):
    _, _, con = history_home
    bands = _warehouse(
        con,
        "select country_code, indicator_id, numerator, denominator, value from marts.mart_indicators"
        " where indicator_id like 'pct_duration_band__%' and dimension = 'total'",
    )
    cases = _warehouse(
        con, "select country_code, case_duration_days from marts.fct_cases where is_in_scope and is_closed"
    ).dropna()
    cut = pd.cut(
        cases.case_duration_days,
        [-1, 30, 90, 180, np.inf],
        labels=["up_to_30_days", "31_to_90_days", "91_to_180_days", "over_180_days"],
    )
    for country in ["ALL", *sorted(cases.country_code.unique())]:
        part = cut if country == "ALL" else cut[cases.country_code == country]
        ours = bands[bands.country_code == country].set_index("indicator_id")
        assert len(ours) == 4 and math.isclose(ours.value.sum(), 100, abs_tol=1e-9)
        for band, count in part.value_counts().items():
            assert ours.loc[f"pct_duration_band__{band}", "numerator"] == count


def test_new_published_tables_hide_small_cells(history_home):
    home, _, _ = history_home
    with duckdb.connect(str(home / "published/marts.duckdb"), read_only=True) as con:
        for table, counts in (
            ("mart_case_flow", ["opened", "closed", "reopened", "transferred", "open_at_month_end"]),
            ("mart_time_to_closure", ["cases", "closures", "censored", "closed_without_duration"]),
            ("mart_time_to_closure_curve", ["at_risk"]),
            ("mart_services_by_concern", ["children_with_concern", "children_served", "children_without_service"]),
        ):
            for column in counts:
                small = con.execute(f"select count(*) from {table} where {column} between 1 and 4").fetchone()[0]
                assert small == 0, f"{table}.{column} shows a count of 1-4"
            assert con.execute(f"select count(*) from {table} where suppressed").fetchone()[0] > 0, table
        hidden = con.execute(
            "select count(*) from mart_services_by_concern where concern_category = 'sexual_violence'"
            " and children_served between 1 and 9"
        ).fetchone()[0]
        assert hidden == 0, "the sensitive categories keep their stricter limit"
        figures = con.execute(
            "select count(*) from mart_time_to_closure where suppressed and median_days is not null"
        ).fetchone()[0]
        assert figures == 0


def test_publish_refuses_a_lone_hidden_cell_in_a_breakdown(history_home, tmp_path, monkeypatch):
    """Without the sibling rule, one hidden group of a breakdown is its total minus the others: the
    blocking suite stops the publication and the published file stays as it was."""
    import orchestration.publish.publication as publishing

    home, _, _ = history_home
    leaky = {
        table: query.replace("(dimension <> 'total'", "(false and dimension <> 'total'")
        for table, query in publishing.PUBLISHED_TABLES.items()
    }
    assert leaky != publishing.PUBLISHED_TABLES
    monkeypatch.setattr(publishing, "PUBLISHED_TABLES", leaky)
    with pytest.raises(publishing.PublishError, match="analysis_no_lone_hidden_cell"):
        publishing.publish(home / "warehouse.duckdb", tmp_path)
    assert not (tmp_path / "published/marts.duckdb").exists()


def test_provenance_gives_what_every_figure_rests_on(history_home):
    home, _, con = history_home
    with duckdb.connect(str(home / "published/marts.duckdb"), read_only=True) as published:
        provenance = published.execute("select * from provenance order by country_code").df()
    assert provenance.country_code.tolist() == ["BGD", "KEN", "LBN", "MMR", "NGA", "UKR"]
    assert (provenance.export_date.astype(str) == "2023-12-31").all()
    assert (
        provenance.raw_rows
        == provenance.harmonised_rows
        + provenance.quarantined_rows
        + provenance.resolved_duplicate_rows
        + provenance.superseded_rows
    ).all()
    assert (provenance.superseded_rows > 0).all(), "five earlier exports per country rest under the latest"
    files = con.execute(
        "select load_id, source_file, file_sha256 from raw.export_files where load_id in (select unnest(?))",
        [provenance.load_id.tolist()],
    ).df()
    for row in provenance.itertuples():
        mine = files[files.load_id == row.load_id]
        assert all(f"{f} {s}" in row.file_sha256 for f, s in zip(mine.source_file, mine.file_sha256, strict=True))


def test_published_file_opens_in_duckdb_1_4(history_home, reference_python):
    home, _, _ = history_home
    path = home / "published/marts.duckdb"
    run = subprocess.run(
        [str(reference_python), str(ROOT / "tests/reference_env/read_published.py"), str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    old = json.loads(run.stdout)
    assert old["version"].startswith("1.4.")
    with duckdb.connect(str(path), read_only=True) as con:
        for table in [*PUBLISHED_TABLES, "publication", "publication_exports", "provenance"]:
            rows = con.execute(f"select * from {table}").fetchall()
            assert len(old["tables"][table]) == len(rows) > 0, table
            mine = sorted(json.dumps([None if v is None else str(v) for v in row]) for row in rows)
            theirs = sorted(json.dumps(row) for row in old["tables"][table])
            if table not in ("publication",):  # the timestamp prints the same; doubles too
                assert mine == theirs, table


@pytest.mark.parametrize("fmt", ["csv", "hxl", "parquet"])
def test_export_writes_every_published_mart_in_open_formats(history_home, tmp_path, fmt):
    home, _, _ = history_home
    out = tmp_path / fmt
    run = cpwh(["export", "--format", fmt, "--out", str(out)], home)
    assert run.returncode == 0, run.stderr
    package = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    names = {r["name"].replace("-", "_") for r in package["resources"]}
    assert set(PUBLISHED_TABLES) | {"provenance"} <= names
    assert "small" in package["description"] and package["suppression"]["small_cell_limit"] == 4
    indicators = next(r for r in package["resources"] if r["name"] == "mart-indicators")
    fields = {f["name"]: f for f in indicators["schema"]["fields"]}
    assert fields["numerator"]["unit"] == "count" and fields["value"]["description"]
    published = duckdb.connect(str(home / "published/marts.duckdb"), read_only=True)
    if fmt == "parquet":
        for table in PUBLISHED_TABLES:
            back = duckdb.sql(f"select * from read_parquet('{out / table}.parquet')").df()
            expected = published.execute(f"select * from {table}").df()
            pd.testing.assert_frame_equal(back, expected, check_dtype=False)
        return
    validate = subprocess.run(
        [str(Path(sys.executable).with_name("frictionless")), "validate", "datapackage.json"],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert validate.returncode == 0, validate.stdout[-3000:]
    if fmt == "hxl":
        import hxl

        for table in ("mart_indicators", "mart_time_to_closure", "mart_case_flow", "provenance"):
            dataset = hxl.data(str(out / f"{table}.csv"), hxl.InputOptions(allow_local=True))
            tags = [column.display_tag for column in dataset.columns]
            columns = [
                c
                for (c,) in published.execute(
                    "select column_name from information_schema.columns where table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
            ]
            assert len(tags) == len(columns) and all(t.startswith("#") for t in tags), table
            assert sum(1 for _ in dataset) == published.execute(f"select count(*) from {table}").fetchone()[0]
        indicators = hxl.data(str(out / "mart_indicators.csv"), hxl.InputOptions(allow_local=True))
        assert {"#country+code", "#indicator+code", "#value", "#affected+children"} <= {
            c.display_tag for c in indicators.columns
        }
        first = next(iter(indicators))
        assert first.get("#country+code") and first.get("#indicator+code")
    published.close()


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_report_draws_the_new_sections_in_chromium(history_home, tmp_path):
    from PIL import Image

    from orchestration.report import html_report

    home, _, _ = history_home
    assert cpwh(["report"], home).returncode == 0
    page = (home / "reports/report.html").read_text(encoding="utf-8")
    for anchor in ('id="time-to-closure"', 'id="case-flow"', 'id="services-by-concern"'):
        assert anchor in page
    # The three new sections alone, in a page of their own, as Chromium draws them.
    start, end = page.index('<h2 id="time-to-closure"'), page.index('<h2 id="recent-builds"')
    sections = tmp_path / "sections.html"
    sections.write_text(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>{html_report.STYLE}</style></head>"
        f"<body>{page[start:end]}</body></html>",
        encoding="utf-8",
    )
    screenshot = tmp_path / "sections.png"
    headless_chromium(
        sections.as_uri(),
        tmp_path / "profile",
        "--hide-scrollbars",
        "--window-size=1200,4200",
        f"--screenshot={screenshot}",
    )
    pixels = np.asarray(Image.open(screenshot).convert("RGB")).reshape(-1, 3).astype(int)
    colours = {tuple(p) for p in pixels[::7]}
    for name, colour in (
        ("the survival curves", (21, 101, 192)),
        ("the closures in the flow", (46, 125, 50)),
        ("the median mark", (198, 40, 40)),
    ):
        assert any(sum(abs(a - b) for a, b in zip(c, colour, strict=True)) < 12 for c in colours), name


def test_export_without_a_published_file_says_so(tmp_path):
    run = cpwh(["export", "--format", "csv", "--out", str(tmp_path / "out")], tmp_path / "home")
    assert run.returncode == 1
    assert "no published file" in run.stderr and "cpwh build" in run.stderr
    assert cpwh(["export", "--format", "xlsx", "--out", str(tmp_path / "out")], tmp_path / "home").returncode == 2
