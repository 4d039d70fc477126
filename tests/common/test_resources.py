"""common.resources: the shipped configs, tracks and creatures, found with importlib.resources
(from the checkout here, read in place: what an editable install sees)."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from common.resources import (
    ShippedFilesMissing,
    shipped_dir,
    shipped_file,
    shipped_names,
)
from tests.conftest import REPO

CONFIGS = REPO / "configs"


@pytest.mark.parametrize("kind", ["", "tracks", "creatures"])
def test_a_checkout_reads_its_own_configs_folder(kind):
    folder = shipped_dir(kind)
    assert folder.resolve() == (CONFIGS / kind).resolve()  # in place: edits show at once
    names = shipped_names(kind)
    assert names == sorted(p.stem for p in (CONFIGS / kind).glob("*.yaml"))
    assert names, kind


def test_known_names():
    assert {"fruit", "mnist", "cars", "walkers", "compare"} <= set(shipped_names())
    assert "default" in shipped_names("tracks")
    assert {"biped", "quadruped"} <= set(shipped_names("creatures"))
    assert shipped_file("", "fruit").resolve() == (CONFIGS / "fruit.yaml").resolve()
    assert shipped_file("tracks", "oval").name == "oval.yaml"
    assert shipped_file("creatures", "biped").is_file()


@pytest.mark.parametrize("name", ["nope", "", "tracks", "tracks/oval", "../configs/fruit",
                                  ".hidden", "fruit.yaml"])
def test_what_is_not_a_shipped_file(name):
    assert shipped_file("", name) is None


def test_an_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown kind"):
        shipped_dir("models")


def test_a_missing_configs_package_says_to_reinstall(monkeypatch):
    monkeypatch.setitem(sys.modules, "configs", None)  # makes `import configs` fail
    with pytest.raises(ShippedFilesMissing, match="reinstall"):
        shipped_dir()


def test_configs_in_a_zip_are_copied_to_a_real_folder(tmp_path):
    """importlib.resources gives no file-system path inside a zip: the files are copied to a
    temporary folder once, and it is gone when the process ends."""
    archive = tmp_path / "shipped.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("configs/__init__.py", "")
        z.writestr("configs/mine.yaml", "data: {name: fruit}\n")
        z.writestr("configs/tracks/loop.yaml", "width: 12\n")
        z.writestr("configs/notes.txt", "not a config\n")
    code = (
        "import common.resources as r\n"
        "d = r.shipped_dir()\n"
        "assert 'zip' not in str(d) and d.is_dir(), d\n"
        "assert r.shipped_dir() == d\n"
        "assert r.shipped_names() == ['mine'], r.shipped_names()\n"
        "assert r.shipped_names('tracks') == ['loop']\n"
        "assert r.shipped_names('creatures') == []\n"
        "assert r.shipped_file('', 'mine').read_text() == 'data: {name: fruit}\\n'\n"
        "print(d)\n"
    )
    env = {"PYTHONPATH": f"{archive}:{REPO}", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    folder = proc.stdout.strip()
    assert folder and not (tmp_path / folder).exists()  # removed at exit


def test_the_install_hint_names_the_pip_of_the_running_environment(monkeypatch):
    import sys
    from pathlib import Path

    from common.resources import pip_install

    if sys.prefix == sys.base_prefix:
        assert pip_install("gym") == "pip install -e '.[gym]'"
        return
    bin_dir = Path(sys.executable).parent
    monkeypatch.chdir(bin_dir.parent.parent)  # where `make` made .venv
    assert pip_install("gym") == f"{bin_dir.parent.name}/bin/pip install -e '.[gym]'"
