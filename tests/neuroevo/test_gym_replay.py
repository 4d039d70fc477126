"""``neuroevo replay`` of gym models: --json numbers against an independent evaluation, no
window without a display or with --headless, and the window's screenshot."""

from __future__ import annotations

import json

import numpy as np
import pytest

from common.config import build
from tests.conftest import assert_user_error, run_cli
from tests.gui import gui  # noqa: F401 - the session fixture
from tests.gym_checks import greedy_episode

gym = pytest.importorskip("gymnasium", reason="the gym extra: pip install -e '.[gym]'")


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from evo.config import EvolveConfig
    from evo.run import EvolutionRun

    out = tmp_path_factory.mktemp("cartpole")
    cfg = build(EvolveConfig, {"task": "gym:CartPole-v1", "population": 8, "generations": 3,
                               "policy": {"hidden": [4]}}, "test: ")
    EvolutionRun(cfg, out).run()
    return out / "best.npz"


def test_json_matches_single_environment_episodes(model):
    p = run_cli("replay", str(model), "--episodes", "4", "--seed", "7", "--json",
                "--headless")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert set(out) >= {"mean_return", "std_return", "episodes"} and out["episodes"] == 4
    # the reference: the saved network and normaliser, one gymnasium env per episode
    from nn.io import load_model

    net, meta = load_model(model)
    mean, scale = np.array(meta["obs_mean"]), np.array(meta["obs_scale"])
    returns = [greedy_episode(gym.make("CartPole-v1"), net, mean, scale, 7 + i)
               for i in range(4)]
    assert out["returns"] == returns
    assert out["mean_return"] == pytest.approx(np.mean(returns))
    assert out["std_return"] == pytest.approx(np.std(returns))


def test_no_display_replays_headless(model):
    env = {"DISPLAY": "", "NEUROEVO_HEADLESS": "0", "WAYLAND_DISPLAY": ""}
    p = run_cli("replay", str(model), "--episodes", "2", env=env)
    assert p.returncode == 0, p.stderr
    assert "replaying headless" in p.stderr and "mean return" in p.stdout


def test_window_screenshot(model, gui, tmp_path):  # noqa: F811
    shot = tmp_path / "replay.png"
    p = run_cli("replay", str(model), "--screenshot", str(shot), "--frames", "5")
    assert p.returncode == 0, p.stderr
    from matplotlib.image import imread

    img = imread(shot)
    h, w = img.shape[:2]
    assert (w, h) == (1280, 720)
    view = img[:, : w - 330, :3]
    assert (view > 0.95).all(axis=2).mean() > 0.5  # CartPole's white frame on the left
    assert img[:, w - 330:, :3].mean() < 0.3  # the dark panel on the right


def test_screenshot_without_a_display_prints_no_sdl_line(model, tmp_path):
    from tests.gui import egl_available

    if not egl_available():
        pytest.skip("no EGL for an off-screen window")
    shot = tmp_path / "replay.png"
    env = {"DISPLAY": "", "WAYLAND_DISPLAY": "", "XDG_RUNTIME_DIR": ""}
    p = run_cli("replay", str(model), "--screenshot", str(shot), "--frames", "3", env=env)
    assert p.returncode == 0, p.stderr
    assert "XDG_RUNTIME_DIR" not in p.stderr and "error" not in p.stderr.lower(), p.stderr
    assert p.stderr.splitlines()[-1] == f"screenshot: {shot}", p.stderr
    from matplotlib.image import imread

    img = imread(shot)
    assert (img[:, : img.shape[1] - 330, :3] > 0.95).all(axis=2).mean() > 0.5  # still drawn


def test_a_reinforce_model_shows_its_iterations(gui, tmp_path):  # noqa: F811
    """A policy from `reinforce` has iterations, not generations: the panel names the
    iteration it was saved at and graphs returns.csv by iteration."""
    import csv

    from neuroevo.gym_replay import load_gym_policy
    from neuroevo.gym_view import GymView
    from rl.config import ReinforceConfig
    from rl.run import ReinforceRun

    cfg = build(ReinforceConfig, {"task": "gym:CartPole-v1", "total_steps": 1500,
                                  "pg": {"steps": 512, "agents": 4, "value_hidden": [8]}},
                "test: ")
    run = ReinforceRun(cfg, tmp_path / "ppo")
    assert run.run() == "completed"
    rows = list(csv.DictReader(open(tmp_path / "ppo" / "returns.csv")))
    model = tmp_path / "ppo" / "best.npz"
    task, theta, mean, scale, meta = load_gym_policy(str(model))
    view = GymView(task, theta, mean, scale, meta, model=model,
                   screenshot=tmp_path / "shot.png", frames=3)
    try:
        view.play(seed=0)
        texts = [s.label.text for s in view.lines]
    finally:
        view.close()
    assert f"(ppo iteration {meta['iteration']})" in texts[3], texts
    assert "None" not in " ".join(texts)
    assert view.graph.count.label.text == f"{len(rows)} iterations"
    assert view.graph.title.text.startswith("return by iteration")
    np.testing.assert_allclose(view.graph.points[0][:, 1],
                               [float(r["return_best"]) for r in rows])


def test_bad_replay_input(model, tmp_path):
    assert_user_error(run_cli("replay", str(model), "--episodes", "0"), "--episodes")
    assert_user_error(run_cli("replay", str(model), "--track", "default"), "--track")
    assert_user_error(run_cli("replay", str(tmp_path / "none.npz")), "none.npz")
