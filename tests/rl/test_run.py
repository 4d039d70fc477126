"""``ReinforceRun`` (rl.run) on cars, walkers and a Gymnasium task: the same seed gives
the same numbers, a resumed run continues bit for bit, best.npz is the policy of the best
iteration and replays, and PPO does learn CartPole."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from common.config import build, load_config
from common.files import read_npz
from nn.io import load_model
from rl.config import ReinforceConfig
from rl.run import CHECKPOINT, ReinforceRun, Reporter
from tests.conftest import REPO
from tests.gym_checks import greedy_episode

SMALL = {
    # CartPole-v1: the vector environment, a categorical policy
    "gym": {"task": "gym:CartPole-v1", "total_steps": 3000,
            "pg": {"steps": 512, "agents": 4, "value_hidden": [16]}},
    # Pendulum-v1: one environment per agent in a loop, a Gaussian policy, every episode
    # cut short by the time limit (bootstrapped from the critic)
    "pendulum": {"task": "gym:Pendulum-v1", "total_steps": 1200, "policy": {"hidden": [8]},
                 "pg": {"steps": 400, "agents": 2, "value_hidden": [16]}},
    "cars": {"task": "cars", "total_steps": 1500,
             "pg": {"steps": 500, "agents": 4, "minibatch": 128, "value_hidden": [16]},
             "cars": {"track": "procedural:3:0.5", "tracks": [], "world": {"max_time": 3.0}}},
    # two training tracks: one world with both, split back into per-track episodes
    "cars2": {"task": "cars", "total_steps": 1500,
              "pg": {"steps": 500, "agents": 2, "minibatch": 128, "value_hidden": [16]},
              "cars": {"track": "procedural:3:0.5", "tracks": ["procedural:3:0.5",
                                                               "procedural:4:0.2"],
                       "world": {"max_time": 3.0}}},
    "walkers": {"task": "walkers", "total_steps": 1500,
                "pg": {"steps": 500, "agents": 4, "minibatch": 128, "value_hidden": [16]},
                "walkers": {"world": {"max_time": 2.0}}},
    # walkers with what configs/reinforce-walkers.yaml uses: two worlds a round on training
    # terrains, observation and reward normalisation, the evolution fitness's terms as
    # rewards, best.npz chosen by its greedy evaluation
    "walkers-pg": {"task": "walkers", "total_steps": 1500,
                   "pg": {"steps": 300, "agents": 2, "worlds": 2, "minibatch": 128,
                          "value_hidden": [16], "obs_norm": True, "norm_reward": True,
                          "eval_episodes": 2},
                   "walkers": {"terrains": ["procedural:1:0.5", "procedural:2:1"],
                               "fall_penalty": 5.0, "alive_bonus": 0.5,
                               "world": {"max_time": 2.0, "ground_sensors": 3}}},
}
KINDS = ["gym", "pendulum", "cars", "cars2", "walkers"]
RUN_KINDS = [*KINDS, "walkers-pg"]  # same seed same numbers; resume


def needs_gym(kind):
    if kind in ("gym", "pendulum"):
        return pytest.importorskip("gymnasium", reason="the gym extra: pip install -e '.[gym]'")
    return None


def small_cfg(kind, **over) -> ReinforceConfig:
    raw = json.loads(json.dumps(SMALL[kind]))  # a deep copy
    for key, value in over.items():
        node = raw
        *parents, last = key.split("__")
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    return build(ReinforceConfig, raw, "test: ")


class Recording(Reporter):
    """Keeps the actor and the observation normaliser every iteration acts with; stops the
    run after ``stop_after`` iterations (as a Ctrl-C would)."""

    def __init__(self, stop_after=None):
        self.stop_after = stop_after
        self.actors, self.norms = [], []

    def start(self, run):
        self.actors.append(run.ac.actor.get_params())
        self.norms.append(run.obs_stats())

    def post_iteration(self, run, row):
        self.actors.append(run.ac.actor.get_params())
        self.norms.append(run.obs_stats())
        if self.stop_after is not None and run.iteration >= self.stop_after:
            run.stop.request()


def table(out: Path) -> list[dict]:
    """returns.csv without the wall-clock column, as the exact strings written."""
    with open(out / "returns.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        del r["seconds"]
    return rows


def checkpoint(out: Path) -> dict:
    arrays, meta = read_npz(out / CHECKPOINT, "checkpoint", "", ValueError)
    return {**arrays, "meta": meta}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """One uninterrupted run per kind, shared by the tests (built on first use)."""
    done = {}

    def get(kind):
        if kind not in done:
            out = tmp_path_factory.mktemp(f"ref-{kind}")
            rec = Recording()
            run = ReinforceRun(small_cfg(kind), out, [rec])
            assert run.run() == "completed"
            done[kind] = (out, run, rec)
        return done[kind]

    return get


@pytest.mark.parametrize("kind", RUN_KINDS)
def test_same_seed_same_numbers_and_another_seed_differs(kind, reference, tmp_path):
    needs_gym(kind)
    out, run, _ = reference(kind)
    rows = table(out)
    cfg = small_cfg(kind)
    assert len(rows) >= 3 and int(rows[-1]["env_steps"]) >= cfg.total_steps
    assert [int(r["iteration"]) for r in rows] == list(range(1, len(rows) + 1))
    steps = [int(r["env_steps"]) for r in rows]
    # whole episodes of at least pg.steps an iteration (the last: of what is left)
    assert all(b - a >= min(cfg.pg.steps, cfg.total_steps - a)
               for a, b in zip([0, *steps], steps))
    assert int(rows[-2]["env_steps"]) < cfg.total_steps  # it stopped as soon as it could
    again = ReinforceRun(cfg, tmp_path / "again")
    again.run()
    assert table(tmp_path / "again") == rows
    np.testing.assert_array_equal(checkpoint(tmp_path / "again")["theta"],
                                  checkpoint(out)["theta"])
    other = ReinforceRun(small_cfg(kind, seed=1), tmp_path / "other")
    other.run()
    theirs = table(tmp_path / "other")
    assert [r["return_mean"] for r in theirs] != [r["return_mean"] for r in rows]
    assert not np.array_equal(other.ac.theta, run.ac.theta)


@pytest.mark.parametrize("kind", RUN_KINDS)
def test_an_interrupted_run_resumes_bit_for_bit(kind, reference, tmp_path):
    needs_gym(kind)
    ref_out, ref_run, _ = reference(kind)
    out = tmp_path / "run"
    first = ReinforceRun(small_cfg(kind), out, [Recording(stop_after=2)])
    assert first.run() == "interrupted"
    assert len(table(out)) == 2 and checkpoint(out)["meta"]["iteration"] == 2
    resumed = ReinforceRun.resume(out)
    assert resumed.iteration == 2 and resumed.env_steps == first.env_steps
    assert resumed.run() == "completed"
    assert table(out) == table(ref_out)
    mine, theirs = checkpoint(out), checkpoint(ref_out)
    for key in ("theta", "best_theta", "rows", "adam/m", "adam/s"):
        if key == "rows":  # the seconds column aside
            col = theirs["meta"]["columns"].index("seconds")
            mine[key][:, col] = theirs[key][:, col] = 0.0
        np.testing.assert_array_equal(mine[key], theirs[key], err_msg=key)
    keys = []
    if kind in ("gym", "pendulum", "walkers-pg"):
        keys = ["obs_norm/mean", "obs_norm/m2", "obs_norm/count", "best_obs_mean"]
    if kind == "walkers-pg":
        keys += ["ret_norm/mean", "ret_norm/m2", "ret_norm/count"]
    for key in keys:
        np.testing.assert_array_equal(mine[key], theirs[key], err_msg=key)
    np.testing.assert_array_equal(load_model(out / "best.npz")[0].theta,
                                  load_model(ref_out / "best.npz")[0].theta)


def test_a_run_extended_by_resume_equals_a_longer_run(tmp_path):
    # Without the learning-rate schedule (it depends on total_steps), a run to the end of
    # some iteration of a longer run, extended to the longer run's total, is that run.
    whole = ReinforceRun(small_cfg("walkers", pg__anneal_lr=False), tmp_path / "b")
    whole.run()
    full = table(tmp_path / "b")
    assert len(full) >= 3
    mid = int(full[1]["env_steps"])  # where its second iteration ended
    short = ReinforceRun(small_cfg("walkers", total_steps=mid, pg__anneal_lr=False),
                         tmp_path / "a")
    short.run()
    assert table(tmp_path / "a") == full[:2]
    longer = ReinforceRun.resume(tmp_path / "a", total_steps=whole.cfg.total_steps)
    assert longer.cfg.total_steps == whole.cfg.total_steps and longer.iteration == 2
    longer.run()
    assert table(tmp_path / "a") == full
    np.testing.assert_array_equal(checkpoint(tmp_path / "a")["theta"],
                                  checkpoint(tmp_path / "b")["theta"])


@pytest.mark.parametrize("kind", KINDS)
def test_best_is_the_policy_of_the_best_iteration(kind, reference):
    needs_gym(kind)
    out, run, rec = reference(kind)
    rows = table(out)
    score = {"gym": "return_mean", "pendulum": "return_mean",
             "walkers": "distance_mean"}.get(kind, "laps_mean")
    scores = [float(r[score]) for r in rows]
    best = int(np.argmax(scores))
    assert [float(r["best_ever"]) for r in rows] == list(np.maximum.accumulate(scores))
    net, meta = load_model(out / "best.npz")
    assert meta["fitness"] == scores[best] and meta["trained_by"] == "ppo"
    assert meta["task"] == small_cfg(kind).task and meta["kind"] == "policy"
    # the actor as it was when that iteration's episodes were collected
    np.testing.assert_array_equal(net.theta, rec.actors[best])
    assert not np.array_equal(rec.actors[0], rec.actors[-1])  # it did learn something
    if kind in ("gym", "pendulum"):  # with the observation normaliser of that iteration
        np.testing.assert_array_equal(meta["obs_mean"], rec.norms[best][0])
        np.testing.assert_array_equal(meta["obs_scale"], rec.norms[best][1])
        assert meta["obs_clip"] == 5.0
        assert meta["max_steps"] == (500 if kind == "gym" else 200)


def cli_json(capsys, *argv):
    from neuroevo.cli import main

    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


@pytest.mark.parametrize("kind", ["cars", "cars2", "walkers"])
def test_best_replays_in_its_world(kind, reference, capsys):
    out, run, _ = reference(kind)
    got = cli_json(capsys, "replay", str(out / "best.npz"), "--json", "--headless")
    # the reference: the saved network driving its greedy actions in a fresh world of the
    # run's task (replay drives `track`, episode seed 0)
    net, _ = load_model(out / "best.npz")
    world = run.task.world(1)
    obs = world.reset(seed=0)
    while not (world.terminated | world.truncated).all():
        obs, *_ = world.step(np.array(net.forward(obs)))
    info = world.info()
    max_time = 2.0 if kind == "walkers" else 3.0
    assert 0 < got["time"] <= max_time + 1e-9
    assert got["time"] == pytest.approx(float(info["time_alive"][0]), abs=1e-12)
    if kind == "walkers":
        assert got["distance"] == pytest.approx(float(info["distance"][0]), abs=1e-12)
        assert got["fallen"] == bool(info["fallen"][0])
    else:
        assert world.track.name.startswith("procedural:3")
        assert got["progress"] == pytest.approx(float(info["progress"][0]), abs=1e-12)
        assert got["laps"] == int(info["laps"][0])
        assert got["crashed"] == bool(info["crashed"][0])


def test_gym_best_replays(reference, capsys):
    gym = needs_gym("gym")
    out, _, _ = reference("gym")
    got = cli_json(capsys, "replay", str(out / "best.npz"), "--json", "--headless",
                   "--episodes", "3", "--seed", "4")
    assert got["episodes"] == 3
    net, meta = load_model(out / "best.npz")
    mean, scale = np.array(meta["obs_mean"]), np.array(meta["obs_scale"])
    env = gym.make("CartPole-v1")
    returns = [greedy_episode(env, net, mean, scale, 4 + i) for i in range(3)]
    assert got["returns"] == returns


def test_ppo_learns_cartpole(tmp_path, capsys):
    """The shipped config for 40k steps: the mean return climbs from about 22 (a random
    policy) to over 370 on seeds 0-7; the greedy best policy balances the pole.  It learns
    within the budget: at most 40k steps plus the episodes under way at the end, in
    iterations of at least ``pg.steps`` (its time is bench/bench_pg.py cartpole's)."""
    gym = needs_gym("gym")
    cfg = load_config(ReinforceConfig, REPO / "configs" / "reinforce-CartPole-v1.yaml",
                      ["total_steps=40000"])
    assert cfg.seed == 0 and cfg.pg.algorithm == "ppo"
    run = ReinforceRun(cfg, tmp_path)
    assert run.run() == "completed"
    means = [r["return_mean"] for r in run.rows]
    assert means[0] < 40, means
    assert np.mean(means[-3:]) > 250, means
    # the work is bounded: whole episodes of at most 500 steps, one per agent under way
    assert 40000 <= run.env_steps <= 40000 + cfg.pg.agents * 500, run.env_steps
    assert len(run.rows) == run.iteration <= -(-40000 // cfg.pg.steps), run.iteration
    net, meta = load_model(tmp_path / "best.npz")
    mean, scale = np.array(meta["obs_mean"]), np.array(meta["obs_scale"])
    env = gym.make("CartPole-v1")
    greedy = [greedy_episode(env, net, mean, scale, 100 + i) for i in range(3)]
    assert np.mean(greedy) > 250, greedy


def check_batch(batch, ac, scale):
    """What every collected batch must be: each agent's samples in time order, cut into
    whole episodes whose lengths and (unscaled) returns are the recorded ones, and the
    log-probabilities those of the recorded actions under the policy that acted."""
    starts = batch.starts
    assert starts[0] == 0 and starts[-1] == batch.steps and (np.diff(starts) >= 0).all()
    for k in range(len(starts) - 1):  # an agent acts at most once a step
        lanes = batch.lane[starts[k]:starts[k + 1]]
        assert len(np.unique(lanes)) == len(lanes)
    lengths, returns = [], []
    for agent in range(batch.n_lanes):
        mine = np.flatnonzero(batch.lane == agent)
        if not len(mine):
            continue
        assert batch.end[mine[-1]], "an agent's last sample ends its episode"
        cuts = np.flatnonzero(batch.end[mine]) + 1
        for ep in np.split(mine, cuts[:-1]):
            lengths.append(len(ep))
            returns.append(batch.rewards[ep].sum() / scale)
    assert sorted(lengths) == sorted(batch.episodes["length"].tolist())
    np.testing.assert_allclose(sorted(returns), sorted(batch.episodes["return"]), rtol=1e-9,
                               atol=1e-9)
    assert (batch.boot[~batch.end] == 0).all()
    stats = ac.loss_and_grad(batch.obs, batch.actions, batch.logp, np.ones(batch.steps),
                             np.zeros(batch.steps))
    assert abs(stats["approx_kl"]) < 1e-12 and stats["clip_frac"] == 0.0
    np.testing.assert_allclose(batch.values, ac.values(batch.obs), rtol=0, atol=1e-12)


@pytest.mark.parametrize("vectorize", ["auto", "loop"])
def test_gym_collector_batches(vectorize, tmp_path):
    needs_gym("gym")
    from rl.run import rng_for

    cfg = small_cfg("gym", gym={"max_steps": 20, "vectorize": vectorize},
                    pg__reward_scale=2.0)
    run = ReinforceRun(cfg, tmp_path)
    assert run.collector.vector == (vectorize == "auto")
    batch = run.collector.collect(run.ac, 300, cfg.seed, 0, rng_for(0, 0, 6))
    check_batch(batch, run.ac, 2.0)
    assert batch.steps >= 300 and batch.episodes["length"].max() <= 20
    per_lane = 75  # ceil(300 / 4): each agent plays on until its share, then ends
    for agent in range(4):
        mine = np.flatnonzero(batch.lane == agent)
        assert len(mine) >= per_lane
        ends = np.flatnonzero(batch.end[mine])
        assert len(ends) == 1 or ends[-2] + 1 < per_lane
    # rewards of 1 a step, scaled; episodes cut short at 20 steps are bootstrapped from
    # the critic, the others (the pole fell) are not (nor one that fell at step 20)
    np.testing.assert_array_equal(batch.rewards, 2.0)
    ends = np.flatnonzero(batch.end)
    length_at_end = {}
    for agent in range(4):
        mine = np.flatnonzero(batch.lane == agent)
        for ep in np.split(mine, np.flatnonzero(batch.end[mine])[:-1] + 1):
            length_at_end[int(ep[-1])] = len(ep)
    full = np.array([length_at_end[i] == 20 for i in ends])
    booted = batch.boot[ends] != 0
    assert full.sum() >= 3 and (~full).sum() >= 3
    assert not (booted & ~full).any() and booted.sum() >= full.sum() - 1
    assert batch.obs_moments[2] == batch.steps  # the normaliser saw what the policy saw
    np.testing.assert_allclose(batch.obs_moments[0], batch.obs.sum(axis=0), rtol=1e-9)
    # the same (seed, iteration): the same batch; another iteration: other episodes
    again = run.collector.collect(run.ac, 300, cfg.seed, 0, rng_for(0, 0, 6))
    np.testing.assert_array_equal(again.obs, batch.obs)
    np.testing.assert_array_equal(again.actions, batch.actions)
    other = run.collector.collect(run.ac, 300, cfg.seed, 1, rng_for(0, 1, 6))
    assert other.obs.shape != batch.obs.shape or not np.array_equal(other.obs, batch.obs)


@pytest.mark.parametrize("kind", ["cars", "cars2", "walkers"])
def test_world_collector_batches(kind, tmp_path):
    from rl.collect import round_seeds
    from rl.run import rng_for

    cfg = small_cfg(kind)
    run = ReinforceRun(cfg, tmp_path)
    batch = run.collector.collect(run.ac, 500, cfg.seed, 0, rng_for(0, 0, 6))
    check_batch(batch, run.ac, 1.0)
    n = run.collector.n
    assert n == cfg.pg.agents * (2 if kind == "cars2" else 1)
    # whole rounds: every agent drives one episode a round, all rounds ending with the
    # last agent done (max_time: 180 steps for cars, 120 for walkers)
    rounds = len(batch.episodes["return"]) // n
    assert len(batch.episodes["return"]) == rounds * n and rounds >= 1
    assert batch.steps - 500 < int(batch.episodes["length"].max()) * n
    assert batch.episodes["length"].max() <= (180 if kind != "walkers" else 120)
    assert len(batch.episodes["fitness"]) == rounds * n
    if kind == "walkers":
        # reward: metres moved (the returns are listed as the episodes ended, the world's
        # columns by agent: compared as sets)
        np.testing.assert_allclose(np.sort(batch.episodes["return"]),
                                   np.sort(batch.episodes["distance"]), rtol=1e-9, atol=1e-12)
    seeds = round_seeds(cfg.seed, 0, 0, 2)
    assert seeds[1] == seeds[0] + 1 and seeds != round_seeds(cfg.seed, 1, 0, 2)
    assert round_seeds(cfg.seed, 0, 1, 2) != seeds
