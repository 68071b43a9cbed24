"""Great Expectations suites as Dagster asset checks: blocking failures stop publication, known
data gaps are warnings with their rates per country."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance

from orchestration.ingest.profiles import COUNTRY_CODES
from orchestration.quality.suites import Suite, _by_check, _group_results, _validate, load_suites, read_batch, run_suite
from tests.conftest import EXPORT, copy_of_home, cpwh


def test_every_expectation_says_why_and_how_severe():
    suites = load_suites()
    assert len(suites) >= 19
    for suite in suites:
        for meta in suite.checks:
            assert meta["why"] and meta["severity"] in ("blocking", "warning"), suite.name
    layers = {s.asset[0] for s in suites}
    assert layers == {"staging", "intermediate", "marts", "published"}


@pytest.mark.parametrize("suite", [s for s in load_suites() if s.by], ids=lambda s: s.name)
def test_validating_country_by_country_gives_the_outcome_of_the_whole_batch(built_home, suite):
    """A suite with ``by`` is validated once per country; summed, that is one validation of the whole
    table (the defects at 4 % make every warning fail somewhere, so the counts are not all zero)."""
    home, _, _ = built_home
    database = home / "warehouse.duckdb"
    by_country = run_suite(suite, read_batch(database, suite))
    whole = duckdb.connect(str(database), read_only=True)
    try:
        frame = whole.execute(suite.query).df()
    finally:
        whole.close()
    at_once = run_suite(suite, [(None, frame)])
    assert any(o.unexpected_count for o in at_once)
    for grouped, single in zip(by_country, at_once, strict=True):
        assert (grouped.check, grouped.passed, grouped.element_count, grouped.unexpected_count) == (
            single.check,
            single.passed,
            single.element_count,
            single.unexpected_count,
        )
        assert grouped.unexpected_percent == pytest.approx(single.unexpected_percent, abs=1e-9)
        assert set(grouped.rates_by) == set(COUNTRY_CODES)


def test_gx_sees_only_what_the_expectations_use_and_judges_it_as_the_whole_batch():
    """GX is given the columns the expectations name, a checked key as its codes and nullable
    integers as floats (``_gx_frame``): a duplicate key, a missing key, missing and out-of-range
    integers and a row condition give what GX gives on the batch as read, with the same sample keys."""
    import pandas as pd

    def expectation(kind: str, check: str, **kwargs) -> dict:
        return {"type": kind, "kwargs": kwargs, "meta": {"check": check, "severity": "warning", "why": "a test"}}

    suite = Suite(
        name="gx_frame",
        asset=("test",),
        query="",
        key="case_key",
        expectations=(
            expectation("expect_column_values_to_be_unique", "key_unique", column="case_key"),
            expectation("expect_column_values_to_not_be_null", "key_not_null", column="case_key"),
            expectation("expect_column_values_to_be_between", "age_range", column="age", min_value=0, max_value=17),
            expectation(
                "expect_column_values_to_be_null",
                "open_without_date",
                column="closed_on",
                row_condition="is_closed==False",
                condition_parser="pandas",
            ),
        ),
    )
    frame = pd.DataFrame(
        {
            "case_key": pd.array(["a", "b", "b", None, "e", "f"], dtype="str"),
            "age": pd.array([3, None, 18, 7, -1, 17], dtype="Int64"),
            "is_closed": [True, False, False, True, False, True],
            "closed_on": pd.array(["2023-01-01", None, "2023-02-01", None, None, None], dtype="str"),
            "not_checked": pd.array(["x"] * 6, dtype="str"),
        }
    )
    results = _group_results(suite, frame)
    as_read = _by_check(_validate(frame, suite))
    for check, result in results.items():
        counts = as_read[check].result
        assert (result.passed, result.unexpected_count, result.missing_count) == (
            as_read[check].success,
            counts.get("unexpected_count"),
            counts.get("missing_count") or 0,  # not reported for a null check
        ), check
    assert results["key_unique"].sample_keys == ["b", "b"]
    assert results["age_range"].unexpected_count == 2 and results["age_range"].sample_keys == ["b", "e"]
    assert results["open_without_date"].sample_keys == ["b"]
    # A key whose values an expectation compares stays text: its codes would be other values.
    listed = replace(
        suite,
        expectations=(
            expectation("expect_column_values_to_be_in_set", "key_listed", column="case_key", value_set=["a", "b"]),
        ),
    )
    assert _group_results(listed, frame)["key_listed"].unexpected_count == 2


def test_a_validation_reuses_only_the_results_of_unchanged_countries(built_home, tmp_path, monkeypatch):
    """The build's checks keep each country's results with a fingerprint of its rows: validating
    again validates nothing when nothing changed, only the changed country when one did, everything
    when the suite changed, and always gives what validating every country gives."""
    from orchestration.quality import suites as module

    database = tmp_path / "warehouse.duckdb"
    shutil.copy(built_home[0] / "warehouse.duckdb", database)
    suite = next(s for s in load_suites() if s.name == "intermediate__int_cases__derived")
    memo = tmp_path / "memo" / f"{suite.name}.json"
    validated = []
    real = module._validate
    monkeypatch.setattr(module, "_validate", lambda frame, s: validated.append(len(frame)) or real(frame, s))

    def outcomes(suite_):
        return [o.__dict__ for o in module.validate(database, suite_, memo)]

    def everything(suite_):
        return [o.__dict__ for o in run_suite(suite_, read_batch(database, suite_))]

    first = outcomes(suite)
    assert len(validated) == len(COUNTRY_CODES) and memo.exists()
    validated.clear()
    assert outcomes(suite) == first and validated == []
    assert first == everything(suite)
    with duckdb.connect(str(database)) as con:
        con.execute(
            "update intermediate.int_cases__derived set displacement_category = 'martian'"
            " where case_key = (select min(case_key) from intermediate.int_cases__derived where country_code = 'NGA')"
        )
    validated.clear()
    changed = outcomes(suite)
    with duckdb.connect(str(database), read_only=True) as con:
        assert validated == [len(module._group_frame(con, suite, "NGA"))]
    check = next(o for o in changed if o["check"] == "displacement_category_in_seed")
    assert not check["passed"] and check["unexpected_count"] == 1 and check["rates_by"]["NGA"] > 0
    validated.clear()
    assert changed == everything(suite)
    validated.clear()
    reordered = replace(suite, expectations=(*suite.expectations[1:], suite.expectations[0]))
    outcomes(reordered)
    assert len(validated) == len(COUNTRY_CODES)


def _records(home):
    folder = home / "reports/quality"
    return {p.stem: json.loads(p.read_text()) for p in folder.glob("*.json")}


def test_default_data_passes_every_blocking_check_and_warns_with_rates(built_home):
    home, results, con = built_home
    records = _records(home)
    assert set(records) == {s.name for s in load_suites()}
    for record in records.values():
        for outcome in record["outcomes"]:
            if outcome["severity"] == "blocking":
                assert outcome["passed"], (record["suite"], outcome["check"], outcome["error"])
    gaps = {o["check"]: o for o in records["marts__fct_cases"]["outcomes"]}
    closed = dict(
        con.execute("select country_code, count(*) from marts.fct_cases where is_closed group by 1").fetchall()
    )
    for country in COUNTRY_CODES:
        expected = 100.0 * results[country].defects[EXPORT]["D1"] / closed[country]
        assert gaps["closed_cases_have_a_closure_date"]["rates_by"][country] == pytest.approx(expected, abs=1e-3)
    assert not gaps["closed_cases_have_a_closure_date"]["passed"], "a known gap is reported as a warning"
    assert len(gaps["closed_cases_have_a_closure_date"]["sample_keys"]) > 0
    page = (home / "reports/quality/index.html").read_text()
    assert "closed_cases_have_a_closure_date" in page and "http" not in page


def test_check_results_are_recorded_in_dagster(built_home):
    home, _, _ = built_home
    os.environ["DAGSTER_HOME"] = str(home / "dagster")
    with DagsterInstance.get() as instance:
        from dagster import AssetCheckKey, AssetKey

        key = AssetCheckKey(AssetKey(["marts", "fct_cases"]), "closed_cases_have_a_closure_date")
        record = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
        evaluation = record.event.dagster_event.event_specific_data
        assert evaluation.passed is False and evaluation.severity.value == "WARN"
        assert "unexpected_percent_by_country" in evaluation.metadata


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def published_home(built_home, tmp_path_factory):
    """A copy of the built and published home; the tests below break it in turn (the order in this file)."""
    return copy_of_home(built_home[0], tmp_path_factory.mktemp("quality"))


@pytest.mark.slow
def test_a_missing_column_blocks_publication(published_home):
    published = published_home / "published/marts.duckdb"
    before = _digest(published)
    cases = published_home / "landing/LBN/2023-12-31/cases.csv"
    cases.write_text(cases.read_text(encoding="utf-8-sig").replace("Risk Level", "Risk"), encoding="utf-8-sig")
    run = cpwh(["build"], published_home)
    assert run.returncode == 1 and "blocking asset check failed" in run.stderr
    assert _digest(published) == before
    outcome = _records(published_home)["raw__export_loads"]["outcomes"][0]
    assert not outcome["passed"] and outcome["sample_keys"] == ["LBN 2023-12-31"]


@pytest.mark.parametrize(
    "tampering, suite, check",
    [
        (
            "update intermediate.int_cases__derived set displacement_category = 'martian' where country_code = 'NGA'",
            "intermediate__int_cases__derived",
            "displacement_category_in_seed",
        ),
        (
            "update marts.mart_indicators set value = 140 where indicator_id = 'pct_male' and country_code = 'UKR'",
            "marts__mart_indicators",
            "percents_between_0_and_100",
        ),
    ],
)
def test_broken_tables_block_publication(published_home, tampering, suite, check):
    published = published_home / "published/marts.duckdb"
    before = _digest(published)
    with duckdb.connect(str(published_home / "warehouse.duckdb")) as con:
        con.execute(tampering)
    from orchestration.definitions import defs

    result = defs.resolve_job_def("validate_and_publish").execute_in_process(
        instance=DagsterInstance.ephemeral(), raise_on_error=False, resources={"warehouse": _warehouse(published_home)}
    )
    assert not result.success
    assert _digest(published) == before
    failed = {o["check"] for o in _records(published_home)[suite]["outcomes"] if not o["passed"]}
    assert check in failed


def _warehouse(home):
    from orchestration.resources import WarehouseResource

    return WarehouseResource(home=str(home), landing=str(home / "landing"))


CHECKS_QUERY = """
{ assetNodes(assetKeys: [{path: ["marts", "fct_cases"]}]) {
    assetChecksOrError { ... on AssetChecks { checks { name blocking
      executionForLatestMaterialization { status evaluation { severity metadataEntries { label } } } } } } } }
"""


def test_checks_appear_on_their_assets_in_the_dagster_ui(built_home):
    """The webserver that `make ui` starts serves the checks, their severity and metadata over GraphQL."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    home, _, _ = built_home
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "CPWH_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"), "DO_NOT_TRACK": "1"}
    env.pop("CPWH_LANDING", None)
    webserver = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "dagster-webserver"),
            "-w",
            "workspace.yaml",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/server_info", timeout=2)
                break
            except OSError:
                time.sleep(1)
        request = urllib.request.Request(
            f"{url}/graphql",
            data=json.dumps({"query": CHECKS_QUERY}).encode(),
            headers={"Content-Type": "application/json"},
        )
        answer = json.loads(urllib.request.urlopen(request, timeout=60).read())
    finally:
        webserver.terminate()
        webserver.wait(timeout=30)
    checks = {c["name"]: c for c in answer["data"]["assetNodes"][0]["assetChecksOrError"]["checks"]}
    gap = checks["closed_cases_have_a_closure_date"]
    assert gap["blocking"] is False
    evaluation = gap["executionForLatestMaterialization"]["evaluation"]
    assert evaluation["severity"] == "WARN"
    labels = {m["label"] for m in evaluation["metadataEntries"]}
    assert {"unexpected_percent_by_country", "sample_failing_keys", "unexpected_count"} <= labels
    integrity = checks["one_row_per_case"]
    assert integrity["blocking"] is True and integrity["executionForLatestMaterialization"]["status"] == "SUCCEEDED"
