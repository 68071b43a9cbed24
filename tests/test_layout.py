"""The layout shows the architecture: the product (``orchestration``) is organised by domain, never
imports the synthetic-export generator, has one module per name, and importing it does nothing."""

from __future__ import annotations

import ast
import json
import os
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
