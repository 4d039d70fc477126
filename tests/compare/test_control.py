"""`neuroevo compare` on control tasks with PPO beside the evolution methods: equal
agent-steps, one network, the greedy policy's curve, seeds split and merged, bad input."""

import json
import math

import numpy as np
import pytest

from tests.conftest import assert_user_error

TINY_CARS = ["--evolve-set", "population=6", "--evolve-set", "episodes=2",
             "--evolve-set", "cars.tracks=[procedural:3:0.5, oval]",
             "--evolve-set", "cars.world.max_time=4", "--evolve-set", "cars.world.stall_time=2",
             "--reinforce-set", "pg.agents=3", "--reinforce-set", "pg.steps=300",
             "--reinforce-set", "pg.minibatch=64", "--reinforce-set", "pg.epochs=2"]


def results_of(out):
    return json.loads((out / "results.json").read_text())


def test_cars_at_equal_steps_with_ppo(tmp_path, cli):
    out = tmp_path / "cmp"
    proc = cli("compare", "cars", "--budget-steps", "2000", "--methods", "ga,ppo,random",
               "--out", str(out), "--quiet", *TINY_CARS)
    assert proc.returncode == 0, proc.stderr
    res = results_of(out)
    assert res["steps"] == 2000 and res["budget_seconds"] is None
    assert list(res["results"]) == ["ga", "ppo", "random"]
    for m, runs in res["results"].items():
        c = runs[0]["curve"]
        # each method stops with the first generation (iteration) that reaches the budget
        assert c["steps"][-1] >= 2000 and (len(c["steps"]) == 1 or c["steps"][-2] < 2000), m
        assert c["steps"] == sorted(c["steps"]) and c["seconds"] == sorted(c["seconds"])
        assert c["best"] == sorted(c["best"])  # the best so far never falls
        assert len(c["lap_time"]) == len(c["best"])
        assert set(runs[0]["driver"]) >= {"train", "unseen"}
    # the same policy network for every method
    assert len({runs[0]["num_params"] for runs in res["results"].values()}) == 1
    report = (out / "report.md").read_text()
    for section in ("## Better than luck?", "## Gradient descent against evolution",
                    "## Who got where first"):
        assert section in report
    assert "2,000 agent-steps per method and seed (equal environment steps)" in report
    assert (out / "compare.png").stat().st_size > 10_000


def test_ppo_best_so_far_is_its_greedy_policy_scored_like_a_genome():
    from common.config import build
    from compare.control import greedy_fitness
    from evo.config import EvolveConfig
    from evo.tasks import TaskSpec
    from rl.config import ReinforceConfig
    from rl.run import ReinforceRun

    ev = build(EvolveConfig, {"episodes": 2, "cars": {
        "tracks": ["procedural:3:0.5", "oval"], "world": {"max_time": 4.0}}}, "t: ")
    cfg = build(ReinforceConfig, {"task": "cars", "total_steps": 400, "pg": {
        "agents": 2, "steps": 200, "epochs": 1}, "cars": {
        "tracks": ["procedural:3:0.5", "oval"], "world": {"max_time": 4.0}}}, "t: ")
    run = ReinforceRun(cfg, None)
    run.step()
    task = TaskSpec("cars", ev.cars, ev.walkers, ev.policy).build()
    fit, stats = greedy_fitness(run, task, [0, 1])
    # the evolution task scores the greedy actor (tanh of the mean) as it scores a genome
    res = task.evaluate_episodes(run.ac.actor.get_params()[None, :], [0, 1])
    assert fit == np.mean([r["fitness"][0] for r in res])
    assert stats["laps"] == np.mean([r["laps"][0] for r in res])


def test_ppo_with_obs_norm_is_scored_with_its_normalisation_folded_in():
    from common.config import build
    from compare.control import greedy_fitness
    from evo.config import EvolveConfig
    from evo.tasks import TaskSpec
    from rl.config import ReinforceConfig
    from rl.policy import fold_obs_norm
    from rl.run import ReinforceRun

    walkers = {"terrains": ["procedural:1:0.5"], "world": {"max_time": 2.0}}
    ev = build(EvolveConfig, {"task": "walkers", "walkers": walkers}, "t: ")
    cfg = build(ReinforceConfig, {"task": "walkers", "total_steps": 800, "pg": {
        "agents": 2, "steps": 300, "epochs": 1, "obs_norm": True}, "walkers": walkers}, "t: ")
    run = ReinforceRun(cfg, None)
    run.step()
    run.step()  # the normaliser has moved: the actor learnt with the one before
    mean, scale = run.trained_obs
    assert not np.array_equal(mean, run.obs_stats()[0]) and (mean != 0).any()
    task = TaskSpec("walkers", ev.cars, ev.walkers, ev.policy).build()
    fit, _ = greedy_fitness(run, task, [0])
    net = run.ac.policy_network()
    fold_obs_norm(net, mean, scale)
    res = task.evaluate_episodes(net.get_params()[None, :], [0])
    assert fit == res[0]["fitness"][0]


def test_seeds_split_and_merged_equal_one_comparison(tmp_path, cli):
    from compare.run import merge_results

    common = ["--budget-steps", "1500", "--methods", "ga,ppo", "--quiet", *TINY_CARS]
    whole = tmp_path / "whole"
    assert cli("compare", "cars", "--seeds", "2", "--out", str(whole), *common).returncode == 0
    parts = []
    for s in (0, 1):
        out = tmp_path / f"seed{s}"
        proc = cli("compare", "cars", "--first-seed", str(s), "--out", str(out), *common)
        assert proc.returncode == 0, proc.stderr
        parts.append(results_of(out))
    merged = merge_results(parts)
    expected = results_of(whole)["results"]
    for m in ("ga", "ppo"):
        for a, b in zip(merged[m], expected[m], strict=True):
            for key in ("best", "steps", "generation", "episodes"):
                assert a["curve"][key] == b["curve"][key], (m, key)
            assert a["driver"] == b["driver"]
    with pytest.raises(ValueError, match="differ"):
        merge_results([parts[0], {**parts[1], "steps": 999}])


def test_gym_and_walkers_comparisons(tmp_path, cli):
    pytest.importorskip("gymnasium", reason="the gym extra is not installed "
                        "(pip install -e '.[gym]')")
    out = tmp_path / "gym"
    proc = cli("compare", "gym:CartPole-v1", "--budget-steps", "3000", "--methods",
               "cmaes,ppo,reinforce", "--evolve-set", "population=8", "--evolve-set",
               "episodes=2", "--reinforce-set", "pg.steps=1000", "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    res = results_of(out)
    assert list(res["results"]) == ["cmaes", "ppo", "reinforce"]
    for m, runs in res["results"].items():
        judged = runs[0]["driver"]["train"]["return"]
        assert math.isfinite(judged) and 8 <= judged <= 500, m
    assert res["results"]["reinforce"][0]["algorithm"] == "reinforce"
    report = (out / "report.md").read_text()
    assert "judged return" in report and "## Who got where first" in report
    out = tmp_path / "walk"
    proc = cli("compare", "walkers", "--budget-steps", "1500", "--methods", "ga,ppo",
               "--evolve-set", "population=4", "--evolve-set", "walkers.world.max_time=2",
               "--reinforce-set", "pg.agents=4", "--reinforce-set", "pg.steps=500",
               "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    report = (out / "report.md").read_text()
    assert "judged distance" in report and "| ppo |" in report


def test_bad_control_compare_input(tmp_path, cli):
    out = str(tmp_path / "x")
    assert_user_error(cli("compare", "cars", "--generations", "2", "--methods", "ga,ppo",
                          "--out", out), "--generations", "ppo")
    assert_user_error(cli("compare", "fruit", "--budget-steps", "100", "--out", out),
                      "--budget-steps")
    assert_user_error(cli("compare", "fruit", "--reinforce-set", "pg.lr=0.1", "--out", out),
                      "--reinforce-set")
    assert_user_error(cli("compare", "cars", "--budget-steps", "100", "--generations", "2",
                          "--out", out), "not both")
    assert_user_error(cli("compare", "cars", "--reinforce-set", "pg.lr=-1", "--out", out),
                      "pg.lr")
    assert_user_error(cli("compare", "cars", "--methods", "ga,sac", "--out", out), "--methods")
    assert_user_error(cli("compare", "cars", "--first-seed", "-1", "--out", out),
                      "--first-seed")
    assert_user_error(cli("compare", "carz", "--out", out), "carz")
    assert not (tmp_path / "x").exists()
