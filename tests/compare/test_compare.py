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
               "--out", str(out), "--quiet", "--force")
    assert proc.returncode == 0, proc.stderr
    assert "Only ga ran" in (out / "report.md").read_text()


def test_step_sizes_fall_linearly_over_the_budget():
    from compare.config import CompareConfig

    cfg = CompareConfig(final_step_fraction=0.05)
    assert cfg.step_factor(0, 10) == 1.0
    assert cfg.step_factor(5, 10) == pytest.approx(0.525)
    assert cfg.step_factor(10, 10) == pytest.approx(0.05)
    assert cfg.step_factor(30, 10) == pytest.approx(0.05)  # evaluations may overrun
    assert CompareConfig(final_step_fraction=1.0).step_factor(7, 10) == 1.0


def car_results(seeds=2):
    """Synthetic cars results, as run_evolution returns them (generations from 1)."""
    results = {}
    for i, m in enumerate(("ga", "es", "random")):
        runs = []
        for s in range(seeds):
            n = 3 + i + s
            gens = list(range(1, n + 1))
            best = [min(1.05, 0.3 * g / (1 + i)) for g in gens]
            driver = {w: {"laps": best[-1] * (1.2 if w == "train" else 1.0),
                          "lap_time": 40.0 * (1 + i) + s, "lapped": 2 - i, "tracks": 3}
                      for w in ("train", "unseen")}
            runs.append({"curve": {"seconds": [0.4 * g for g in gens], "generation": gens,
                                   "best": best, "episodes": [10 * g for g in gens],
                                   "steps": [900 * g for g in gens],
                                   "lap_time": [60.0 - g for g in gens]},
                         "num_params": 74, "driver": driver})
        results[m] = runs
    return results


def test_compare_pictures_keep_legends_off_the_lines():
    import numpy as np

    from compare.figures import classification_figure, control_figure
    from tests.nn.figures import assert_legends_clear, assert_texts_inside

    fig = control_figure("cars", car_results(), "cars: best so far, 2 seed(s)")
    assert [ax.get_xlabel() for ax in fig.axes] == [
        "seconds", "agent-steps (environment steps)"] * 2
    assert [ax.get_ylabel() for ax in fig.axes] == ["best fitness (laps)"] * 2 + \
        ["its lap time (s)"] * 2
    # every method's seeds drawn on both panels of a row, against seconds and steps
    ax_s, ax_n = fig.axes[:2]
    assert len(ax_s.lines) == len(ax_n.lines) == sum(map(len, car_results().values()))
    assert_legends_clear(fig)
    assert_texts_inside(fig)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["ga", "es", "random"]
    secs = np.concatenate([[0], np.geomspace(0.1, 10, 25)])
    curve = {"seconds": list(secs), "evaluations": list((secs * 1e5).astype(int)),
             "accuracy": list(1 - 0.9 * np.exp(-secs))}
    results = {m: [{"curve": curve, "num_params": 100}] for m in
               ("backprop-sgd", "backprop-adam", "ga", "es")}
    fig = classification_figure(results, "fruit: test accuracy")
    assert_legends_clear(fig)
    assert_texts_inside(fig)
    assert len(fig.legends[0].get_texts()) == 4


def test_cars_comparison_counts_generations_from_1_as_evolve_does(tmp_path):
    import numpy as np

    from common.config import build
    from compare.control import run_evolution
    from compare.report import write_cars_report
    from evo.config import EvolveConfig
    from evo.run import EvolutionRun

    cfg = build(EvolveConfig, {"population": 8, "generations": 3, "seed": 5,
                               "cars": {"world": {"max_time": 4.0, "stall_time": 2.0}}}, "t: ")
    run = EvolutionRun(cfg, tmp_path / "run")
    run.run()
    curve = run_evolution("ga", cfg, cfg.seed, budget=0.5)["curve"]
    assert curve["generation"] == list(range(1, len(curve["generation"]) + 1))
    # generation N of the comparison is generation N of evolve's fitness.csv
    ever = {r["generation"]: r["best_ever"] for r in run.rows}
    pairs = list(zip(curve["generation"], curve["best"]))[:3]
    assert pairs == [(g, ever[g]) for g, _ in pairs]
    results = car_results(seeds=1)
    results["ga"][0]["curve"] = {"seconds": [1.0, 2.0, 3.0], "generation": [1, 2, 3],
                                 "best": [0.5, 1.0, 1.0], "episodes": [8, 16, 24],
                                 "steps": [800, 1500, 2100], "lap_time": [np.nan, 30, 29]}
    write_cars_report(tmp_path, results, 3, 1)
    row = next(ln for ln in (tmp_path / "report.md").read_text().splitlines()
               if ln.startswith("| ga |"))
    cells = [c.strip() for c in row.split("|")]
    assert cells[3] == "3" and cells[4] == "24" and cells[5] == "2" and cells[10] == "2,100"


def test_equal_episodes_and_the_best_drivers_judged_against_random_search(tmp_path):
    import numpy as np

    from common.config import build
    from compare.config import CompareConfig
    from compare.judges import judge_driver
    from compare.run import compare
    from evo.config import EvolveConfig
    from evo.rollout import run_episode
    from evo.tasks import TaskSpec
    from sims.car_world import CarWorld

    cfg = build(EvolveConfig, {"population": 6, "episodes": 2, "seed": 1,
                               "cars": {"tracks": ["oval", "procedural:3:1"],
                                        "world": {"max_time": 5.0, "stall_time": 2.0}}},
                "t: ")
    results = compare("cars", tmp_path, 1e9, 1, CompareConfig(), evolve_cfg=cfg, progress=False,
                      methods=("ga", "random"), generations=2)
    for runs in results.values():  # a budget of 1e9 s, but 2 generations: equal episodes
        assert runs[0]["curve"]["generation"] == [1, 2]
        assert runs[0]["curve"]["episodes"] == [12, 24]
    # the judge against each track driven alone in an independent one-car world; the
    # shipped tracks it trained on (oval) are not "unseen"
    params = np.random.default_rng(0).normal(0, 0.5, results["ga"][0]["num_params"])
    got = judge_driver(cfg, params)
    net = TaskSpec("cars", cfg.cars, cfg.walkers, cfg.policy).build().network()
    for where, tracks in (("train", ["oval", "procedural:3:1"]),
                          ("unseen", ["default", "sbends", "hairpins", "technical"])):
        infos = [run_episode(CarWorld(t, 1, cfg.cars.world), net, params[None, :], seed=i)[0]
                 for i, t in enumerate(tracks)]
        assert got[where]["tracks"] == len(tracks)
        assert got[where]["laps"] == np.mean([i["progress"][0] for i in infos])
        assert got[where]["lapped"] == sum(i["laps"][0] >= 1 for i in infos)
    report = (tmp_path / "report.md").read_text()
    assert "2 generations per method and seed (equal episodes)" in report
    assert "| ga |" in report.split("## Better than luck?")[1]


def test_ctrl_c_keeps_the_runs_that_finished(tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    out = tmp_path / "cmp"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # Ctrl-C as the second of the four runs starts (tests/interrupt_at.py): the first
    # method's run has finished, the second's is dropped
    proc = subprocess.run([sys.executable, "-m", "tests.interrupt_at", "run:2", "INT",
                           "compare", "fruit", "--budget-seconds", "1", "--out", str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    err = proc.stderr
    assert proc.returncode == 130, err
    lines = err.replace("\r", "\n").splitlines()
    kept = [ln for ln in lines if ln.startswith("neuroevo: interrupted: kept the ")]
    assert kept and "Traceback" not in err, err  # on a line of its own
    assert int(kept[0].split("kept the ")[1].split()[0]) == 1
    report = (out / "report.md").read_text()
    assert "**Interrupted**: 1 of 4" in report and "backprop-sgd" in report
    assert (out / "compare.png").read_bytes()[:4] == b"\x89PNG"
    results = json.loads((out / "results.json").read_text())
    assert results["interrupted"]
    assert {m: len(runs) for m, runs in results["results"].items()} == {"backprop-sgd": 1}


def test_a_folder_that_holds_a_comparison_is_refused(tmp_path, cli):
    out = tmp_path / "cmp"
    out.mkdir()
    (out / "report.md").write_text("an earlier comparison\n")
    proc = cli("compare", "fruit", "--budget-seconds", "0.5", "--out", str(out), "--quiet")
    assert_user_error(proc, "already holds a run", "--force")
    assert "--resume" not in proc.stderr
    assert (out / "report.md").read_text() == "an earlier comparison\n"


def test_qd_methods_report_coverage_and_qd_score_as_evolve_measures_them(tmp_path):
    """compare's coverage and QD-score per generation are those of an evolve run of the
    same config (qd.csv); the report puts the final ones beside best fitness, for the QD
    strategies and for the GA (an archive of everything it evaluated)."""
    import csv

    from common.config import build
    from compare.config import CompareConfig
    from compare.run import compare
    from evo.config import EvolveConfig
    from evo.run import EvolutionRun

    raw = {"population": 6, "generations": 2, "seed": 0, "episodes": 1,  # compare: seed 0
           "cars": {"tracks": [], "world": {"max_time": 3.0, "stall_time": 2.0}},
           "qd": {"descriptors": ["mean_speed", "mean_abs_steering"], "cells": [5, 5]}}
    cfg = build(EvolveConfig, raw, "t: ")
    results = compare("cars", tmp_path / "cmp", 1e9, 1, CompareConfig(), evolve_cfg=cfg,
                      progress=False, methods=("ga", "map-elites"), generations=2)
    for method in ("ga", "map-elites"):
        run_cfg = build(EvolveConfig, {**raw, "strategy": {"name": method}}, "t: ")
        EvolutionRun(run_cfg, tmp_path / method).run()
        rows = list(csv.DictReader(open(tmp_path / method / "qd.csv")))
        curve = results[method][0]["curve"]
        assert curve["coverage"] == [float(r["coverage"]) for r in rows]
        assert curve["qd_score"] == [float(r["qd_score"]) for r in rows]
    lines = (tmp_path / "cmp" / "report.md").read_text().splitlines()
    head = next(ln for ln in lines if ln.startswith("| method | best fitness"))
    assert head.endswith("| coverage | QD-score |")
    row = next(ln for ln in lines if ln.startswith("| map-elites |"))
    cov = float(row.split("|")[-3].strip().rstrip("%")) / 100
    assert cov == results["map-elites"][0]["curve"]["coverage"][-1]
