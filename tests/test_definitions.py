"""The Dagster code location: one graph from the export files to the facts, checks on the assets."""

from dagster import AssetKey

from orchestration.definitions import defs


def test_lineage_runs_from_raw_exports_to_facts():
    graph = defs.resolve_asset_graph()
    facts = AssetKey(["marts", "fct_cases"])
    upstream = graph.upstream_key_iterator(facts)
    ancestors, frontier = set(), [facts]
    while frontier:
        key = frontier.pop()
        for parent in graph.get(key).parent_keys:
            if parent not in ancestors:
                ancestors.add(parent)
                frontier.append(parent)
    assert AssetKey(["raw", "country_exports"]) in ancestors
    assert AssetKey(["raw", "ken__basic_identity"]) in ancestors
    assert AssetKey(["staging", "stg_ken__cases"]) in ancestors
    assert upstream is not None


def test_layers_are_groups_and_dbt_tests_are_checks():
    graph = defs.resolve_asset_graph()
    assert graph.get(AssetKey(["staging", "stg_bgd__cases"])).group_name == "staging"
    assert graph.get(AssetKey(["intermediate", "int_cases__resolved"])).group_name == "intermediate"
    assert graph.get(AssetKey(["marts", "fct_cases"])).group_name == "marts"
    checks = {(k.asset_key.path[-1], k.name) for k in graph.asset_check_keys}
    assert ("fct_cases", "unique_fct_cases_case_key") in checks
