"""The layout's rules, checked on the source: dependencies point one way, and pyglet lives
only in the window modules (docs/ARCHITECTURE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

# package -> the project packages its modules may import (itself included)
ALLOWED = {
    "common": {"common"},
    "nn": {"common", "nn"},
    "sims": {"common", "sims"},
    "evo": {"common", "nn", "sims", "evo"},
    "rl": {"common", "nn", "sims", "evo", "rl"},
    "neuroevo": {"common", "nn", "sims", "evo", "rl", "neuroevo"},
}
# the only modules that may import pyglet (inside functions, when a window is asked for)
WINDOW_MODULES = ("common/window.py", "nn/apps/", "sims/view/", "neuroevo/watch.py",
                  "neuroevo/gym_view.py")


def imports(path: Path) -> set[str]:
    """Every module named by an import statement anywhere in ``path`` (in functions too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def sources(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_dependencies_point_one_way(package):
    assert sources(package), package
    bad = []
    for path in sources(package):
        for name in imports(path):
            top = name.split(".")[0]
            if top in ALLOWED and top not in ALLOWED[package]:
                bad.append(f"{path.relative_to(REPO)} imports {name}")
    assert not bad, bad


def test_pyglet_is_imported_only_by_the_window_modules():
    bad = []
    for package in ALLOWED:
        for path in sources(package):
            rel = path.relative_to(REPO).as_posix()
            if any(n.split(".")[0] == "pyglet" for n in imports(path)) and \
                    not rel.startswith(WINDOW_MODULES):
                bad.append(rel)
    assert not bad, bad


def test_no_assert_checks_anything_at_run_time():
    """``assert`` vanishes under ``python -O``: the packages raise real errors instead."""
    found = [f"{path.relative_to(REPO)}:{node.lineno}"
             for package in ALLOWED for path in sources(package)
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Assert)]
    assert not found, found
