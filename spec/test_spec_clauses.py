"""SPEC.md and spec/ cover each other: every clause has a test, every cited clause exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLAUSE = re.compile(r"^\*\*([A-Z]+-\d+)\*\*", re.MULTILINE)


def spec_clauses() -> list[str]:
    return CLAUSE.findall((ROOT / "SPEC.md").read_text())


def _is_spec_marker(node: ast.AST) -> bool:
    # pytest.mark.spec(...)
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "spec"
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "mark"
    )


def cited_clauses() -> dict[str, list[str]]:
    """Clause id -> the test files citing it, found by reading spec/ statically."""
    cited: dict[str, list[str]] = {}
    for path in sorted((ROOT / "spec").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and _is_spec_marker(node.func):
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        cited.setdefault(arg.value, []).append(path.name)
    return cited


@pytest.mark.spec("PRJ-1")
def test_clause_ids_are_unique() -> None:
    clauses = spec_clauses()
    duplicates = sorted({c for c in clauses if clauses.count(c) > 1})
    assert not duplicates, f"clauses defined twice in SPEC.md: {duplicates}"


@pytest.mark.spec("PRJ-1")
def test_every_clause_has_a_test() -> None:
    cited = cited_clauses()
    missing = [c for c in spec_clauses() if c not in cited]
    assert not missing, f"SPEC.md clauses no spec/ test cites: {missing}"


@pytest.mark.spec("PRJ-1")
def test_every_citation_names_a_clause() -> None:
    known = set(spec_clauses())
    unknown = {c: files for c, files in cited_clauses().items() if c not in known}
    assert not unknown, f"spec/ tests cite clauses SPEC.md does not define: {unknown}"
