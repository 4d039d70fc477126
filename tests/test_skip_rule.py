"""The one rule for skips (tests/conftest.py): a skip is a failure when CI=true."""

from __future__ import annotations

import pytest

from tests.conftest import REPO

SAMPLE = """
import pytest

def test_runs():
    assert True

def test_skips():
    pytest.skip("no display here")

@pytest.mark.xfail(reason="known", strict=False)
def test_xfails():
    assert False
"""


@pytest.mark.parametrize("ci", ["true", "", "false"])
def test_skips_fail_only_in_ci(pytester, monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    pytester.makeconftest((REPO / "tests" / "conftest.py").read_text())
    pytester.makepyfile(test_sample=SAMPLE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA")
    if ci == "true":
        result.assert_outcomes(passed=1, failed=1, xfailed=1)
        result.stdout.fnmatch_lines(["*skipped, but CI=true requires it to run*no display*"])
    else:
        result.assert_outcomes(passed=1, skipped=1, xfailed=1)


def test_a_module_skipped_as_a_whole_fails_in_ci(pytester, monkeypatch):
    monkeypatch.setenv("CI", "true")
    pytester.makeconftest((REPO / "tests" / "conftest.py").read_text())
    pytester.makepyfile(test_gone="import pytest\npytest.importorskip('no_such_module_x')\n"
                                  "def test_never():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*skipped, but CI=true requires it to run*no_such_module_x*"])
