"""Shared test helpers: running the command line in a subprocess, and the one rule for skips.

The rule: a test that cannot run here (no display, no data set, no optional extra) calls
``pytest.skip`` with its reason.  When ``CI=true`` this hook turns every such skip into a
failure, because CI provides everything (see .ci/run); nothing is silently left out there.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from neuroevo.cli import BLAS_THREAD_VARS

# From the command line, control commands run BLAS on one thread (neuroevo.cli); a test that
# runs one in this process must compute the same numbers as one in a child process, and
# float32 products differ in their last digits between thread counts.  So this process and
# its children use one BLAS thread (set before anything here loads NumPy); `make test` gets
# its parallelism from one test worker per core instead.
for _var in BLAS_THREAD_VARS:
    os.environ.setdefault(_var, "1")

REPO = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").strip().lower() == "true"

pytest_plugins = ["pytester"]  # tests of this rule run pytest on small test files


def _fail_in_ci(report) -> None:
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped, but CI=true requires it to run: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_in_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_in_ci(outcome.get_result())  # a module skipped as a whole (importorskip)


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 300,
            env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m neuroevo ARGS`` and capture its output."""
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = str(REPO) + os.pathsep + full_env.get("PYTHONPATH", "")
    if env:
        full_env.update(env)
    return subprocess.run([sys.executable, "-m", "neuroevo", *args], cwd=cwd or REPO,
                          capture_output=True, text=True, timeout=timeout, env=full_env)


def assert_user_error(proc: subprocess.CompletedProcess, *fragments: str) -> str:
    """Exit status 2, exactly one line on stderr, no traceback, naming ``fragments``."""
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    errors = [ln for ln in lines if ln.startswith("neuroevo: error:")]
    assert len(errors) == 1, proc.stderr
    for frag in fragments:
        assert frag in errors[0], (frag, errors[0])
    return errors[0]


@pytest.fixture
def cli():
    return run_cli
