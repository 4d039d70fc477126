"""Walkers whose bodies evolve with their networks (walkers.body: evolve): the genome, the
backends, best.npz and replay, export-creature, resume, and bad input."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from common.config import build
from evo.backends import ProcessBackend, SerialBackend
from evo.config import EvolveConfig
from evo.rollout import run_episode
from evo.run import EvolutionRun, ask_rng
from evo.tasks import TaskSpec
from nn.io import load_model
from sims.body import n_genes, scaled_creature
from sims.walker import load_creature
from sims.walker_world import WalkerWorld, WalkerWorldConfig
from tests.conftest import assert_user_error


def body_cfg(**over):
    raw = {"task": "walkers", "population": 6, "generations": 2, "seed": 4,
           "policy": {"hidden": [5]},
           "walkers": {"body": "evolve", "world": {"max_time": 1.0}}, **over}
    return build(EvolveConfig, raw, "test: ")


def spec_of(cfg):
    return TaskSpec("walkers", cfg.cars, cfg.walkers, cfg.policy)


def test_the_genome_is_the_weights_then_body_genes_that_start_at_the_shipped_body(tmp_path):
    run = EvolutionRun(body_cfg(), tmp_path / "r")
    d, g = run.net.num_params, n_genes(load_creature("biped"))
    assert g == 2 * 8 + 7
    assert run.strategy.num_params == d + g
    np.testing.assert_array_equal(run.strategy.init_params[:d], run.net.get_params())
    np.testing.assert_array_equal(run.strategy.init_params[d:], 0.0)
    first = run.strategy.ask(ask_rng(4, 0))
    np.testing.assert_array_equal(first[0, d:], 0.0)  # member 0: the shipped body
    spread = first[1:, d:].std()  # the others: the strategy's usual spread (init_scale)
    assert spread == pytest.approx(run.cfg.strategy.init_scale, rel=0.3)
    fixed = EvolutionRun(body_cfg(walkers={"world": {"max_time": 1.0}}), tmp_path / "f")
    assert fixed.strategy.num_params == d


def test_each_walker_walks_its_own_body_and_backends_agree():
    cfg = body_cfg()
    spec = spec_of(cfg)
    serial = SerialBackend(spec)
    task = serial.task
    d = task.network().num_params
    biped = load_creature("biped")
    genomes = np.random.default_rng(0).normal(0, 0.7, (5, d + n_genes(biped)))
    genomes[2, d:] = 0.0  # one of them the shipped body
    got = serial.evaluate(genomes, seed=11)
    # an independent reference: each genome alone in a world of its own creature, built
    # from the genes by hand
    for i, genome in enumerate(genomes):
        world = WalkerWorld(scaled_creature(biped, genome[d:]), 1,
                            WalkerWorldConfig(max_time=1.0))
        info, _ = run_episode(world, task.network(), genome[None, :d], 11)
        assert got["fitness"][i] == info["distance"][0]
    with ProcessBackend(spec, workers=2) as pe:
        other = pe.evaluate(genomes, seed=11)
    np.testing.assert_array_equal(got["fitness"], other["fitness"])
    np.testing.assert_array_equal(got["fitness"],
                                  SerialBackend(spec, chunk=2).evaluate(genomes, 11)["fitness"])
    with pytest.raises(ValueError, match="body genes"):
        serial.evaluate(genomes[:, :d], seed=11)  # a genome without its body


def test_best_npz_keeps_the_body_replay_walks_it_and_export_writes_it(tmp_path, cli):
    out = tmp_path / "run"
    w = cli("evolve", "walkers", "--generations", "2", "--population", "6", "--headless",
            "--quiet", "--seed", "2", "--set", "walkers.body=evolve", "--set",
            "walkers.world.max_time=1", "--set", "policy.hidden=[5]", "--set",
            "recheck_episodes=0", "--out", str(out))
    assert w.returncode == 0, w.stderr
    assert "and 23 body genes per genome" in w.stderr
    best = out / "best.npz"
    net, meta = load_model(best)
    run = EvolutionRun.resume(out)
    d = run.net.num_params
    genome = run.strategy.best_params
    assert meta["body"]["genes"] == genome[d:].tolist()
    np.testing.assert_array_equal(net.theta, genome[:d])
    body = scaled_creature(load_creature("biped"), genome[d:])
    assert body != load_creature("biped")
    # replay walks that body: the distance it scored when evaluated in its generation
    rep = cli("replay", str(best), "--headless", "--json")
    assert rep.returncode == 0, rep.stderr
    assert json.loads(rep.stdout)["distance"] == run.rows[-1]["best_ever"]
    # export-creature writes it as a creature file that reads back to the same body
    path = tmp_path / "evolved.yaml"
    exp = cli("export-creature", str(best), "--out", str(path))
    assert exp.returncode == 0, exp.stderr
    again = load_creature(str(path))
    assert dataclasses.replace(again, source=body.source) == body
    assert path.read_text().startswith("# biped, its body evolved")
    # ... and a fixed-body run walks it as any creature
    fixed = cli("evolve", "walkers", "--generations", "1", "--population", "2", "--headless",
                "--quiet", "--set", f"walkers.creature={path}", "--set",
                "walkers.world.max_time=0.5", "--out", str(tmp_path / "fixed"))
    assert fixed.returncode == 0, fixed.stderr
    assert_user_error(cli("export-creature", str(tmp_path / "fixed" / "best.npz"), "--out",
                          str(tmp_path / "x.yaml")), "no evolved body", "walkers.body: fixed")
    assert_user_error(cli("export-creature", str(best), "--out", str(tmp_path / "x.txt")),
                      ".yaml")
    assert_user_error(cli("export-creature", str(best), "--out",
                          str(tmp_path / "nowhere" / "x.yaml")), "no folder")
    assert_user_error(cli("export-creature", str(tmp_path / "none.npz"), "--out",
                          str(tmp_path / "x.yaml")), "none.npz")


def test_resume_is_bit_exact_with_bodies(tmp_path):
    over = {"strategy": {"name": "es", "init_scale": 0.5}}
    full = EvolutionRun(body_cfg(generations=4, **over), tmp_path / "full")
    assert full.run() == "completed"
    part = EvolutionRun(body_cfg(generations=2, **over), tmp_path / "part")
    part.run()
    resumed = EvolutionRun.resume(tmp_path / "part", generations=4)
    resumed.run()
    assert (tmp_path / "full" / "fitness.csv").read_bytes() == \
        (tmp_path / "part" / "fitness.csv").read_bytes()
    np.testing.assert_array_equal(full.strategy.best_params, resumed.strategy.best_params)
    assert load_model(tmp_path / "full" / "best.npz")[1]["body"] == \
        load_model(tmp_path / "part" / "best.npz")[1]["body"]


def test_a_creature_that_is_no_tree_cannot_evolve_its_body(tmp_path, cli):
    path = tmp_path / "ring.yaml"
    text = Path(load_creature("biped").source).read_text()
    text += ("  extra:   {a: foot_l, b: foot_r, anchor: [0.05, 0.03], limits: [-0.1, 0.1], "
             "max_torque: 10.0}\n")
    path.write_text(text)
    args = ["evolve", "walkers", "--headless", "--quiet", "--set", f"walkers.creature={path}"]
    ok = cli(*args, "--generations", "1", "--population", "2", "--set",
             "walkers.world.max_time=0.2", "--out", str(tmp_path / "ok"))
    assert ok.returncode == 0, ok.stderr  # a fixed body needs no tree
    assert_user_error(cli(*args, "--set", "walkers.body=evolve"), str(path), "tree")


@pytest.mark.parametrize("args,fragment", [
    (["evolve", "walkers", "--headless", "--set", "walkers.body=grow"], "walkers.body"),
    (["evolve", "walkers", "--headless", "--set", "walkers.body=[evolve]"], "walkers.body"),
    (["reinforce", "walkers", "--headless", "--set", "walkers.body=evolve"], "walkers.body"),
    (["compare", "walkers", "--evolve-set", "walkers.body=evolve"], "walkers.body"),
    (["export-creature", "best.npz"], "--out"),
])
def test_bad_body_input_exits_2(cli, args, fragment):
    assert_user_error(cli(*args, "--quiet") if args[0] != "export-creature" else cli(*args),
                      fragment)
