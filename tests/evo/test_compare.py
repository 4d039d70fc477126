"""neuroevo compare on the fruit set: every method present, finite numbers, one network."""

import json
import math

from tests.conftest import assert_user_error


def test_short_fruit_comparison(tmp_path, cli):
    out = tmp_path / "cmp"
    proc = cli("compare", "fruit", "--budget-seconds", "1", "--out", str(out), "--quiet")
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
    assert backprop > 0.9  # one second of Adam learns the linear fruit set


def test_bad_compare_input(cli):
    assert_user_error(cli("compare", "fruit", "--budget-seconds", "0"), "budget")
    assert_user_error(cli("compare", "fruit", "--set", "population=7"), "population")
