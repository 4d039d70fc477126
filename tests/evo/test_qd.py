"""Quality diversity: the grid archive, the descriptors, the three QD strategies, and QD
runs (outputs, determinism, resume, backends, replay --cell, bad configs)."""

import csv
import json

import numpy as np
import pytest

from common.config import ConfigError, build
from evo.archive import (
    IMPROVED,
    NEW,
    NOT_ADDED,
    GridArchive,
    GridSpec,
    read_archive,
    write_archive,
)
from evo.config import EvolveConfig
from evo.qd import CMAME, MapElites, NoveltySearch, iso_line, novelty, unit_ranks
from evo.run import EvolutionRun
from tests.conftest import assert_user_error

GRID = GridSpec(("a", "b"), (0.0, -1.0), (1.0, 1.0), (4, 2))


# -- the archive --------------------------------------------------------------------------
def test_cells_of_hand_built_descriptors():
    d = np.array([[0.0, -1.0], [0.24, 0.0], [0.25, -0.01], [0.999, 0.999], [1.0, 1.0],
                  [-5.0, 7.0], [0.5, np.nan]])
    # a: 4 cells of 0.25 on [0, 1]; b: 2 cells of 1 on [-1, 1]; outside: the edge cell
    expected = np.array([[0, 0], [0, 1], [1, 0], [3, 1], [3, 1], [0, 1], [-1, -1]])
    np.testing.assert_array_equal(GRID.cell_of(d)[:6], expected[:6])
    assert (GRID.cell_of(d)[6] == -1).any()
    np.testing.assert_array_equal(GRID.index_of(d), [0, 1, 2, 7, 7, 1, -1])


def test_insertion_replaces_only_when_fitter():
    a = GridArchive(GRID, num_params=3)
    g = np.arange(15, dtype=float).reshape(5, 3)
    d = np.array([[0.1, -0.5], [0.1, -0.9], [0.6, 0.5], [0.6, 0.6], [0.3, 0.5]])
    f = np.array([1.0, 2.0, 5.0, 5.0, 0.5])
    status, value = a.add(g, f, d)
    # cell 0 gets both 0 and 1 (1 is fitter), cell 5 both 2 and 3 (equal: the first stays)
    np.testing.assert_array_equal(status, [NEW, NEW, NEW, NEW, NEW])
    np.testing.assert_array_equal(value, f)  # empty cells count as the offset, 0
    assert len(a) == 3 and a.filled.tolist() == [1, 0, 0, 1, 0, 1, 0, 0]
    np.testing.assert_array_equal(a.genomes[0], g[1])
    np.testing.assert_array_equal(a.genomes[5], g[2])
    np.testing.assert_array_equal(a.genomes[3], g[4])
    np.testing.assert_array_equal(a.descriptors[3], d[4])
    # a second batch: worse, equal, fitter, NaN fitness, NaN descriptor
    g2 = -np.arange(15, dtype=float).reshape(5, 3)
    d2 = np.array([[0.2, -0.2], [0.7, 0.9], [0.4, 0.1], [0.9, 0.9], [np.nan, 0.0]])
    f2 = np.array([1.5, 5.0, 0.75, np.nan, 9.0])
    status, value = a.add(g2, f2, d2)
    np.testing.assert_array_equal(status, [NOT_ADDED, NOT_ADDED, IMPROVED, NOT_ADDED, NOT_ADDED])
    np.testing.assert_allclose(value[:3], [-0.5, 0.0, 0.25])
    assert np.isnan(value[3:]).all()
    np.testing.assert_array_equal(a.genomes[0], g[1])
    np.testing.assert_array_equal(a.genomes[5], g[2])
    np.testing.assert_array_equal(a.genomes[3], g2[2])
    assert a.fitness[3] == 0.75 and len(a) == 3


def test_coverage_and_qd_score_by_hand():
    spec = GridSpec(("a",), (0.0,), (1.0,), (10,), offset=-2.0)
    a = GridArchive(spec, 1)
    a.add(np.zeros((4, 1)), np.array([-1.0, 3.0, -5.0, 0.0]),
          np.array([[0.05], [0.15], [0.25], [0.95]]))
    assert a.coverage == 0.4
    # fitness - offset: 1, 5, -3 -> 0 (clipped), 2
    assert a.qd_score == 8.0
    assert a.best == 3.0
    assert a.stats() == {"cells": 4.0, "coverage": 0.4, "qd_score": 8.0, "archive_best": 3.0}


def test_map2d_shows_the_fittest_elite_over_further_descriptors():
    spec = GridSpec(("a", "b", "c"), (0.0, 0.0, 0.0), (1.0, 1.0, 1.0), (2, 2, 3))
    a = GridArchive(spec, 1)
    d = np.array([[0.1, 0.1, 0.1], [0.1, 0.1, 0.9], [0.9, 0.1, 0.5]])
    a.add(np.zeros((3, 1)), np.array([1.0, 4.0, 2.0]), d)
    values, cell = a.map2d()
    np.testing.assert_array_equal(values, [[4.0, np.nan], [2.0, np.nan]])
    # (0, 0, 2) and (1, 0, 1) in C order over (2, 2, 3)
    np.testing.assert_array_equal(cell, [[2, -1], [7, -1]])
    one = GridArchive(GridSpec(("a",), (0.0,), (1.0,), (3,)), 1)
    one.add(np.zeros((1, 1)), np.array([5.0]), np.array([[0.5]]))
    np.testing.assert_array_equal(one.map2d()[1], [[-1], [1], [-1]])


def test_archive_file_round_trip_and_one_line_errors(tmp_path):
    a = GridArchive(GRID, 3)
    rng = np.random.default_rng(0)
    a.add(rng.normal(size=(20, 3)), rng.normal(size=20),
          rng.uniform([0, -1], [0.7, 1], (20, 2)))  # never column a = 3
    write_archive(tmp_path / "archive.npz", a, {"task": "cars"})
    back = read_archive(tmp_path / "archive.npz")
    for k in ("fitness", "genomes", "descriptors", "filled"):
        np.testing.assert_array_equal(getattr(back.archive, k), getattr(a, k))
    assert back.archive.spec == GRID and back.meta["task"] == "cars"
    with np.load(tmp_path / "archive.npz", allow_pickle=False) as z:
        cells = z["cell"]
        index = z["index"]
    np.testing.assert_array_equal(np.ravel_multi_index(tuple(cells.T), GRID.cells), index)
    with pytest.raises(ConfigError, match="empty"):
        back.elite((3, 1))
    with pytest.raises(ConfigError, match="out of range"):
        back.elite((4, 0))
    (tmp_path / "x.npz").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ConfigError, match="x.npz"):
        read_archive(tmp_path / "x.npz")


@pytest.mark.parametrize("cells", [(10, 8), (4, 3, 5)])
def test_insertion_agrees_with_pyribs(cells):
    """pyribs' GridArchive (the `qd-ref` extra) as the independent reference: the same
    batches give the same status and value per candidate and the same elites per cell."""
    ribs = pytest.importorskip("ribs.archives")
    k = len(cells)
    low, high = np.linspace(-1, 0, k), np.linspace(1, 3, k)
    spec = GridSpec(tuple(f"d{i}" for i in range(k)), tuple(low), tuple(high), cells)
    ref = ribs.GridArchive(solution_dim=3, dims=list(cells), ranges=list(zip(low, high)))
    ours = GridArchive(spec, 3)
    rng = np.random.default_rng(0)
    for _ in range(5):
        x, f = rng.normal(size=(150, 3)), rng.normal(size=150) * 3
        d = rng.uniform(low - 0.3, high + 0.3, (150, k))  # some beyond the bounds
        info = ref.add(x, f, d)
        status, value = ours.add(x, f, d)
        np.testing.assert_array_equal(status, info["status"])
        np.testing.assert_allclose(value, info["value"], rtol=1e-12)
    data = ref.data()
    order = np.argsort(data["index"])
    np.testing.assert_array_equal(data["index"][order], np.flatnonzero(ours.filled))
    np.testing.assert_array_equal(data["objective"][order], ours.fitness[ours.filled])
    np.testing.assert_array_equal(data["solution"][order], ours.genomes[ours.filled])
    np.testing.assert_array_equal(data["measures"][order], ours.descriptors[ours.filled])
    assert ref.stats.coverage == pytest.approx(ours.coverage)


# -- strategies ---------------------------------------------------------------------------
def test_novelty_matches_brute_force():
    rng = np.random.default_rng(1)
    pts, ref = rng.uniform(size=(9, 3)), rng.uniform(size=(6, 3))
    for k in (1, 3, 14, 50):
        got = novelty(pts, ref, k)
        for i in range(len(pts)):
            others = [np.linalg.norm(pts[i] - q) for j, q in enumerate(pts) if j != i]
            others += [np.linalg.norm(pts[i] - q) for q in ref]
            assert got[i] == pytest.approx(np.mean(sorted(others)[:k]), rel=1e-12)


def test_unit_ranks_share_ties():
    np.testing.assert_allclose(unit_ranks(np.array([3.0, 1.0, 3.0, 2.0])),
                               [2.5 / 3, 0.0, 2.5 / 3, 1 / 3])


def test_iso_line_without_iso_noise_stays_on_the_line_of_two_elites():
    spec = GridSpec(("a",), (0.0,), (1.0,), (2,))
    a = GridArchive(spec, 3)
    x0, x1 = np.array([0.0, 0.0, 0.0]), np.array([1.0, 2.0, 3.0])
    a.add(np.stack([x0, x1]), np.ones(2), np.array([[0.2], [0.8]]))
    kids = iso_line(a, np.random.default_rng(0), 50, iso_sigma=0.0, line_sigma=0.5)
    # x_i + t (x_j - x_i): every child is a multiple of (1, 2, 3), parents never on their own
    np.testing.assert_allclose(np.cross(kids, x1), 0, atol=1e-12)


def test_parents_share_draws_only_the_fittest_elites():
    spec = GridSpec(("a",), (0.0,), (1.0,), (8,))
    a = GridArchive(spec, 1)
    fit = np.array([3.0, 7.0, 1.0, 7.5, 2.0, 0.5, 6.0, 4.0])
    a.add(np.arange(8.0)[:, None], fit, (np.arange(8.0)[:, None] + 0.5) / 8)
    # without noise a child is a copy of its first parent: the top quarter is cells 3 and 1
    kids = iso_line(a, np.random.default_rng(0), 200, 0.0, 0.0, top=0.25)
    assert set(kids[:, 0]) == {1.0, 3.0}
    # all elites: the classic draw, the same cells as before the option existed
    rng_a, rng_b = np.random.default_rng(4), np.random.default_rng(4)
    np.testing.assert_array_equal(a.sample(rng_a, 30),
                                  np.flatnonzero(a.filled)[rng_b.integers(0, 8, 30)])
    assert set(a.sample(np.random.default_rng(1), 400, top=0.5)) == {1, 3, 6, 7}


def test_map_elites_fills_a_sphere_grid():
    """The sphere of the pyribs tutorials (10-D), clipped-halves descriptors: the archive
    fills cells generation after generation and keeps every hall-of-fame genome's cell."""
    d = 10

    def sphere(x):
        raw = np.sum((x - 2.048) ** 2, axis=1)
        worst = (-5.12 - 2.048) ** 2 * d
        c = np.where(np.abs(x) > 5.12, 5.12 / np.where(x == 0, 1, x), x)
        return (raw - worst) / -worst * 100, np.stack([c[:, :5].sum(1), c[:, 5:].sum(1)], 1)

    spec = GridSpec(("x", "y"), (-d / 2 * 5.12,) * 2, (d / 2 * 5.12,) * 2, (20, 20))
    s = MapElites(d, 50, grid=spec, init_scale=0.5)
    rng = np.random.default_rng(0)
    coverage = []
    for _ in range(30):
        x = s.ask(rng)
        f, desc = sphere(x)
        s.tell(x, f, desc)
        coverage.append(s.archive.coverage)
    assert coverage[-1] > 2 * coverage[0] and coverage == sorted(coverage)
    assert s.best_fitness == s.archive.best


def test_cma_me_ranks_new_cells_first_and_restarts_without_additions():
    spec = GridSpec(("a",), (0.0,), (1.0,), (10,))
    s = CMAME(4, 4, grid=spec, settings=CMAME.Settings(emitters=1, sigma=0.1))
    rng = np.random.default_rng(0)
    x = s.ask(rng)
    s.tell(x, np.array([1.0, 2.0, 3.0, 4.0]), np.array([[0.05], [0.15], [0.25], [0.35]]))
    assert len(s.archive) == 4 and not s.restart.any()
    x = s.ask(rng)
    mean_before = s.emitters[0].mean.copy()
    # member 3 opens a new cell with low fitness; member 0 improves cell 0 by a lot; the
    # others do nothing: CMA-ES (mu = 2) must move toward members 3 and 0
    s.tell(x, np.array([100.0, 0.0, 0.0, 0.5]), np.array([[0.05], [0.15], [0.25], [0.95]]))
    step = s.emitters[0].mean - mean_before
    w = s.emitters[0].weights
    expected = w[0] * (x[3] - mean_before) + w[1] * (x[0] - mean_before)
    np.testing.assert_allclose(step, expected, rtol=1e-10, atol=1e-14)
    x = s.ask(rng)
    s.tell(x, np.full(4, -1.0), np.full((4, 1), 0.05))  # nothing enters the archive
    assert s.restart.all()
    s.ask(rng)
    assert s.restarts == 1 and not s.restart.any()


def test_cma_me_no_new_cells_rule_restarts_on_mere_improvements():
    spec = GridSpec(("a",), (0.0,), (1.0,), (10,))
    s = CMAME(3, 2, grid=spec, settings=CMAME.Settings(emitters=1, restart="no_new_cells"))
    rng = np.random.default_rng(0)
    x = s.ask(rng)
    s.tell(x, np.array([1.0, 1.0]), np.array([[0.05], [0.15]]))
    assert not s.restart.any()
    x = s.ask(rng)
    s.tell(x, np.array([2.0, 2.0]), np.array([[0.05], [0.15]]))  # better, but no new cell
    assert s.restart.all()


def test_novelty_search_prefers_novel_members_when_weighted_so():
    spec = GridSpec(("a",), (0.0,), (1.0,), (10,))
    s = NoveltySearch(2, 5, grid=spec, settings=NoveltySearch.Settings(
        novelty_weight=1.0, parents=0.2, elite=1, k=1, archive_add=1))
    x = s.ask(np.random.default_rng(0))
    # members 0..3 crowd near 0.5, member 4 alone at 0.95 (but the least fit)
    s.tell(x, np.array([5.0, 4.0, 3.0, 2.0, 1.0]),
           np.array([[0.5], [0.51], [0.52], [0.53], [0.95]]))
    np.testing.assert_array_equal(s._parents[0], x[4])
    np.testing.assert_allclose(s.novelty_archive, [[0.95]])
    assert len(s.archive) == 2  # 0.5..0.53 share cell 5; 0.95 is cell 9


# -- runs ---------------------------------------------------------------------------------
QD = {"descriptors": ["mean_speed", "mean_abs_steering"], "cells": [6, 5]}


def qd_cfg(strategy="map-elites", **over):
    raw = {"population": 6, "generations": 3, "seed": 2,
           "cars": {"world": {"max_time": 2.0, "stall_time": 1.0}},
           "strategy": {"name": strategy, "cma_me": {"emitters": 2}},
           "qd": QD, **over}
    return build(EvolveConfig, raw, "test: ")


def archive_arrays(path):
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files if k != "meta"}


@pytest.mark.parametrize("strategy", ["map-elites", "novelty", "cma-me"])
def test_resume_gives_the_same_archive_bit_for_bit(tmp_path, strategy):
    full = EvolutionRun(qd_cfg(strategy, generations=4), tmp_path / "full")
    assert full.run() == "completed"
    EvolutionRun(qd_cfg(strategy, generations=2), tmp_path / "part").run()
    resumed = EvolutionRun.resume(tmp_path / "part", generations=4)
    resumed.run()
    a, b = archive_arrays(tmp_path / "full/archive.npz"), archive_arrays(
        tmp_path / "part/archive.npz")
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert (tmp_path / "full/qd.csv").read_bytes() == (tmp_path / "part/qd.csv").read_bytes()
    assert len(a["index"]) > 1


def test_a_run_resumes_from_its_checkpoint_before_the_first_generation(tmp_path):
    run = EvolutionRun(qd_cfg("cma-me", generations=0), tmp_path / "r")
    run.run()  # the checkpoint of a run that has not started: an empty archive
    resumed = EvolutionRun.resume(tmp_path / "r", generations=1)
    assert len(resumed.archive) == 0
    resumed.run()
    assert len(read_archive(tmp_path / "r/archive.npz").archive) > 0


def test_qd_run_outputs_and_same_seed_same_archive(tmp_path):
    runs = [EvolutionRun(qd_cfg(), tmp_path / str(i)) for i in range(2)]
    for r in runs:
        r.run()
    a, b = (archive_arrays(tmp_path / f"{i}/archive.npz") for i in range(2))
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    out = tmp_path / "0"
    assert (out / "archive.png").stat().st_size > 1000
    rows = list(csv.DictReader(open(out / "qd.csv")))
    assert [int(r["generation"]) for r in rows] == [1, 2, 3]
    arc = runs[0].archive
    # qd.csv's last row is the archive; coverage, score and best recomputed from the file
    assert float(rows[-1]["cells"]) == len(a["index"]) == len(arc)
    assert float(rows[-1]["coverage"]) == pytest.approx(len(a["index"]) / 30)
    assert float(rows[-1]["qd_score"]) == pytest.approx(np.maximum(a["fitness"], 0).sum())
    assert float(rows[-1]["best"]) == a["fitness"].max() == runs[0].strategy.best_fitness
    # each elite's descriptors are in its cell
    np.testing.assert_array_equal(arc.spec.cell_of(a["descriptors"]), a["cell"])
    meta = json.loads(str(np.load(out / "archive.npz")["meta"]))
    assert meta["format"] == "neuroevo-archive" and meta["descriptors"] == QD["descriptors"]
    # the heatmap: the elites' fitness in their cells, blank elsewhere
    from evo.archive import archive_figure
    from tests.nn.figures import assert_texts_inside

    fig = archive_figure(arc, "cars", " (laps)")
    assert_texts_inside(fig)
    shown = fig.axes[0].images[0].get_array()  # (cells of b, cells of a)
    assert shown.shape == (5, 6)
    grid = np.ma.filled(np.ma.asarray(shown, float), np.nan).T  # (cells of a, cells of b)
    np.testing.assert_array_equal(np.flatnonzero(np.isfinite(grid).ravel()), a["index"])
    np.testing.assert_array_equal(grid.ravel()[a["index"]], a["fitness"])


def test_descriptors_are_the_episode_means_of_the_world(tmp_path):
    """A car's mean speed and mean |steer| as the world reports them equal the means of the
    per-step speed and action over the steps it drove, computed here step by step."""
    from sims.car_world import CarWorld, CarWorldConfig

    world = CarWorld("default", 5, CarWorldConfig(max_time=6.0, stall_time=2.0,
                                                       stall_distance=2.0), behaviour=True)
    rng = np.random.default_rng(0)
    world.reset(seed=0)
    speed, steer, lateral, steps = np.zeros(5), np.zeros(5), np.zeros(5), np.zeros(5)
    while not world.done.all():
        act = np.column_stack([rng.uniform(-0.2, 1, 5), rng.uniform(-1, 1, 5)])
        act[3] = [0.0, 0.0]  # one that stalls early
        act[4] = [1.0, 0.0]  # one that drives straight into the first bend
        alive = ~world.done
        world.step(act)
        steps += alive
        speed += np.abs(world.speed) * alive
        steer += np.abs(act[:, 1]) * alive
        lateral += world.progress.lateral * alive
    info = world.info()
    np.testing.assert_allclose(info["sum_speed"], speed, rtol=1e-12)
    np.testing.assert_allclose(info["sum_abs_steering"], steer, rtol=1e-12)
    np.testing.assert_allclose(info["sum_lateral"], lateral, rtol=1e-12, atol=1e-12)
    assert steps[3] < steps.max() and world.stalled[3]
    # the task's descriptors are those sums over the steps driven
    from evo.rollout import PolicyConfig
    from evo.tasks import CarsConfig, CarTask

    task = CarTask(CarsConfig(world=world.config), PolicyConfig())
    task.set_descriptors(["mean_speed", "mean_abs_steering", "mean_lateral"])
    out = task.describer.values(info)
    np.testing.assert_allclose(out["desc_mean_speed"], speed / steps, rtol=1e-12)
    np.testing.assert_allclose(out["desc_mean_abs_steering"], steer / steps, rtol=1e-12)
    np.testing.assert_allclose(out["desc_mean_lateral"], lateral / steps, rtol=1e-12,
                               atol=1e-12)


def test_walker_foot_contact_is_the_share_of_steps_a_foot_touched(tmp_path):
    from sims.walker_world import WalkerWorld, WalkerWorldConfig

    world = WalkerWorld("biped", 3, WalkerWorldConfig(max_time=1.5))
    world.reset(seed=0)
    rng = np.random.default_rng(0)
    feet = len(world.spec.feet)
    touch, angle, steps = np.zeros((3, feet)), np.zeros(3), np.zeros(3)
    while not world.done.all():
        alive = ~world.done
        obs, *_ = world.step(rng.uniform(-1, 1, (3, world.act_dim)))
        j = world.n_joints
        touch += obs[:, 5 + 2 * j:5 + 2 * j + feet] * alive[:, None]
        angle += obs[:, 0] * alive
        steps += alive
    info = world.info()
    for f in range(feet):
        np.testing.assert_allclose(info[f"foot_contact_{f}"], touch[:, f] / steps)
    np.testing.assert_allclose(info["mean_torso_angle"], angle / steps)
    assert touch.sum() > 0


def test_walkers_qd_run_and_descriptor_count_checked():
    cfg = qd_cfg(task="walkers", walkers={"world": {"max_time": 1.0}},
                 qd={"descriptors": ["foot_contact_0", "foot_contact_1"], "cells": [4, 4]},
                 generations=1)
    run = EvolutionRun(cfg, "/nonexistent-never-written")
    assert run.grid.low == (0.0, 0.0) and run.grid.high == (1.0, 1.0)
    bad = qd_cfg(task="walkers", qd={"descriptors": ["foot_contact_7"], "cells": [4]})
    with pytest.raises(ConfigError, match="foot_contact_7"):
        EvolutionRun(bad, "/nonexistent-never-written")


def test_serial_and_process_backends_give_the_same_archive(tmp_path):
    a = EvolutionRun(qd_cfg("cma-me", generations=2), tmp_path / "s")
    a.run()
    b = EvolutionRun(qd_cfg("cma-me", generations=2,
                            evaluation={"backend": "process", "workers": 2}), tmp_path / "p")
    b.run()
    x, y = archive_arrays(tmp_path / "s/archive.npz"), archive_arrays(tmp_path / "p/archive.npz")
    for k in x:
        np.testing.assert_array_equal(x[k], y[k])


def test_a_ga_run_with_descriptors_fills_an_archive_too(tmp_path):
    run = EvolutionRun(qd_cfg("ga", generations=2), tmp_path / "ga")
    run.run()
    assert len(read_archive(tmp_path / "ga/archive.npz").archive) == len(run.archive) > 0
    resumed = EvolutionRun.resume(tmp_path / "ga", generations=3)
    assert len(resumed.archive) == len(run.archive)


# -- the command line ---------------------------------------------------------------------
def test_replay_of_an_archive_cell_drives_that_elite(tmp_path, cli):
    out = tmp_path / "run"
    res = cli("evolve", "cars", "--headless", "--quiet", "--population", "6",
              "--generations", "2", "--out", str(out), "--set", "strategy.name=map-elites",
              "--set", "qd.descriptors=[mean_speed,mean_abs_steering]",
              "--set", "qd.cells=[4,4]", "--set", "cars.world.max_time=2",
              "--set", "cars.world.start_jitter=0", "--set", "episodes=1",
              "--set", "cars.tracks=[]")  # the run drives cars.track, as replay does
    assert res.returncode == 0, res.stderr
    found = read_archive(out / "archive.npz")
    filled = np.flatnonzero(found.archive.filled)
    for i in filled[:2]:
        cell = np.unravel_index(i, found.archive.spec.cells)
        rep = cli("replay", str(out / "archive.npz"), "--cell", ",".join(map(str, cell)),
                  "--headless", "--json")
        assert rep.returncode == 0, rep.stderr
        # the replay drives from the start line like the run's episode did: same progress
        progress = json.loads(rep.stdout.strip().splitlines()[-1])["progress"]
        assert progress == pytest.approx(found.archive.fitness[i], rel=1e-9)
    empty = next(i for i in range(16) if not found.archive.filled[i])
    cell = ",".join(map(str, np.unravel_index(empty, (4, 4))))
    assert_user_error(cli("replay", str(out / "archive.npz"), "--cell", cell, "--headless"),
                      "empty")
    assert_user_error(cli("replay", str(out / "archive.npz"), "--cell", "4,0", "--headless"),
                      "out of range")
    assert_user_error(cli("replay", str(out / "archive.npz"), "--headless"), "--cell")


@pytest.mark.parametrize("sets,words", [
    (["qd.descriptors=[mean_speed,warp]", "qd.cells=[5,5]"], ["qd.descriptors", "warp"]),
    (["qd.descriptors=[mean_speed,mean_abs_steering]", "qd.cells=[5]"], ["qd.cells"]),
    (["qd.descriptors=[mean_speed]", "qd.cells=[5]", "qd.bounds=[[3,1]]"], ["qd.bounds"]),
    (["qd.descriptors=[mean_speed]", "qd.cells=[0]"], ["qd.cells"]),
    (["qd.descriptors=[mean_speed]", "qd.cells=[5]", "strategy.map_elites.parents=0"],
     ["parents"]),
    ([], ["qd.descriptors", "map-elites"]),
])
def test_bad_qd_config_is_one_line_exit_2(cli, sets, words):
    args = ["evolve", "cars", "--headless", "--generations", "1", "--set",
            "strategy.name=map-elites"]
    for s in sets:
        args += ["--set", s]
    assert_user_error(cli(*args), *words)


@pytest.mark.parametrize("name", ["cars-qd", "walkers-qd", "cars-maze"])
def test_shipped_qd_configs_build_their_runs(name, tmp_path):
    from common.config import load_config
    from common.resources import shipped_file

    cfg = load_config(EvolveConfig, shipped_file("", name), [])
    run = EvolutionRun(cfg, tmp_path / "never-written")
    assert run.strategy.uses_descriptors and run.grid.size == np.prod(cfg.qd.cells)
    assert not (tmp_path / "never-written").exists()


@pytest.mark.xdist_group("ray")  # one Ray at a time (make test runs the suite on every core)
def test_ray_backend_gives_the_serial_archive(tmp_path):
    pytest.importorskip("ray")  # CI installs the extra (a skip fails there)
    cfg = dict(generations=2, episodes=2,
               qd={"descriptors": ["mean_speed", "mean_abs_steering"], "cells": [8, 8]})
    EvolutionRun(qd_cfg("novelty", **cfg), tmp_path / "s").run()
    EvolutionRun(qd_cfg("novelty", evaluation={"backend": "ray", "workers": 2}, **cfg),
                 tmp_path / "r").run()
    x, y = archive_arrays(tmp_path / "s/archive.npz"), archive_arrays(tmp_path / "r/archive.npz")
    assert len(x["index"]) > 1
    for k in x:
        np.testing.assert_array_equal(x[k], y[k])
