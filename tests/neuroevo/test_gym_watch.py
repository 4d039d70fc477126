"""The live window of ``evolve gym:ENV_ID`` (environments with ``rgb_array`` frames): the
run's numbers are the headless run's, and each generation's best genome plays an episode
in the environment's own frames beside the panel.  Real windows (tests/gui.py)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from common.config import build
from tests.conftest import run_cli
from tests.gui import gui  # noqa: F401 - the session fixture

pytest.importorskip("gymnasium", reason="the gym extra: pip install -e '.[gym]'")


def small(**over):
    from evo.config import EvolveConfig

    raw = {"task": "gym:CartPole-v1", "population": 6, "generations": 3, "seed": 2,
           "policy": {"hidden": [4]}, **over}
    return build(EvolveConfig, raw, "test: ")


def test_the_window_evolves_as_headless_and_shows_each_generations_best(
        gui, tmp_path):  # noqa: F811
    from evo.backends import SerialBackend
    from evo.run import EvolutionRun
    from neuroevo.gym_view import GymView
    from neuroevo.gym_watch import GymWindowBackend

    headless = EvolutionRun(small(), tmp_path / "headless")
    assert headless.run() == "completed"
    run = EvolutionRun(small(), tmp_path / "window")
    view = GymView(run.task, np.zeros(run.net.num_params), np.zeros(4), np.ones(4), {},
                   model=tmp_path / "window" / "best.npz", screenshot=tmp_path / "x.png",
                   frames=10**6, speed=16, history=([], "generation"))
    shown = []  # (heading, fitness shown, frames drawn so far) per generation
    backend = GymWindowBackend(run, view, SerialBackend(run.spec))
    play = view.play_episode

    def recording(seed):
        play(seed)
        shown.append((view.heading, view.meta["fitness"], view.frame, view.t))

    view.play_episode = recording
    try:
        assert run.run(backend) == "completed"
    finally:
        view.close()
    assert (tmp_path / "window" / "fitness.csv").read_text() == \
        (tmp_path / "headless" / "fitness.csv").read_text()
    rows = list(csv.DictReader(open(tmp_path / "window" / "fitness.csv")))
    assert [h for h, *_ in shown] == [f"gym:CartPole-v1: generation {g} / 3, its best"
                                      for g in (1, 2, 3)]
    assert [f for _, f, *_ in shown] == [float(r["best"]) for r in rows]
    frames = [n for *_, n, _ in shown]
    assert frames[0] > 0 and frames == sorted(frames)  # every generation drew frames
    assert all(t > 0 for *_, t in shown)  # and played steps of an episode
    np.testing.assert_allclose(view.graph.points[0][:, 1], [float(r["best"]) for r in rows])


def test_evolve_gym_screenshot_shows_the_environments_frames(gui, tmp_path):  # noqa: F811
    shot = tmp_path / "evolve.png"
    p = run_cli("evolve", "gym:CartPole-v1", "--population", "6", "--generations", "2",
                "--set", "policy.hidden=[4]", "--quiet", "--screenshot", str(shot),
                "--frames", "5", "--out", str(tmp_path / "run"))
    assert p.returncode == 0, p.stderr
    assert f"screenshot: {shot}" in p.stdout
    from matplotlib.image import imread

    img = imread(shot)
    h, w = img.shape[:2]
    assert (w, h) == (1280, 720)
    assert (img[:, : w - 330, :3] > 0.95).all(axis=2).mean() > 0.5  # CartPole's white frame
    assert img[:, w - 330:, :3].mean() < 0.3  # the dark panel
    assert "XDG_RUNTIME_DIR" not in p.stderr


def test_the_default_speed_plays_an_episode_in_a_few_seconds():
    from evo.gym_config import GymConfig
    from evo.gym_task import GymTask
    from evo.rollout import PolicyConfig
    from neuroevo.gym_view import SPEEDS
    from neuroevo.gym_watch import EPISODE_SECONDS, auto_speed, has_frames

    task = GymTask("CartPole-v1", GymConfig(), PolicyConfig())
    assert has_frames(task)
    # 500 steps at 50 frames per second: x2.5 plays it in 4 s, the next speed up is x4
    assert task.max_steps == 500 and EPISODE_SECONDS == 4.0
    assert auto_speed(task) == 4.0 and 4.0 in SPEEDS
    short = GymTask("CartPole-v1", GymConfig(max_steps=100), PolicyConfig())
    assert auto_speed(short) == 1.0  # never slower than real time
