"""The wheel carries everything the commands need: built from a clean copy of the sources,
installed into a fresh virtual environment (the dependencies come from the package registry
or pip's cache), and run from a folder outside the repository with no PYTHONPATH, the way a
user runs ``pip install .`` and then ``neuroevo``.  An editable install of the same sources
reads their ``configs/`` in place.

About 15 s, most of it ``pip install`` of the dependencies into the fresh environment."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

# what a build needs besides the packages (the packages: top-level folders with __init__.py)
PROJECT_FILES = ("pyproject.toml", "README.md")
NOT_SHIPPED = {"tests", "bench", "docs"}
IMPORT_NAMES = ("common", "nn", "sims", "evo", "rl", "compare", "neuroevo", "configs")
BIN = "Scripts" if os.name == "nt" else "bin"

# Prints where everything comes from in the environment that runs it (argv: import names).
PROBE = """
import json, importlib, sys
import common.config, sims.track, sims.walker
out = {name: importlib.import_module(name).__file__ for name in sys.argv[1:]}
out["CONFIG_DIR"] = str(common.config.CONFIG_DIR)
out["TRACKS_DIR"] = str(sims.track.TRACKS_DIR)
out["CREATURES_DIR"] = str(sims.walker.CREATURES_DIR)
out["fruit"] = str(common.config.named_config("fruit"))
out["config_names"] = sorted(p.stem for p in common.config.CONFIG_DIR.glob("*.yaml"))
out["track_names"] = sims.track.shipped_tracks()
out["track"] = sims.track.load_track("default").name
out["creature"] = sims.walker.load_creature("biped").name
print(json.dumps(out))
"""


def copy_sources(dest: Path) -> Path:
    """The files a build reads, without build leftovers (``build/``, ``*.egg-info``, caches)
    and away from the working tree, which the build would otherwise write into."""
    dest.mkdir(parents=True)
    for name in PROJECT_FILES:
        shutil.copy2(REPO / name, dest / name)
    for lic in REPO.glob("LICEN[CS]E*"):
        shutil.copy2(lic, dest / lic.name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for folder in sorted(REPO.iterdir()):
        if (folder / "__init__.py").is_file() and folder.name not in NOT_SHIPPED:
            shutil.copytree(folder, dest / folder.name, ignore=ignore)
    return dest


def build_flags(python: Path) -> list[str]:
    """Build with ``python``'s own setuptools when it is new enough (fast, offline);
    otherwise let pip fetch the build requirements into an isolated environment."""
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    need = re.search(r'"setuptools>=(\d+)', pyproject)
    ask = "import importlib.metadata as m; print(m.version('setuptools'))"
    proc = subprocess.run([str(python), "-c", ask], capture_output=True, text=True,
                          env=clean_env(), timeout=60)
    have = re.match(r"\d+", proc.stdout.strip()) if proc.returncode == 0 else None
    return ["--no-build-isolation"] if need and have and \
        int(have.group()) >= int(need.group(1)) else []


def clean_env() -> dict[str, str]:
    """The environment of a user's shell: no PYTHONPATH nor anything else pointing Python
    at the repository."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONSAFEPATH",
                        "VIRTUAL_ENV", "NEUROEVO_DATA")}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", MPLBACKEND="Agg")
    return env


def run(args, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=clean_env(),
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{args}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def pip(python: Path, *args, cwd: Path) -> subprocess.CompletedProcess:
    return run([python, "-m", "pip", "--quiet", *args], cwd=cwd, timeout=600)


def repo_version() -> str:
    text = (REPO / "neuroevo" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'^__version__ = "([^"]+)"', text, re.M).group(1)


def probe(python: Path, cwd: Path) -> dict:
    return json.loads(run([python, "-c", PROBE, *IMPORT_NAMES], cwd=cwd).stdout)


def inside(path: str, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(folder.resolve())


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    src = copy_sources(work / "src")
    out = work / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
         *build_flags(Path(sys.executable)), "-w", out, src], cwd=work, timeout=600)
    (found,) = out.glob("neuroevo-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(tmp_path_factory, wheel) -> Path:
    """A fresh virtual environment (no system site-packages) with the wheel installed."""
    root = tmp_path_factory.mktemp("venv") / "env"
    run([sys.executable, "-m", "venv", root], cwd=root.parent)
    pip(root / BIN / "python", "install", wheel, cwd=root.parent)
    return root


def test_the_wheel_holds_the_packages_and_every_shipped_yaml(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = z.read(info).decode()
        entry = z.read(info.replace("METADATA", "entry_points.txt")).decode()
    shipped = {p.relative_to(REPO).as_posix() for p in (REPO / "configs").rglob("*.yaml")}
    assert {n for n in names if n.startswith("configs/") and n.endswith(".yaml")} == shipped
    assert {"configs/fruit.yaml", "configs/cars.yaml", "configs/tracks/default.yaml",
            "configs/creatures/biped.yaml"} <= shipped
    assert "configs/__init__.py" in names
    for package in IMPORT_NAMES:
        assert f"{package}/__init__.py" in names, package
    assert not [n for n in names if n.startswith(("tests/", "bench/", "docs/"))]
    assert re.search(rf"^Version: {re.escape(repo_version())}$", meta, re.M), meta[:300]
    assert "neuroevo = neuroevo.cli:run" in entry


def test_the_installed_wheel_runs_outside_the_repository(venv, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert not inside(str(elsewhere), REPO)
    python, neuroevo = venv / BIN / "python", venv / BIN / "neuroevo"

    where = probe(python, elsewhere)
    for key in (*IMPORT_NAMES, "CONFIG_DIR", "TRACKS_DIR", "CREATURES_DIR", "fruit"):
        assert inside(where[key], venv), (key, where[key])
        assert not inside(where[key], REPO), (key, where[key])
    assert where["config_names"] == sorted(p.stem for p in (REPO / "configs").glob("*.yaml"))
    assert where["track_names"] == sorted(p.stem for p in (REPO / "configs/tracks").glob("*.yaml"))
    assert (where["track"], where["creature"]) == ("default", "biped")

    version = run([neuroevo, "--version"], cwd=elsewhere)
    assert version.stdout.strip() == f"neuroevo {repo_version()}"

    run([neuroevo, "train", "fruit", "--out", "out", "--quiet"], cwd=elsewhere)
    for name in ("model.npz", "config.yaml", "metrics.csv"):
        assert (elsewhere / "out" / name).is_file(), name

    run([neuroevo, "evolve", "cars", "--headless", "--generations", "1", "--population", "8",
         "--out", "out2", "--quiet"], cwd=elsewhere)
    for name in ("fitness.csv", "best.npz", "checkpoint.npz", "config.yaml"):
        assert (elsewhere / "out2" / name).is_file(), name
    rows = (elsewhere / "out2" / "fitness.csv").read_text().splitlines()
    assert len(rows) == 2, rows  # the header and generation 1


def test_an_editable_install_reads_its_configs_folder_in_place(venv, wheel, tmp_path):
    src = copy_sources(tmp_path / "checkout")
    python = venv / BIN / "python"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    pip(python, "install", "--no-deps", *build_flags(python), "-e", src, cwd=elsewhere)
    try:
        # a config and a track added after the install are seen at once
        shutil.copy2(src / "configs/fruit.yaml", src / "configs/mine.yaml")
        shutil.copy2(src / "configs/tracks/oval.yaml", src / "configs/tracks/mine.yaml")
        where = probe(python, elsewhere)
        for key in (*IMPORT_NAMES, "CONFIG_DIR", "TRACKS_DIR", "CREATURES_DIR", "fruit"):
            assert inside(where[key], src), (key, where[key])
        assert Path(where["CONFIG_DIR"]).resolve() == (src / "configs").resolve()
        assert "mine" in where["config_names"] and "mine" in where["track_names"]
    finally:  # leave the wheel installed, whatever order the tests run in
        pip(python, "install", "--no-deps", "--force-reinstall", wheel, cwd=elsewhere)
