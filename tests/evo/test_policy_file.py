"""Policy files (best.npz of evolve and reinforce): one writer and one reader, the same
bytes of metadata as before they were one module, and files written before still load."""

import dataclasses
import json
import zipfile

import numpy as np
import pytest

from common.config import build
from evo.config import EvolveConfig
from evo.gym_config import GymConfig
from evo.policy_file import policy_task, read_policy, save_policy
from evo.rollout import PolicyConfig, make_policy
from evo.tasks import CarsConfig, TaskSpec
from neuroevo.commands.evolve import load_policy
from nn.errors import ModelFileError
from nn.io import save_model
from tests.conftest import assert_user_error


def raw_meta(path):
    """The metadata JSON text exactly as stored (key order included)."""
    with zipfile.ZipFile(path) as z, z.open("meta.npy") as f:
        return str(np.lib.format.read_array(f, allow_pickle=False))


def evolved_task(task, **section):
    cfg = build(EvolveConfig, {"task": task, "policy": {"hidden": [5]},
                               task: {**section, "world": {"max_time": 1.0}}}, "test: ")
    spec = TaskSpec(task, cfg.cars, cfg.walkers, cfg.policy)
    return cfg, spec, spec.build()


def genome_of(task, seed=1):
    rng = np.random.default_rng(seed)
    net = task.network()
    net.init_params(rng)
    genome = task.initial_genome(net.get_params().astype(np.float64))
    genome[net.num_params:] = rng.uniform(-0.5, 0.5, task.extra_genes)  # body / ray genes
    return genome


def old_evolve_writer(path, cfg, spec, task, genome, fitness, generation):
    """evo.run.EvolutionRun.save_best as it was before evo.policy_file, key for key."""
    net = task.network().clone()
    net.set_params(task.weights(genome))
    save_model(path, net, kind="policy", task=cfg.task,
               task_config=dataclasses.asdict(spec.task_config),
               **task.model_meta(), **task.genome_meta(genome),
               policy=dataclasses.asdict(cfg.policy),
               fitness=fitness, generation=generation,
               input_shape=[net.n_inputs], label_names=[])
    return net


def old_reinforce_writer(path, net, task_name, task_config, policy, meta, fitness, iteration,
                         algorithm):
    """rl.run.ReinforceRun.save_best as it was before evo.policy_file, key for key."""
    save_model(path, net, kind="policy", task=task_name,
               task_config=dataclasses.asdict(task_config), **meta,
               policy=dataclasses.asdict(policy), fitness=fitness,
               iteration=iteration, trained_by=algorithm,
               input_shape=[net.n_inputs], label_names=[])


@pytest.mark.parametrize("task_name, section", [
    ("cars", {}), ("cars", {"sensors": "evolve"}), ("walkers", {"body": "evolve"})])
def test_evolve_policies_round_trip_and_match_the_old_writer(tmp_path, task_name, section):
    cfg, spec, task = evolved_task(task_name, **section)
    genome = genome_of(task)
    old = tmp_path / "old.npz"
    net = old_evolve_writer(old, cfg, spec, task, genome, 1.25, 7)
    new = tmp_path / "new.npz"
    save_policy(new, net, task=cfg.task, task_config=spec.task_config, policy=cfg.policy,
                fitness=1.25, extra={**task.model_meta(), **task.genome_meta(genome)},
                generation=7)
    assert raw_meta(new) == raw_meta(old)  # the same metadata, key order and all
    for path in (old, new):
        pf = read_policy(path)
        assert (pf.task, pf.policy, pf.config) == (task_name, cfg.policy, spec.task_config)
        np.testing.assert_array_equal(pf.net.theta, net.theta)
        assert pf.meta["fitness"] == 1.25 and pf.meta["generation"] == 7
        assert policy_task(path) == task_name
        # what replay builds from it: the task of the evolved body or rays, now fixed
        replayed, rnet, _ = load_policy(str(path))
        np.testing.assert_array_equal(rnet.theta, net.theta)
        if task_name == "walkers":
            assert replayed.cfg.body == "fixed"
            body = task.body(genome[net.num_params:])
            assert replayed.creature == dataclasses.replace(body, source=f"{path}: body")
        elif section:
            assert replayed.cfg.sensors == "fixed"
            angles = task.genome_meta(genome)["sensors"]["angles"]
            np.testing.assert_array_equal(replayed.layout[0], angles)
            np.testing.assert_array_equal(pf.sensors[0], angles)
        else:
            assert pf.body is None and pf.sensors is None


def test_reinforce_and_gym_policies_round_trip_and_match_the_old_writer(tmp_path):
    policy = PolicyConfig(hidden=[6])
    gym = GymConfig(obs_clip=3.0)
    net = make_policy(4, 2, policy)
    net.init_params(np.random.default_rng(0))
    extra = {"obs_mean": [0.5, -1.0, 2.0, 0.0], "obs_scale": [1.0, 2.0, 0.5, 4.0],
             "obs_clip": 3.0, "max_steps": 200}
    old, new = tmp_path / "old.npz", tmp_path / "new.npz"
    old_reinforce_writer(old, net, "gym:CartPole-v1", gym, policy, extra, 99.5, 12, "ppo")
    save_policy(new, net, task="gym:CartPole-v1", task_config=gym, policy=policy,
                fitness=99.5, extra=extra, iteration=12, trained_by="ppo")
    assert raw_meta(new) == raw_meta(old)
    for path in (old, new):
        pf = read_policy(path, ("gym",))
        assert (pf.task, pf.policy, pf.config) == ("gym:CartPole-v1", policy, gym)
        np.testing.assert_array_equal(pf.obs_norm[0], extra["obs_mean"])
        np.testing.assert_array_equal(pf.obs_norm[1], extra["obs_scale"])
        assert (pf.meta["iteration"], pf.meta["trained_by"]) == (12, "ppo")
        # a gym policy is no cars or walkers policy
        with pytest.raises(ModelFileError, match="not a policy"):
            read_policy(path, ("cars", "walkers"))


def test_a_hand_made_policy_without_sections_reads_as_the_defaults(tmp_path):
    net = make_policy(11, 2, PolicyConfig())
    save_model(tmp_path / "p.npz", net, kind="policy", task="cars")
    pf = read_policy(tmp_path / "p.npz")
    assert (pf.policy, pf.config) == (PolicyConfig(), CarsConfig())


def test_what_is_no_policy_is_one_line(tmp_path):
    net = make_policy(4, 2, PolicyConfig(hidden=[3]))
    save_model(tmp_path / "model.npz", net, dataset="fruit")  # a trained classifier
    save_model(tmp_path / "odd.npz", net, kind="policy", task="boats")
    save_model(tmp_path / "bad.npz", net, kind="policy", task="cars",
               policy={"hidden": "many"})
    for name, message, task in (("model.npz", "not a policy", None),
                                ("odd.npz", "not a policy", None),
                                ("bad.npz", "policy.hidden: expected a list", "cars")):
        with pytest.raises(ModelFileError, match=message) as e:
            read_policy(tmp_path / name)
        assert str(tmp_path / name) in str(e.value) and "\n" not in str(e.value)
        assert policy_task(tmp_path / name) == task
    assert policy_task(tmp_path / "missing.npz") is None


def test_a_policy_of_an_unknown_format_version_is_refused_in_one_line(tmp_path, cli):
    net = make_policy(11, 2, PolicyConfig(hidden=[3]))
    path = tmp_path / "future.npz"
    save_policy(path, net, task="cars", task_config=CarsConfig(), policy=PolicyConfig(),
                fitness=0.0, generation=1)
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["meta"]))
    meta["version"] = 99
    np.savez(path, theta=arrays["theta"], meta=np.array(json.dumps(meta)))
    with pytest.raises(ModelFileError, match="version 99"):
        read_policy(path)
    assert policy_task(path) is None
    assert_user_error(cli("replay", str(path), "--headless"), "future.npz", "version 99",
                      "newer neuroevo")
