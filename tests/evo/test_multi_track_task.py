"""A generation's episodes on several tracks run in one world: fitness is unchanged."""

import numpy as np

from common.config import build
from evo.backends import ProcessBackend, SerialBackend, combine
from evo.config import EvolveConfig
from evo.tasks import TaskSpec


def _spec(**cars):
    raw = {"population": 10, "generations": 1, "seed": 5,
           "cars": {"world": {"max_time": 8.0, "stall_time": 2.0, "start_jitter": 1.5},
                    **cars}}
    cfg = build(EvolveConfig, raw, "test: ")
    return TaskSpec("cars", cfg.cars, cfg.walkers, cfg.policy)


def _thetas(task, n, seed=0):
    return np.random.default_rng(seed).normal(0, 0.7, (n, task.network().num_params))


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_episodes_together_equal_episodes_one_by_one():
    spec = _spec(tracks=["procedural:1", "procedural:2:0.8", "oval"], start_points=2)
    task = spec.build()
    thetas = _thetas(task, 10)
    seeds = [3, 4, 5, 7, 9]
    assert len({task.variant(s) for s in seeds}) >= 3  # several tracks and starts
    together = task.evaluate_episodes(thetas[2:], seeds, first_member=2)
    one_by_one = [task.evaluate(thetas[2:], s, first_member=2) for s in seeds]
    assert len(together) == len(seeds)
    for a, b in zip(together, one_by_one):
        _assert_same(a, b)  # fitness, every column and agent steps, bit for bit
    assert any(r["fitness"].std() > 0 for r in together)


def test_backends_give_the_old_fitness_with_several_tracks():
    spec = _spec(tracks=["procedural:1", "oval", "default"])
    task = spec.build()
    thetas = _thetas(task, 10, seed=1)
    seeds = [11, 12, 13, 14]
    old = combine([task.evaluate(thetas, s) for s in seeds])  # one world per episode
    _assert_same(SerialBackend(spec).evaluate(thetas, seeds), old)
    _assert_same(SerialBackend(spec, chunk=3).evaluate(thetas, seeds), old)
    with ProcessBackend(spec, workers=2) as pe:
        _assert_same(pe.evaluate(thetas, seeds), old)
    _assert_same(SerialBackend(spec).evaluate(thetas, seeds[0]), task.evaluate(thetas, seeds[0]))


def test_a_generations_episodes_drive_distinct_training_tracks():
    from evo.run import generation_seeds

    tracks = [f"procedural:{i}" for i in range(1, 9)]
    task = _spec(tracks=tracks).build()
    firsts = set()
    for g in range(6):
        every = [task.variant(s)[0] for s in generation_seeds(5, g, 8)]
        assert sorted(every) == sorted(tracks)  # eight episodes: each track once
        three = [task.variant(s)[0] for s in generation_seeds(5, g, 3)]
        assert len(set(three)) == 3  # fewer episodes: still distinct tracks...
        firsts.add(three[0])
    assert len(firsts) > 1  # ...not always the same ones
    assert generation_seeds(5, 2, 8) == generation_seeds(5, 2, 8)
    assert generation_seeds(5, 2, 8) != generation_seeds(5, 3, 8)


def test_the_same_tracks_in_another_order_reuse_the_world_and_keep_the_seeds_order():
    spec = _spec(tracks=["procedural:1", "oval", "procedural:2:0.8"])
    task = spec.build()
    thetas = _thetas(task, 6)
    a = task.evaluate_episodes(thetas, [3, 4, 5])  # tracks 0, 1, 2
    world_a, order_a = task.episodes_world(6, [3, 4, 5])
    b = task.evaluate_episodes(thetas, [4, 5, 6])  # tracks 1, 2, 0
    world_b, order_b = task.episodes_world(6, [4, 5, 6])
    assert world_b is world_a and order_a == [0, 1, 2] and order_b == [2, 0, 1]
    for seeds, res in (([3, 4, 5], a), ([4, 5, 6], b)):
        for s, r in zip(seeds, res):
            _assert_same(r, task.evaluate(thetas, s))  # each seed's own result, in order
