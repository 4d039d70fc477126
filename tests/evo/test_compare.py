"""neuroevo compare on the fruit set: every method present, finite numbers, one network."""

import json
import math

import pytest

from tests.conftest import assert_user_error


def test_short_fruit_comparison(tmp_path, cli):
    out = tmp_path / "cmp"
    proc = cli("compare", "fruit", "--budget-seconds", "2", "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert (out / "compare.png").stat().st_size > 10_000
    report = (out / "report.md").read_text()
    rows = [ln for ln in report.splitlines() if ln.startswith("| ") and "---" not in ln][1:]
    methods = {r.split("|")[1].strip() for r in rows}
    assert methods == {"backprop-sgd", "backprop-adam", "ga", "es"}
    params = {r.split("|")[5].strip() for r in rows}
    assert len(params) == 1  # the same network for every method
    assert "What the numbers show" in report
    res = json.loads((out / "results.json").read_text())
    for runs in res["results"].values():
        curve = runs[0]["curve"]
        assert all(math.isfinite(a) and 0 <= a <= 1 for a in curve["accuracy"])
        assert curve["seconds"] == sorted(curve["seconds"])
        assert curve["evaluations"][-1] > 0
    backprop = res["results"]["backprop-adam"][0]["curve"]["accuracy"][-1]
    assert backprop > 0.9  # two seconds of Adam learn the linear fruit set


def test_bad_compare_input(cli):
    assert_user_error(cli("compare", "fruit", "--budget-seconds", "0"), "budget")
    assert_user_error(cli("compare", "fruit", "--set", "population=7"), "population")
    assert_user_error(cli("compare", "fruit", "--set", "final_step_fraction=0"),
                      "final_step_fraction")
    assert_user_error(cli("compare", "fruit", "--methods", "es,sgd"), "--methods")


def test_methods_subset_runs_only_those(tmp_path, cli):
    out = tmp_path / "cmp"
    proc = cli("compare", "fruit", "--budget-seconds", "0.5", "--methods", "es, backprop-sgd",
               "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    res = json.loads((out / "results.json").read_text())
    assert list(res["results"]) == ["es", "backprop-sgd"]
    proc = cli("compare", "fruit", "--budget-seconds", "0.5", "--methods", "ga",
               "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "Only ga ran" in (out / "report.md").read_text()


def test_step_sizes_fall_linearly_over_the_budget():
    from evo.compare import CompareConfig

    cfg = CompareConfig(final_step_fraction=0.05)
    assert cfg.step_factor(0, 10) == 1.0
    assert cfg.step_factor(5, 10) == pytest.approx(0.525)
    assert cfg.step_factor(10, 10) == pytest.approx(0.05)
    assert cfg.step_factor(30, 10) == pytest.approx(0.05)  # evaluations may overrun
    assert CompareConfig(final_step_fraction=1.0).step_factor(7, 10) == 1.0
