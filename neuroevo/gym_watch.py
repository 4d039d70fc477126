"""The live window of ``neuroevo evolve gym:ENV_ID``, for environments that draw frames
(``render_mode="rgb_array"``): each generation is evaluated by the configured backend, as
headless, so the run's numbers are the headless run's; then the generation's best genome
plays one episode in the window, the environment's own frames beside the panel
(:class:`neuroevo.gym_view.GymView`: the generation, the episode's step and return, the
genome's fitness, the fitness graph of the finished generations and the network with live
activations).

Esc (or the window's close button) stops the run: the generation whose best was playing is
dropped, the last checkpoint stays, and ``--resume`` continues.  Ctrl-C stops the episode
under way at once, and the run as after any Ctrl-C.  Nothing here imports pyglet at import
time.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from evo.gym_task import member_seed
from evo.run import EvaluationAborted

EPISODE_SECONDS = 4.0  # the default speed plays a whole episode in about this long


def has_frames(task) -> bool:
    """Whether the environment of the gym task ``task`` draws ``rgb_array`` frames."""
    from evo.gym_task import make_env

    env = make_env(task.env_id)
    try:
        return "rgb_array" in (env.metadata.get("render_modes") or ())
    finally:
        env.close()


def auto_speed(task, seconds: float = EPISODE_SECONDS) -> float:
    """Environment steps per frame that play a whole episode (``task.max_steps``) in about
    ``seconds`` at the environment's frame rate: one of the window's speeds, x1 to x16."""
    from evo.gym_task import make_env
    from neuroevo.gym_view import SPEEDS

    env = make_env(task.env_id)
    try:
        fps = float(env.metadata.get("render_fps") or 50)
    finally:
        env.close()
    want = task.max_steps / (seconds * fps)
    return min([v for v in SPEEDS if v >= min(want, SPEEDS[-1])] or [SPEEDS[-1]]) \
        if want > 1 else 1.0


def open_gym_watch(run, args):
    """The window of a gym evolution, or None (then the run is headless, after one line on
    stderr saying why: no frames, no display; ``--headless`` says nothing)."""
    from common.config import ConfigError
    from common.window import NoDisplay
    from neuroevo.gym_view import GymView

    if args.headless and args.screenshot is None:
        return None
    task = run.task
    if not has_frames(task):
        if args.screenshot is not None:
            raise ConfigError(f"--screenshot: {task.env_id} draws no rgb_array frames")
        print(f"neuroevo: {task.env_id} draws no rgb_array frames: evolving headless",
              file=sys.stderr)
        return None
    d, o = task.network().num_params, task.obs_dim
    theta = np.zeros(d)
    speed = args.speed if args.speed is not None else auto_speed(task)
    try:
        return GymView(task, theta, np.zeros(o), np.ones(o), {"generation": 0},
                       model=Path(run.out) / "best.npz", screenshot=args.screenshot,
                       frames=args.frames, speed=speed,
                       heading=f"{run.cfg.task}: generation 1 / {run.cfg.generations}",
                       history=([], "generation"),
                       title=f"neuroevo: evolve {run.cfg.task}")
    except NoDisplay as e:
        if args.screenshot is not None:
            raise ConfigError(f"--screenshot {args.screenshot}: {e}") from None
        if not args.quiet:
            print(f"neuroevo: {e.reason}: evolving headless", file=sys.stderr)
        return None


class GymWindowBackend:
    """A backend for :meth:`evo.run.EvolutionRun.run`: ``inner`` (the configured backend)
    evaluates, and the window then shows one episode of the generation's best genome.
    Returns exactly what ``inner`` returns."""

    def __init__(self, run, view, inner):
        self.run, self.view, self.inner = run, view, inner
        self.workers = getattr(inner, "workers", 1)
        view.interrupted = lambda: bool(run.stop)

    def evaluate(self, genomes, seeds):
        from neuroevo.gym_view import ViewClosed

        result = self.inner.evaluate(genomes, seeds)
        run = self.run
        if len(genomes) == 1 < run.cfg.population:  # a recheck of one genome: not shown
            return result
        fit = result["fitness"]
        best = int(np.argmax(fit))
        params, mean, scale = run.task._split(np.asarray(genomes[best:best + 1], np.float64))
        g = run.generation + 1
        rows = [*({"best": r["best"], "mean": r["mean"]} for r in run.rows),
                {"best": float(fit[best]), "mean": float(fit.mean())}]
        self.view.show(params[0], mean[0], scale[0],
                       {"fitness": float(fit[best]), "generation": g}, rows,
                       f"{run.cfg.task}: generation {g} / {run.cfg.generations}, its best")
        first = int(np.atleast_1d(seeds)[0])
        try:  # an episode from a reset seed of its own in the generation's first episode
            self.view.play_episode(member_seed(first, best))
        except ViewClosed:
            raise EvaluationAborted("window closed") from None
        return result

    def close(self) -> None:
        self.inner.close()


def show_best(run, view) -> None:
    """Put the run's best genome so far in the window (with the normaliser it was
    evaluated with), as the window stays open after the run."""
    if not np.isfinite(run.strategy.best_fitness):
        return
    task = run.task
    view.show(np.asarray(run.strategy.best_params, np.float64), task.best_obs_mean,
              task.best_obs_scale, {"fitness": float(run.strategy.best_fitness),
                                    "generation": run.generation},
              heading=f"{run.cfg.task}: the best genome (finished)")
