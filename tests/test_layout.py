"""The layout shows the architecture: the product (``orchestration``) is organised by domain, never
imports the synthetic-export generator, has one module per name, and importing it does nothing."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("orchestration", "synthetic")


def _modules(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


def test_the_product_never_imports_the_generator():
    offenders = []
    for path in _modules("orchestration"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] == "synthetic"]
    assert offenders == []


def test_no_two_modules_share_a_name():
    names: dict[str, list[str]] = {}
    for package in PACKAGES:
        for path in _modules(package):
            if path.stem not in ("__init__", "__main__"):
                names.setdefault(path.stem, []).append(str(path.relative_to(ROOT)))
    assert {n: p for n, p in names.items() if len(p) > 1} == {}


def test_the_product_is_organised_by_domain():
    domains = {p.name for p in (ROOT / "orchestration").iterdir() if (p / "__init__.py").exists()}
    assert domains == {"ingest", "transform", "quality", "publish", "report", "automation"}


def test_importing_any_module_has_no_side_effects(tmp_path):
    modules = [
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for package in PACKAGES
        for p in _modules(package)
        if p.stem != "__main__"
    ]
    script = (
        "import importlib, json, os, sys; before = dict(os.environ)\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k))))"
    )
    home = tmp_path / "home"
    env = {**os.environ, "CPWH_HOME": str(home), "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout.splitlines()[-1]) == [], "no module changes the environment when imported"
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "no module writes a file when imported"


def test_the_published_file_depends_on_every_published_table():
    from orchestration.definitions import defs
    from orchestration.publish.publication import PUBLISHED_TABLES

    graph = defs.resolve_asset_graph()
    published = next(k for k in graph.get_all_asset_keys() if k.path == ["published", "marts"])
    upstream = {k.path[-1] for k in graph.get(published).parent_keys}
    dbt_models = {k.path[-1] for k in graph.get_all_asset_keys() if k.path[0] != "published"}
    assert set(PUBLISHED_TABLES) <= upstream and set(PUBLISHED_TABLES) <= dbt_models


def test_each_policy_is_defined_once():
    """The study period and the small-cell rule live in dbt_project.yml's vars; no code repeats them."""
    from orchestration.transform.policy import policy

    rule = policy()
    literals = [
        rule.study_start.isoformat(),
        rule.study_end.isoformat(),
        *(f"'{c}'" for c in rule.sensitive_categories),
        *(f'"{c}"' for c in rule.sensitive_categories),
        f"then {rule.sensitive_small_cell_limit} else {rule.small_cell_limit}",
    ]
    code = [
        *(p for package in PACKAGES for p in _modules(package)),
        *(ROOT / "dbt_project").glob("models/**/*.sql"),
        *(ROOT / "dbt_project").glob("macros/*.sql"),
        ROOT / "tests" / "reference.py",
    ]
    generated = ROOT / "dbt_project" / "macros" / "country_profiles.sql"  # written from the profiles
    repeated = [
        f"{path.relative_to(ROOT)}: {literal}"
        for path in code
        if path != generated
        for literal in literals
        if literal in path.read_text(encoding="utf-8")
    ]
    assert repeated == []


def _dbt_nodes() -> dict[str, dict]:
    from orchestration.transform.dbt_project import dbt_project

    return json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))["nodes"]


def test_dbt_layers_keep_to_their_roles():
    """Staging reads only raw sources, seeds and staging; intermediate models are named
    int_<entity>__<verb> and never read a mart; marts read no staging model."""
    nodes = _dbt_nodes()
    models = {uid: n for uid, n in nodes.items() if n["resource_type"] == "model"}
    layer = {uid: n["fqn"][1] for uid, n in models.items()}
    problems = []
    for uid, node in models.items():
        parents = [p for p in node["depends_on"]["nodes"] if p in models]
        if layer[uid] == "staging":
            problems += [f"{uid} reads {p}" for p in parents if layer[p] != "staging"]
        if layer[uid] == "intermediate":
            if not re.fullmatch(r"int_[a-z_]+__[a-z]+", node["name"]):
                problems.append(f"{uid} is not named int_<entity>__<verb>")
            problems += [f"{uid} reads the mart {p}" for p in parents if layer[p] == "marts"]
        if layer[uid] == "marts":
            problems += [f"{uid} reads the staging model {p}" for p in parents if layer[p] == "staging"]
    assert problems == []


def test_every_mart_has_docs_a_grain_test_and_an_enforced_contract():
    nodes = _dbt_nodes()
    marts = {uid: n for uid, n in nodes.items() if n["resource_type"] == "model" and n["fqn"][1] == "marts"}
    grain_tests = {
        n["attached_node"] or n["depends_on"]["nodes"][0]
        for n in nodes.values()
        if n["resource_type"] == "test" and n.get("test_metadata", {}).get("name") in ("unique", "unique_combination")
    }
    problems = []
    for uid, node in marts.items():
        if not node["config"]["contract"]["enforced"]:
            problems.append(f"{uid}: no enforced contract")
        if not node["description"] or any(not c["description"] for c in node["columns"].values()):
            problems.append(f"{uid}: undocumented")
        if any(not c.get("data_type") for c in node["columns"].values()):
            problems.append(f"{uid}: a column without its type")
        if uid not in grain_tests:
            problems.append(f"{uid}: no grain test")
    assert len(marts) >= 15 and problems == []
