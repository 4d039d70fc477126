"""Evolution runs: backends agree, resume is exact, bad input exits 2."""

import csv
import json
import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest

from common.config import ConfigError, build
from evo.backends import ProcessBackend, SerialBackend, split
from evo.config import EvolveConfig
from evo.run import EvolutionRun
from evo.tasks import TaskSpec
from nn.io import save_model
from nn.network import Network
from tests.conftest import REPO, assert_user_error
from tests.nn.figures import assert_integer_xticks, assert_legends_clear, assert_texts_inside

SMALL = {"population": 8, "generations": 3, "seed": 5,
         "cars": {"world": {"max_time": 4.0, "stall_time": 2.0}},
         "walkers": {"world": {"max_time": 2.0}}}


def small_cfg(**over):
    raw = {**SMALL, **over}
    return build(EvolveConfig, raw, "test: ")


def small_args(tmp_path, *extra):
    return ["--set", "cars.world.max_time=4.0", "--set", "cars.world.stall_time=2.0",
            "--population", "8", "--seed", "5", "--headless", "--quiet", *extra]


def test_split_covers_everything():
    for n, k in ((10, 3), (3, 8), (7, 1)):
        parts = split(n, k)
        assert sum(s.stop - s.start for s in parts) == n and parts[0].start == 0


@pytest.mark.parametrize("task,jitter", [("cars", 0.0), ("cars", 2.0), ("walkers", 0.0)])
def test_same_fitness_serial_and_process_pool(task, jitter):
    # with start jitter every car starts off-centre by its place in the population, so the
    # chunks (one world each) must start their cars where one world would
    cfg = small_cfg(task=task, cars={"world": {**SMALL["cars"]["world"], "start_jitter": jitter}})
    spec = TaskSpec(task, cfg.cars, cfg.walkers, cfg.policy)
    serial = SerialBackend(spec)
    n_params = serial.task.network().num_params
    thetas = np.random.default_rng(0).normal(0, 0.5, (9, n_params))
    a = serial.evaluate(thetas, seed=3)
    b = SerialBackend(spec, chunk=4).evaluate(thetas, seed=3)
    with ProcessBackend(spec, workers=2) as pe:
        c = pe.evaluate(thetas, seed=3)
    for other in (b, c):
        np.testing.assert_array_equal(a["fitness"], other["fitness"])
    assert a["agent_steps"] == c["agent_steps"]
    if jitter:  # the starts differ between cars, so equal fitness above is not by accident
        world = serial.task.world(len(thetas), 3)
        world.reset(3)
        assert len(np.unique(world.position.round(6), axis=0)) == len(thetas)


def test_several_episodes_average_and_backends_agree():
    from evo.run import generation_seeds

    cfg = small_cfg(cars={"world": {**SMALL["cars"]["world"], "start_jitter": 3.0}})
    spec = TaskSpec("cars", cfg.cars, cfg.walkers, cfg.policy)
    serial = SerialBackend(spec)
    thetas = np.random.default_rng(4).normal(0, 0.5, (7, serial.task.network().num_params))
    seeds = generation_seeds(5, 2, 3)
    assert len(set(seeds)) == 3 and generation_seeds(5, 2) == generation_seeds(5, 2, 1)
    one = [serial.evaluate(thetas, s) for s in seeds]
    assert not np.array_equal(one[0]["fitness"], one[1]["fitness"])  # the starts differ
    both = serial.evaluate(thetas, seeds)
    np.testing.assert_allclose(both["fitness"], np.mean([r["fitness"] for r in one], axis=0),
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(both["progress"], np.mean([r["progress"] for r in one], axis=0))
    assert both["agent_steps"] == sum(int(r["agent_steps"]) for r in one)
    chunked = SerialBackend(spec, chunk=3).evaluate(thetas, seeds)
    with ProcessBackend(spec, workers=2) as pe:
        pooled = pe.evaluate(thetas, seeds)
    for other in (chunked, pooled):
        np.testing.assert_array_equal(both["fitness"], other["fitness"])


def test_training_tracks_rotate_by_generation_and_backends_agree():
    tracks = ["procedural:1", "procedural:2", "oval"]
    cfg = small_cfg(cars={"world": {"max_time": 3.0}, "tracks": tracks})
    spec = TaskSpec("cars", cfg.cars, cfg.walkers, cfg.policy)
    task = spec.build()
    seeds = range(12)
    used = {task.world(4, s).track.name for s in seeds}
    assert len(used) == 3 and task.world(4).track.name == "default"  # no seed: `track`
    thetas = np.random.default_rng(2).normal(0, 0.5, (4, task.network().num_params))
    a = [task.evaluate(thetas, s)["fitness"] for s in (0, 1, 2)]
    # seeds 0, 1, 2 drive three different tracks: the same genomes fare differently
    assert len({task.variant(s) for s in (0, 1, 2)}) == 3
    assert not np.array_equal(a[0], a[1])
    with ProcessBackend(spec, workers=2) as pe:
        b = [pe.evaluate(thetas, s)["fitness"] for s in (0, 1, 2)]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_start_points_are_drawn_per_episode_and_backends_agree():
    cfg = small_cfg(cars={"world": {"max_time": 3.0}, "start_points": 4})
    spec = TaskSpec("cars", cfg.cars, cfg.walkers, cfg.policy)
    task = spec.build()
    starts = {tuple(task.world(3, s).track.start_position.round(3)) for s in range(40)}
    assert len(starts) == 4
    assert tuple(task.world(3).track.start_position.round(3)) in starts  # the start line
    thetas = np.random.default_rng(3).normal(0, 0.5, (5, task.network().num_params))
    seeds = [s for s in range(8) if task.variant(s)[1] != 0][:2]
    a = SerialBackend(spec).evaluate(thetas, seeds)
    with ProcessBackend(spec, workers=2) as pe:
        b = pe.evaluate(thetas, seeds)
    np.testing.assert_array_equal(a["fitness"], b["fitness"])


def test_car_fitness_is_progress_plus_a_weighted_bonus_for_finishing_early():
    info = {"progress": np.array([0.4, 1.0, 1.0]), "finished": np.array([False, True, True]),
            "time_alive": np.array([10.0, 30.0, 20.0])}
    for weight in (1.0, 0.25, 0.0):
        cfg = small_cfg(cars={"world": {"max_time": 40.0}, "time_bonus": weight})
        task = TaskSpec("cars", cfg.cars, cfg.walkers, cfg.policy).build()
        expected = info["progress"] + weight * np.array([0.0, 0.25, 0.5])
        np.testing.assert_allclose(task.fitness(info), expected)


def test_workers_run_single_threaded_blas_and_the_parent_keeps_its_setting(monkeypatch):
    from evo.backends import _worker_threads

    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    cfg = small_cfg()
    spec = TaskSpec("cars", cfg.cars, cfg.walkers, cfg.policy)
    thetas = np.random.default_rng(1).normal(0, 0.5, (4, spec.build().network().num_params))
    with ProcessBackend(spec, workers=2) as pe:
        pe.evaluate(thetas, seed=0)  # starts the workers
        seen = {pe._pool.submit(_worker_threads).result() for _ in range(4)}
    assert seen == {"1"}
    assert "OPENBLAS_NUM_THREADS" not in os.environ


def test_a_dead_worker_is_replaced_and_its_chunk_rerun():
    cfg = small_cfg()
    spec = TaskSpec("cars", cfg.cars, cfg.walkers, cfg.policy)
    thetas = np.random.default_rng(1).normal(0, 0.5, (6, spec.build().network().num_params))
    with ProcessBackend(spec, workers=2) as pe:
        first = pe.evaluate(thetas, seed=0)
        victim = next(iter(pe._pool._processes.values()))
        os.kill(victim.pid, signal.SIGKILL)
        victim.join(10)
        again = pe.evaluate(thetas, seed=0)
        assert pe.restarts >= 1
    np.testing.assert_array_equal(first["fitness"], again["fitness"])


def test_run_resume_equals_uninterrupted(tmp_path):
    full = EvolutionRun(small_cfg(generations=4), tmp_path / "full")
    assert full.run() == "completed"
    part = EvolutionRun(small_cfg(generations=2), tmp_path / "part")
    part.run()
    resumed = EvolutionRun.resume(tmp_path / "part", generations=4)
    assert resumed.generation == 2
    resumed.run()
    assert (tmp_path / "full" / "fitness.csv").read_bytes() == \
        (tmp_path / "part" / "fitness.csv").read_bytes()
    np.testing.assert_array_equal(full.strategy.best_params, resumed.strategy.best_params)
    rows = (tmp_path / "full" / "fitness.csv").read_text().splitlines()
    assert len(rows) == 5 and rows[0].startswith("generation,best,mean,median,worst,best_laps")
    best = [float(r.split(",")[-1]) for r in rows[1:]]
    assert best == sorted(best)  # the hall of fame never loses its best


def test_recheck_keeps_a_champion_only_on_the_mean_of_all_its_episodes(tmp_path):
    """With recheck_episodes, the hall of fame's fitness is the mean over the champion's
    generation episodes and its recheck episodes, each measured here again independently;
    a run and its resumed twin agree."""
    from evo.run import recheck_seeds
    from nn.io import load_model

    over = dict(generations=4, episodes=2, recheck_episodes=3,
                cars={"start_points": 4, "world": {"max_time": 4.0, "stall_time": 2.0,
                                                   "start_jitter": 1.5}})
    run = EvolutionRun(small_cfg(**over), tmp_path / "full")
    assert run.run() == "completed"
    spec = TaskSpec("cars", run.cfg.cars, run.cfg.walkers, run.cfg.policy)
    serial = SerialBackend(spec)
    theta = run.strategy.best_params[None, :]
    # its generation's fitness (as a member of the population: the row's best) and its
    # recheck episodes (played alone)
    scores = [(2 * row["best"] + 3 * serial.evaluate(theta, recheck_seeds(5, g, 3))
               ["fitness"][0]) / 5 for g, row in enumerate(run.rows)]
    assert run.strategy.best_fitness in scores
    rows = [r["best_ever"] for r in run.rows]
    assert rows == sorted(rows) and rows[-1] == run.strategy.best_fitness
    # the champion's one-generation best was higher than what it kept at least once: the
    # recheck did change something (start points and jitter make episodes differ)
    assert any(r["best"] > r["best_ever"] for r in run.rows)
    net, meta = load_model(tmp_path / "full" / "best.npz")
    np.testing.assert_array_equal(net.get_params(), run.strategy.best_params)
    assert meta["fitness"] == run.strategy.best_fitness
    part = EvolutionRun(small_cfg(**{**over, "generations": 2}), tmp_path / "part")
    part.run()
    resumed = EvolutionRun.resume(tmp_path / "part", generations=4)
    resumed.run()
    assert (tmp_path / "full" / "fitness.csv").read_bytes() == \
        (tmp_path / "part" / "fitness.csv").read_bytes()


def test_a_champion_that_fails_its_recheck_leaves_the_best_as_it_was():
    from evo.random_search import RandomSearch
    from evo.run import tell

    class Replay:  # plays back a fixed fitness for the recheck (the logic under test)
        def __init__(self, value):
            self.value, self.calls = value, []

        def evaluate(self, thetas, seeds):
            self.calls.append((thetas.copy(), list(seeds)))
            return {"fitness": np.array([self.value]), "agent_steps": np.array(7)}

    class Plain:
        def genomes(self, params):
            return params

    cfg = small_cfg(episodes=1, recheck_episodes=3)
    rs = RandomSearch(2, 3)
    first = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    improved, steps = tell(rs, Replay(4.0), Plain(), first, np.array([1.0, 8.0, 2.0]), cfg, 5, 0)
    assert improved and steps == 7 and rs.best_fitness == (8.0 + 3 * 4.0) / 4  # 5.0
    np.testing.assert_array_equal(rs.best_params, [2.0, 0.0])
    # a lucky 9 that rechecks at 3: (9 + 9) / 4 = 4.5 < 5, so the old champion stays
    lucky = Replay(3.0)
    second = np.array([[7.0, 1.0], [5.0, 1.0], [6.0, 1.0]])
    improved, steps = tell(rs, lucky, Plain(), second, np.array([0.0, 0.0, 9.0]), cfg, 5, 1)
    assert not improved and steps == 7 and rs.best_fitness == 5.0
    np.testing.assert_array_equal(rs.best_params, [2.0, 0.0])
    np.testing.assert_array_equal(lucky.calls[0][0], [[6.0, 1.0]])  # the generation's best
    # no new best: no recheck at all
    idle = Replay(100.0)
    assert tell(rs, idle, Plain(), second, np.array([1.0, 2.0, 3.0]), cfg, 5, 2) == (False, 0)
    assert idle.calls == []


def cli_env():
    return {**os.environ, "PYTHONPATH": str(REPO)}


def interrupted_cli(when: str, signals: str, *args, **popen):
    """``neuroevo ARGS`` in a process that sends itself ``signals`` at ``when``
    (tests/interrupt_at.py): the signal lands at that point of the run, every time."""
    return subprocess.Popen([sys.executable, "-m", "tests.interrupt_at", when, signals,
                             *args], cwd=REPO, env=cli_env(), **popen)


@pytest.mark.parametrize("when", [
    "generation:3",  # two generations finished, the third under way
    "checkpoint:3",  # the third's tables and best.npz written, its checkpoint not yet
])
def test_sigkill_then_resume_gives_identical_fitness_csv(tmp_path, cli, when):
    ref = cli("evolve", "cars", *small_args(tmp_path, "--generations", "6", "--out",
                                            str(tmp_path / "ref")))
    assert ref.returncode == 0, ref.stderr
    out = tmp_path / "killed"
    proc = interrupted_cli(when, "KILL", "evolve", "cars",
                           *small_args(tmp_path, "--generations", "6", "--out", str(out)),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert proc.wait(120) == -signal.SIGKILL
    written = 3 if when.startswith("checkpoint") else 2  # the tables ran ahead of it
    assert len((out / "fitness.csv").read_text().splitlines()) - 1 == written
    res = cli("evolve", "cars", "--resume", str(out), "--generations", "6", "--headless",
              "--quiet")
    assert res.returncode == 0, res.stderr
    assert (out / "fitness.csv").read_bytes() == (tmp_path / "ref" / "fitness.csv").read_bytes()
    rep = cli("replay", str(out / "best.npz"), "--headless", "--json")
    assert rep.returncode == 0, rep.stderr


def test_ctrl_c_checkpoints_and_exits_130(tmp_path):
    out = tmp_path / "run"
    proc = interrupted_cli("generation:3", "INT", "evolve", "cars",
                           *small_args(tmp_path, "--generations", "500", "--out", str(out)),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "--resume" in err
    assert (out / "checkpoint.npz").exists() and (out / "best.npz").exists()
    # the generation under way when Ctrl-C came finished; the message names it as
    # fitness.csv numbers it
    assert "interrupted after generation 3; resume with --resume" in err, err
    assert generations(out / "fitness.csv") == [1, 2, 3]
    assert EvolutionRun.resume(out).generation == 3  # and the checkpoint holds it


def generations(path):
    return [int(r["generation"]) for r in csv.DictReader(open(path))]


def same_rows(a: list[dict], b: list[dict]) -> bool:
    """Rows equal number for number (NaN equal to NaN: a generation without a lap)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_generations_count_from_1_in_tables_checkpoint_and_plot(tmp_path):
    run = EvolutionRun(small_cfg(generations=3), tmp_path / "r")
    assert run.run() == "completed"
    assert generations(tmp_path / "r" / "fitness.csv") == [1, 2, 3]
    assert generations(tmp_path / "r" / "timing.csv") == [1, 2, 3]
    assert run.generation == 3 == run.rows[-1]["generation"]  # finished = the last one's
    resumed = EvolutionRun.resume(tmp_path / "r")  # the checkpoint holds the same rows
    assert same_rows(resumed.rows, run.rows) and resumed.timing == run.timing
    fig = run.fitness_figure()
    ax = fig.axes[0]
    assert [list(line.get_xdata()) for line in ax.lines] == [[1, 2, 3]] * 3
    assert assert_integer_xticks(ax) == [1, 2, 3]
    assert_legends_clear(fig)
    assert_texts_inside(fig)
    labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert labels == ["worst to best", "best", "median", "mean"]
    assert (tmp_path / "r" / "fitness.png").read_bytes()[:4] == b"\x89PNG"


def test_a_version_1_checkpoint_resumes_with_generations_from_1(tmp_path):
    """Checkpoints written before generations counted from 1 (version 1: rows numbered from
    0) resume into the same fitness.csv as a run of today."""
    full = EvolutionRun(small_cfg(generations=3), tmp_path / "full")
    full.run()
    EvolutionRun(small_cfg(generations=2), tmp_path / "part").run()
    path = tmp_path / "part" / "checkpoint.npz"
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["meta"]))
    assert meta["version"] == 2 and meta["generation"] == 2
    arrays["rows"][:, 0] -= 1  # as version 1 stored them: 0, 1
    arrays["timing"][:, 0] -= 1
    arrays["meta"] = np.array(json.dumps({**meta, "version": 1}))
    np.savez(path, **arrays)
    resumed = EvolutionRun.resume(tmp_path / "part", generations=3)
    assert [r["generation"] for r in resumed.rows] == [1, 2]
    assert [r["generation"] for r in resumed.timing] == [1, 2]
    resumed.run()
    assert (tmp_path / "full" / "fitness.csv").read_bytes() == \
        (tmp_path / "part" / "fitness.csv").read_bytes()
    assert generations(tmp_path / "part" / "timing.csv") == [1, 2, 3]
    arrays["meta"] = np.array(json.dumps({**meta, "version": 99}))
    np.savez(path, **arrays)
    with pytest.raises(ConfigError, match="version 99"):
        EvolutionRun.resume(tmp_path / "part")


def test_until_lap_names_the_generation_as_fitness_csv_does(tmp_path, cli):
    out = tmp_path / "lap"
    proc = cli("evolve", "cars", "--until-lap", "--seed", "1", "--headless", "--quiet",
               "--set", "cars.tracks=[]", "--set", "episodes=1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    lap = re.search(r"^first lap completed in generation (\d+)$", proc.stdout, re.M)
    done = re.search(r"^generations: (\d+) ", proc.stdout, re.M)
    assert lap and done, proc.stdout
    rows = list(csv.DictReader(open(out / "fitness.csv")))
    assert [int(r["generation"]) for r in rows] == list(range(1, len(rows) + 1))
    assert int(lap.group(1)) == int(done.group(1)) == len(rows) > 1
    assert float(rows[-1]["best_laps"]) >= 1 > max(float(r["best_laps"]) for r in rows[:-1])
    # the lap time is recorded: NaN until a car laps, then the best car's fastest lap,
    # which a replay of best.npz drives again
    assert all(r["best_lap_time"] == "nan" for r in rows[:-1])
    lap_time = float(rows[-1]["best_lap_time"])
    assert 10.0 < lap_time < 90.0  # within the episode (cars.world.max_time)
    rep = cli("replay", str(out / "best.npz"), "--headless", "--json")
    assert rep.returncode == 0, rep.stderr
    assert json.loads(rep.stdout)["lap_time"] == pytest.approx(lap_time)
    text = cli("replay", str(out / "best.npz"), "--headless").stdout
    assert text.rstrip().endswith(f"lap time: {lap_time:.2f} s")


def test_replay_prints_the_contract_line(tmp_path, cli):
    run = EvolutionRun(small_cfg(generations=1), tmp_path / "r")
    run.run()
    proc = cli("replay", str(tmp_path / "r" / "best.npz"), "--headless")
    assert proc.returncode == 0, proc.stderr
    import re

    m = re.fullmatch(r"progress: (\S+) laps: (\d+) crashed: (yes|no) time: (\S+) s"
                     r"( lap time: \S+ s)?\n", proc.stdout)
    assert m, proc.stdout
    assert float(m.group(1)) == pytest.approx(run.rows[0]["best_progress"], abs=1e-4)


@pytest.mark.parametrize("args,fragment", [
    (["--population", "0"], "population"),
    (["--generations", "-1"], "generations"),
    (["--set", "strategy.ga.mutation_rate=1.5"], "mutation_rate"),
    (["--set", "strategy.name=nope"], "strategy.name"),
    (["--set", "evaluation.backend=gpu"], "evaluation.backend"),
    (["--set", "evaluation.workers=-2"], "evaluation.workers"),
    (["--set", "cars.world.sensors.n_rays=0"], "n_rays"),
    (["--set", "bogus=1"], "bogus"),
    (["--set", "episodes=0"], "episodes"),
    (["--set", "recheck_episodes=-1"], "recheck_episodes"),
    (["--set", "cars.start_points=0"], "start_points"),
    (["--set", "cars.time_bonus=-1"], "time_bonus"),
    (["--set", "cars.tracks=[default, procedural:x]"], "procedural:x"),
    (["--set", "strategy.name=es", "--population", "7"], "must be even"),
    (["--set", "strategy.ga.elite=60"], "strategy.ga.elite"),
])
def test_bad_evolve_input_exits_2(cli, args, fragment):
    assert_user_error(cli("evolve", "cars", "--headless", "--quiet", *args), fragment)


def test_bad_track_file_exits_2(tmp_path, cli):
    bad = tmp_path / "track.yaml"
    bad.write_text("name: tiny\nwidth: 12\ncenterline: [[0, 0], [10, 0], [10, 10]]\n")
    assert_user_error(cli("evolve", "cars", "--headless", "--track", str(bad)), "track.yaml")


def test_resume_of_an_empty_directory_exits_2(tmp_path, cli):
    assert_user_error(cli("evolve", "cars", "--resume", str(tmp_path)), "no run to resume")


def test_replay_refuses_a_network_of_the_wrong_shape(tmp_path, cli):
    net = Network([9, 4, 2], ["tanh", "tanh"], loss="mse", dtype=np.float64)
    save_model(tmp_path / "p.npz", net, kind="policy", task="cars", task_config={},
               policy={"hidden": [4], "activation": "tanh"})
    assert_user_error(cli("replay", str(tmp_path / "p.npz"), "--headless"), "9 inputs")
    save_model(tmp_path / "m.npz", net)
    assert_user_error(cli("replay", str(tmp_path / "m.npz"), "--headless"), "not a policy")


def test_ctrl_c_in_the_first_generation_leaves_a_run_that_resumes(tmp_path, cli):
    out = tmp_path / "run"
    args = small_args(tmp_path, "--generations", "1")
    # the first Ctrl-C asks to stop after the generation, the second stops it now
    proc = interrupted_cli("generation:1", "INT,INT", "evolve", "cars", *args, "--out",
                           str(out), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "before generation 1 finished; resume with --resume" in err
    assert not (out / "fitness.csv").read_text().splitlines()[1:]  # nothing finished
    res = cli("evolve", "cars", "--resume", str(out), "--headless", "--quiet")
    assert res.returncode == 0, res.stderr
    ref = cli("evolve", "cars", *args, "--out", str(tmp_path / "ref"))
    assert ref.returncode == 0, ref.stderr
    assert (out / "fitness.csv").read_bytes() == (tmp_path / "ref" / "fitness.csv").read_bytes()


def test_a_folder_that_holds_a_run_is_never_overwritten(tmp_path, cli):
    out = tmp_path / "run"
    first = cli("evolve", "cars", *small_args(tmp_path, "--out", str(out)))
    assert first.returncode == 0, first.stderr
    before = {f.name: f.read_bytes() for f in out.iterdir()}
    again = cli("evolve", "cars", *small_args(tmp_path, "--out", str(out), "--seed", "6"))
    assert_user_error(again, "already holds a run", f"--resume {out}", "--force")
    assert {f.name: f.read_bytes() for f in out.iterdir()} == before  # nothing lost
    # --force with a run that cannot start (a missing track) loses nothing either
    bad = cli("evolve", "cars", *small_args(tmp_path, "--out", str(out), "--force",
                                            "--track", str(tmp_path / "nosuch.yaml")))
    assert_user_error(bad, "nosuch.yaml")
    assert {f.name: f.read_bytes() for f in out.iterdir()} == before
    forced = cli("evolve", "cars", *small_args(tmp_path, "--out", str(out), "--seed", "6",
                                               "--force"))
    assert forced.returncode == 0, forced.stderr
    assert (out / "fitness.csv").read_bytes() != before["fitness.csv"]


def test_resuming_as_another_task_and_options_that_do_not_apply_are_refused(tmp_path, cli):
    out = tmp_path / "walk"
    w = cli("evolve", "walkers", "--generations", "1", "--population", "4", "--headless",
            "--quiet", "--set", "walkers.world.max_time=1", "--out", str(out))
    assert w.returncode == 0, w.stderr
    assert_user_error(cli("evolve", "cars", "--resume", str(out), "--headless"),
                      "evolves walkers, not cars")
    assert_user_error(cli("evolve", "walkers", "--track", "oval", "--headless"),
                      "--track applies to cars")
    assert_user_error(cli("evolve", "walkers", "--until-lap", "--headless"),
                      "--until-lap applies to cars")
    assert_user_error(cli("evolve", "walkers", "--resume", str(out), "--seed", "3"),
                      "--seed does not apply")


@pytest.mark.parametrize("damage", ["garbage", "truncated", "version"])
def test_a_damaged_checkpoint_is_one_line_and_left_alone(tmp_path, cli, damage):
    out = tmp_path / "run"
    assert cli("evolve", "cars", *small_args(tmp_path, "--generations", "1", "--out",
                                             str(out))).returncode == 0
    path = out / "checkpoint.npz"
    if damage == "garbage":
        path.write_bytes(b"\x00" * 64)
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:200])
    else:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(str(arrays["meta"]))
        meta["version"] = 99
        arrays["meta"] = np.array(json.dumps(meta))
        np.savez(path, **arrays)
    before = path.read_bytes()
    proc = cli("evolve", "cars", "--resume", str(out), "--headless", "--quiet")
    expected = {"garbage": "not a checkpoint", "truncated": "unreadable checkpoint",
                "version": "version 99"}[damage]
    assert_user_error(proc, str(path), expected)
    assert path.read_bytes() == before
