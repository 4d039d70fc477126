"""The layout's rules, checked on the source: dependencies point one way, no two modules
import each other (directly or round a longer loop), and pyglet lives only in the window
modules (docs/ARCHITECTURE.md)."""

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
    "compare": {"common", "nn", "sims", "evo", "rl", "compare"},
    "neuroevo": {"common", "nn", "sims", "evo", "rl", "compare", "neuroevo"},
}
# sideways imports: (modules, the project modules they may not import, why), by prefix
SIDEWAYS = (
    ("neuroevo.commands.", "neuroevo.commands.",
     "a command takes what it shares with another command from a module below both "
     "(neuroevo/*.py), not from the other command"),
    ("evo.", "nn.plots", "generic figure helpers are common.plots; nn.plots is nn's pictures"),
    ("rl.", "nn.plots", "generic figure helpers are common.plots; nn.plots is nn's pictures"),
    ("compare.", "nn.plots",
     "generic figure helpers are common.plots; nn.plots is nn's pictures"),
    ("neuroevo.gym_view", "neuroevo.watch",
     "the two windows share what both draw from below them (nn.members, sims.view)"),
)
# the only modules that may import pyglet (inside functions, when a window is asked for)
WINDOW_MODULES = ("common/window.py", "nn/apps/", "sims/view/", "neuroevo/watch/",
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


def sources(package: str, root: Path = REPO) -> list[Path]:
    return sorted((root / package).rglob("*.py"))


def module_name(path: Path, root: Path = REPO) -> str:
    """``evo/tasks.py`` -> ``evo.tasks``; ``sims/view/__init__.py`` -> ``sims.view``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(packages, root: Path = REPO) -> dict[str, set[str]]:
    """Module -> the project modules it imports, from every import statement in it (module
    level and inside functions alike).  ``from pkg import name`` is an edge to the module
    ``pkg.name`` where that is a module, else to ``pkg``; relative imports are resolved."""
    files = {module_name(p, root): p for package in packages for p in sources(package, root)}
    graph = {}
    for name, path in files.items():
        here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                edges.update(a.name for a in node.names if a.name in files)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # from . import x, from ..a import b
                    up = here[:len(here) - (node.level - 1)]
                    base = ".".join([*up, base] if base else up)
                for a in node.names:
                    if f"{base}.{a.name}" in files:
                        edges.add(f"{base}.{a.name}")
                    elif base in files:
                        edges.add(base)
        edges.discard(name)
        graph[name] = edges
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One loop ``[a, b, ..., a]`` per strongly connected group of modules that import each
    other (Tarjan's algorithm, then a path round the group); empty when there is none."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    loops = []
    for group in groups:  # the shortest way back to the group's first module
        start = min(group)
        paths, seen = {start: [start]}, {start}
        frontier, loop = [start], None
        while loop is None:
            nxt = []
            for v in frontier:
                for w in sorted(graph[v] & group):
                    if w == start:
                        loop = loop or [*paths[v], start]
                    elif w not in seen:
                        seen.add(w)
                        paths[w] = [*paths[v], w]
                        nxt.append(w)
            frontier = nxt
        loops.append(loop)
    return loops


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


def test_no_modules_import_each_other():
    """No import cycle between the project's modules, at module level or inside functions
    (an import moved into a function still makes the two modules one unit)."""
    assert not find_cycles(import_graph(ALLOWED)), find_cycles(import_graph(ALLOWED))


def test_the_cycle_check_sees_direct_longer_and_function_level_loops(tmp_path):
    files = {
        "a/__init__.py": "",
        "a/one.py": "from a.two import f\n",
        "a/two.py": "def f():\n    from a import one\n",  # inside a function
        "a/three.py": "import a.four\n",
        "a/four.py": "from .five import g\n",  # relative
        "a/five.py": "from a import three\ng = 1\n",
        "a/six.py": "from a.one import f\n",  # imports a loop, is not in one
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    loops = find_cycles(import_graph(["a"], tmp_path))
    assert sorted(loops) == [["a.five", "a.three", "a.four", "a.five"],
                             ["a.one", "a.two", "a.one"]]
    (tmp_path / "a/two.py").write_text("def f():\n    pass\n")
    assert find_cycles(import_graph(["a"], tmp_path)) == [
        ["a.five", "a.three", "a.four", "a.five"]]


def sideways_imports(graph: dict[str, set[str]]) -> list[str]:
    return [f"{name} imports {dep}: {why}" for name, deps in sorted(graph.items())
            for dep in sorted(deps) for who, banned, why in SIDEWAYS
            if name.startswith(who) and dep.startswith(banned) and dep != name]


def test_no_sideways_imports():
    bad = sideways_imports(import_graph(ALLOWED))
    assert not bad, bad


def test_the_sideways_rule_sees_a_command_importing_another(tmp_path):
    (tmp_path / "neuroevo/commands").mkdir(parents=True)
    for rel, text in (("neuroevo/__init__.py", ""), ("neuroevo/commands/__init__.py", ""),
                      ("neuroevo/shared.py", ""),
                      ("neuroevo/commands/one.py", "from neuroevo import shared\n"),
                      ("neuroevo/commands/two.py",
                       "def f():\n    from neuroevo.commands.one import g\n")):
        (tmp_path / rel).write_text(text)
    bad = sideways_imports(import_graph(["neuroevo"], tmp_path))
    assert len(bad) == 1 and bad[0].startswith("neuroevo.commands.two imports "
                                               "neuroevo.commands.one:"), bad


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


# -- tasks know themselves -------------------------------------------------------------------
TASK_NAMES = ("cars", "walkers")
# where a task's name may be written out: the registry (its classes and evo.kinds) and the
# config schemas' defaults
NAMED_IN = ("evo/kinds.py", "evo/tasks.py", "evo/config.py", "rl/config.py")


def name_comparisons(path: Path, dicts: bool = True) -> list[int]:
    """Lines of ``path`` that compare something with a task name written out: ``x ==
    "cars"``, ``x != "walkers"``, ``x in ("cars", "walkers")``, and (``dicts``) dicts keyed
    by them."""
    def named(node) -> bool:
        if isinstance(node, ast.Constant):
            return node.value in TASK_NAMES
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return any(named(e) for e in node.elts)
        return False

    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Compare) and any(named(n) for n in (node.left,
                                                                     *node.comparators)):
            found.append(node.lineno)
        elif dicts and isinstance(node, ast.Dict) and \
                any(k is not None and named(k) for k in node.keys):
            found.append(node.lineno)
    return found


def test_no_task_name_comparisons_outside_the_registry():
    """What differs per task lives on its class (evo.task.Task: unit, score columns,
    renderer, replay summary, config section) and the registry (evo.tasks.task_class), so
    nothing compares task names; a new task is one class and one registry entry.  (The
    benchmarks build configs and name their own subcommands after tasks: there only
    comparisons count.)"""
    bad = [f"{path.relative_to(REPO)}:{line}" for package in (*ALLOWED, "bench")
           for path in sources(package)
           if path.relative_to(REPO).as_posix() not in NAMED_IN
           for line in name_comparisons(path, dicts=package != "bench")]
    assert not bad, bad


def test_the_name_check_sees_comparisons_and_keyed_dicts(tmp_path):
    path = tmp_path / "x.py"
    path.write_text('a = t == "cars"\nb = t in ("walkers", "gym")\nc = {"cars": 1}\n'
                    'd = "cars"\ne = t == name\n')
    assert name_comparisons(path) == [1, 2, 3]


MAX_LINES = 500  # a module longer than this is doing several jobs (docs/ARCHITECTURE.md)


def test_no_module_of_the_library_or_the_application_is_over_500_lines():
    """A file does one thing: a longer one is split along its seams (as sims/car_world.py
    into the world, its episode rules, its pymunk side and the per-track view)."""
    long = {str(path.relative_to(REPO)): n for package in ALLOWED for path in sources(package)
            if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long, long
