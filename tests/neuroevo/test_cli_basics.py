"""The command line itself: version, the bare command, argument errors as one line."""

from __future__ import annotations

import pytest

from tests.conftest import assert_user_error


def test_version(cli):
    from neuroevo import __version__

    proc = cli("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"neuroevo {__version__}"


def test_bare_command_lists_the_commands(cli):
    proc = cli()
    assert proc.returncode == 0, proc.stderr
    for command in ("train", "evaluate", "export", "evolve", "replay", "compare", "draw",
                    "browse", "playground"):
        assert f"    {command}" in proc.stdout
    assert "required" not in proc.stderr


@pytest.mark.parametrize("args,fragments", [
    (["evolve", "car"], ["invalid choice: 'car'", "did you mean 'cars'?"]),
    (["compare", "cifar10"], ["invalid choice: 'cifar10'"]),
    (["export", "--format", "onnx", "model.npz"], ["--format", "'onnx'"]),
    (["trian"], ["did you mean 'train'?"]),
    (["evolve", "cars", "--generations", "many"], ["--generations", "'many'"]),
])
def test_argument_errors_are_one_line(cli, args, fragments):
    proc = cli(*args)
    assert_user_error(proc, *fragments)
    assert "usage:" not in proc.stderr


def test_every_option_has_a_help_text():
    import argparse

    from neuroevo.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = [f"{name} {'/'.join(a.option_strings) or a.dest}"
               for name, p in sub.choices.items() for a in p._actions
               if not a.help and not isinstance(a, argparse._HelpAction)]
    assert not missing, missing


def test_evolve_walkers_runs_beside_a_folder_named_biped(tmp_path, cli) -> None:
    (tmp_path / "biped").mkdir()
    res = cli("evolve", "walkers", "--generations", "1", "--population", "4", "--set",
              "walkers.world.max_time=0.5", "--headless", "--quiet", "--out",
              str(tmp_path / "run"), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "run" / "best.npz").is_file()


@pytest.mark.parametrize("args,named", [
    (["evolve", "cars", "--population", "0", "--headless"], "with --population 0:"),
    (["evolve", "walkers", "--generations", "-1", "--set", "seed=3", "--headless"],
     "with --set seed=3 --generations -1:"),
    (["reinforce", "walkers", "--algorithm", "ppo", "--set", "pg.agents=0", "--headless"],
     "with --set pg.agents=0 --algorithm ppo:"),
])
def test_an_option_out_of_range_is_named_as_given(cli, args, named):
    line = assert_user_error(cli(*args), named)
    flag = args[2] if args[2] != "--set" else None
    assert flag is None or f"--set {flag.lstrip('-')}" not in line


@pytest.mark.parametrize("argv,threads", [
    (["evolve", "cars", "--population", "0", "--headless"], "1"),
    (["reinforce", "cars", "--steps", "0"], "1"),
    (["compare", "--seeds", "0", "cars"], "1"),
    (["train", "fruit", "--epochs", "0"], None),
    (["compare", "fruit", "--seeds", "0"], None),
])
def test_control_commands_run_blas_on_one_thread(argv, threads) -> None:
    """Control commands (small products) set BLAS to one thread before NumPy loads, unless
    the user chose; image training keeps BLAS's threads.  Each command here stops at a
    bad value after the decision, so no work runs."""
    import json
    import os
    import subprocess
    import sys

    code = ("import json, os, sys; from neuroevo.cli import main; main(sys.argv[1:]); "
            "print(json.dumps([os.environ.get(v) for v in "
            "('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS')]))")
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                         env=env, timeout=120)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [threads] * 3, out.stderr
    # a setting of the user's own is kept
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                         env={**env, "OPENBLAS_NUM_THREADS": "2"}, timeout=120)
    assert json.loads(out.stdout.strip().splitlines()[-1])[1] == "2"
