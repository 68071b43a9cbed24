"""Great Expectations suites as Dagster asset checks, one multi-check per suite.

A blocking expectation (a contract or integrity failure) is a blocking check with ERROR severity:
the published marts, downstream of every guarded asset, are not materialised in a run where one
fails. A warning (a known data gap) never blocks; its metadata carries the rate per country, so
the check history shows each country's gap run after run.
"""

from pathlib import Path

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    multi_asset_check,
)

from orchestration.publish.publication import published_path
from orchestration.quality.suites import Suite, load_suites, memo_path, validate, write_quality_page
from orchestration.resources import WarehouseResource


def _checks_for(suite: Suite):
    key = AssetKey(list(suite.asset))
    specs = [
        AssetCheckSpec(
            name=meta["check"],
            asset=key,
            blocking=meta["severity"] == "blocking",
            description=meta["why"],
            metadata={"suite": suite.name, "severity": meta["severity"]},
        )
        for meta in suite.checks
    ]

    @multi_asset_check(
        name=f"gx__{suite.name}",
        specs=specs,
        description=f"Great Expectations suite expectations/{suite.name}.json",
    )
    def _suite_checks(context: AssetCheckExecutionContext, warehouse: WarehouseResource):
        home = Path(warehouse.home)
        if suite.database == "published":
            outcomes = validate(published_path(home), suite)
        else:  # a country whose rows are unchanged keeps its results (a build of another country's export)
            outcomes = validate(warehouse.reading(), suite, memo_path(home, suite))
        page = write_quality_page(home, suite, outcomes)
        for outcome in outcomes:
            metadata = {
                "unexpected_count": outcome.unexpected_count,
                "element_count": outcome.element_count,
                "unexpected_percent": round(outcome.unexpected_percent, 4),
                "sample_failing_keys": MetadataValue.json(outcome.sample_keys),
                "quality_page": str(page),
            }
            if outcome.rates_by:
                metadata["unexpected_percent_by_country"] = MetadataValue.json(outcome.rates_by)
            if outcome.error:
                metadata["error"] = outcome.error
            yield AssetCheckResult(
                asset_key=key,
                check_name=outcome.check,
                passed=outcome.passed,
                severity=AssetCheckSeverity.ERROR if outcome.severity == "blocking" else AssetCheckSeverity.WARN,
                metadata=metadata,
            )

    return _suite_checks


suite_checks = [_checks_for(suite) for suite in load_suites()]
guarded_assets = sorted(
    {AssetKey(list(s.asset)) for s in load_suites() if s.database == "warehouse"}, key=lambda k: k.to_user_string()
)
