"""docs/ARCHITECTURE.md is the map of the code: every module, file and name it points at
exists, and each package's row of its table lists every module of that package."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import REPO

DOC = REPO / "docs" / "ARCHITECTURE.md"
PACKAGES = ("common", "nn", "sims", "evo", "rl", "compare", "neuroevo")
TOKEN = re.compile(r"`([^`]+)`")


def table_rows(text: str) -> dict[str, str]:
    """The package table: package -> the text of its ``owns`` cell."""
    rows = {}
    for line in text.splitlines():
        m = re.match(r"\| `(\w+)` \| (.*) \| [^|]* \|$", line)
        if m:
            rows[m.group(1)] = m.group(2)
    return rows


def listed_modules(package: str, cell: str) -> set[str]:
    """The module files a row names, as paths from the repository root: a ``name.py`` in
    the parentheses after a ``folder/`` is that folder's."""
    found, stack, pending = set(), [], None
    for m in re.finditer(r"`([^`]+)`|\(|\)", cell):
        if m.group(0) == "(":
            stack.append(pending)
            pending = None
        elif m.group(0) == ")":
            if stack:
                stack.pop()
            pending = None
        else:
            name = m.group(1)
            if re.fullmatch(r"[\w]+/", name):
                pending = name.rstrip("/")
            elif re.fullmatch(r"[\w]+\.py", name):
                found.add("/".join([package, *[s for s in stack if s], name]))
                pending = None
    return found


def package_modules(package: str) -> set[str]:
    return {p.relative_to(REPO).as_posix() for p in (REPO / package).rglob("*.py")
            if p.name != "__init__.py"}


def top_level_names(path: Path) -> set[str]:
    """What a module defines or imports at its top level (and a class's methods, as
    ``Class.method``)."""
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            if isinstance(node, ast.ClassDef):
                names.update(f"{node.name}.{n.name}" for n in node.body
                             if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
                names.update(f"{node.name}.{t.id}" for n in node.body
                             if isinstance(n, (ast.Assign, ast.AnnAssign))
                             for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
                             if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                names.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.If):  # names defined under a guard
            for sub in ast.walk(node):
                if isinstance(sub, (ast.FunctionDef, ast.ClassDef)):
                    names.add(sub.name)
    return names


def resolve(dotted: str, root: Path = REPO) -> str | None:
    """None if ``dotted`` (``evo.tasks.TaskSpec``, ``sims.view``) names a module, or a name
    at the top of one (or a class's method or attribute); else what is missing."""
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):
        base = root.joinpath(*parts[:k])
        module = base.with_suffix(".py") if base.with_suffix(".py").is_file() else \
            base / "__init__.py" if (base / "__init__.py").is_file() else None
        if module is None:
            continue
        rest = parts[k:]
        if not rest:
            return None
        names = top_level_names(module)
        if rest[0] in names and (len(rest) == 1 or ".".join(rest[:2]) in names
                                 or rest[0][:1].islower()):
            return None  # (an attribute of an instance is not checked further)
        return f"{dotted}: {'.'.join(parts[:k])} has no {'.'.join(rest[:2])}"
    return f"{dotted}: no module {parts[0]}"


def named_things(text: str) -> tuple[set[str], set[str]]:
    """Dotted names of the project's modules and paths into the tree that ``text`` names in
    backticks."""
    dotted, paths = set(), set()
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # (fenced blocks: no code spans)
    for token in TOKEN.findall(text):
        token = token.strip()
        if re.search(r"\.(png|py|md|csv|json|npz|yaml)$", token) and "/" not in token:
            continue  # a file's name (compare.png), not a module's
        if re.fullmatch(rf"(?:{'|'.join(PACKAGES)})(?:\.\w+)+", token):
            dotted.add(token)
        elif re.fullmatch(rf"(?:{'|'.join(PACKAGES)}|tests|bench|configs|docs)/[\w./-]*",
                          token) and "*" not in token and not re.search(r"-v\d+$", token):
            paths.add(token)  # (not a Gymnasium id: neuroevo/Cars-v0)
    return dotted, paths


def test_every_module_and_name_the_doc_points_at_exists():
    dotted, paths = named_things(DOC.read_text(encoding="utf-8"))
    assert len(dotted) > 50 and len(paths) > 10  # (the parsing finds them)
    missing = [why for name in sorted(dotted) if (why := resolve(name)) is not None]
    missing += [p for p in sorted(paths) if not (REPO / p).exists()]
    assert not missing, missing


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_row_lists_every_module_of_its_package(package):
    rows = table_rows(DOC.read_text(encoding="utf-8"))
    assert package in rows, sorted(rows)
    listed = listed_modules(package, rows[package])
    actual = package_modules(package)
    assert not actual - listed, f"not in the table: {sorted(actual - listed)}"
    assert not listed - actual, f"in the table, not in the tree: {sorted(listed - actual)}"


def test_every_benchmark_script_is_named():
    text = DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"`(?:bench/)?(\w+\.py)", text))
    scripts = {p.name for p in (REPO / "bench").glob("*.py") if p.name != "__init__.py"}
    assert scripts and not scripts - named, sorted(scripts - named)


def test_the_row_parser_follows_folders(tmp_path):
    cell = ("`a.py` one (`A`, `b.py`); `sub/` things (`c.py` x (`D`), `deep/` (`e.py`)), "
            "`f.py`")
    assert listed_modules("p", cell) == {"p/a.py", "p/b.py", "p/sub/c.py",
                                         "p/sub/deep/e.py", "p/f.py"}
    (tmp_path / "m").mkdir()
    (tmp_path / "m/__init__.py").write_text("")
    (tmp_path / "m/x.py").write_text("class K:\n    def go(self): pass\nN = 1\n")
    assert resolve("m.x.K.go", tmp_path) is None and resolve("m.x.N", tmp_path) is None
    assert resolve("m.x.K.stop", tmp_path) == "m.x.K.stop: m.x has no K.stop"
    assert resolve("m.y", tmp_path) == "m.y: m has no y"
