"""What plugs the live window into the runs: :class:`WindowBackend` into
:meth:`evo.run.EvolutionRun.run` (each generation drawn as it is evaluated) and
:class:`WindowPlayer` into :class:`rl.run.ReinforceRun` (each round of an iteration).

Both only advance the generators the headless runs advance (the window draws between
steps), so the numbers are the headless run's, bit for bit.
"""

from __future__ import annotations

import numpy as np

from evo.backends import as_seeds, combine
from neuroevo.watch.window import Watch


class WindowBackend:
    """A backend for :meth:`evo.run.EvolutionRun.run` that draws each generation in
    ``watch``; returns exactly what ``SerialBackend(run.spec).evaluate`` returns: both run
    the passes of :meth:`evo.task.Task.episodes`."""

    workers = 1

    def __init__(self, run, watch: Watch):
        self.run = run
        self.watch = watch
        self.task = run.task
        watch.archive = run.archive  # a QD run's archive: M shows its map
        watch.episodes = run.cfg.episodes  # a row's numbers are means over this many
        history = getattr(run.strategy, "history", None)  # neat: species sizes
        if history is not None and watch.panel == "evolve":
            watch.species = history  # the strategy's own list: it grows as the run goes
            watch.set_panel("evolve")
        if run.archive is not None:
            watch.flash("M: the archive map (click a cell to replay its elite)", 6.0)
        watch.on_quit = self._checkpoint
        # Ctrl-C: the run's SIGINT handler sets ``_stop``; a watched generation can last
        # minutes, so stop at once (the unfinished generation is dropped, exit status 130)
        watch.interrupted = lambda: bool(run.stop)

    def _checkpoint(self) -> None:
        # Between generations the strategy's state is the last finished generation's:
        # this writes the same checkpoint ``run`` already has (or the first, at generation 0).
        self.run.save_checkpoint()

    def evaluate(self, thetas, seed):
        run, watch, task = self.run, self.watch, self.task
        watch.history = run.rows
        if np.isfinite(run.strategy.best_fitness):
            watch.best_ever = (run.strategy.best_params.copy(), run.strategy.best_fitness)
            watch.ghost = watch.best_ever if watch.ghost_enabled else None
        watch.generation = run.generation + 1
        heading = f"{task.name}: generation {run.generation + 1} / {run.cfg.generations}"
        seeds = as_seeds(seed)
        n = len(thetas)
        results = []
        for k, ep in enumerate(task.episodes(thetas, seeds)):
            if ep.views is not None:
                # every episode's track in one world, in one pass; one track drawn (T: next)
                watch.heading = heading
                value = watch.play(ep.gen, ep.views, ep.weights[:n], seed=ep.seeds)
            else:
                watch.heading = heading + (f", episode {k + 1} / {len(seeds)}"
                                           if len(seeds) > 1 else "")
                value = watch.play(ep.gen, ep.world, ep.weights, seed=ep.seeds[0])
            results += ep.results(value)
        return combine(results)

    def close(self) -> None:
        pass  # the window belongs to the caller (it may linger after the run)


class WindowPlayer:
    """The ``player`` of a :class:`rl.run.ReinforceRun`: draws each round of a policy-gradient
    iteration as it is simulated (the same round the headless run computes, bit for bit).
    The panel's history is the run's iterations: best and mean laps (metres for walkers)
    of their episodes and the fastest lap; the ghost is the best greedy policy so far."""

    def __init__(self, run, watch: Watch):
        self.run = run
        self.watch = watch
        watch.on_quit = run.save_checkpoint  # the last finished iteration's state
        watch.interrupted = lambda: bool(run.stop)

    def __call__(self, gen, world, order, seeds) -> None:
        run, watch = self.run, self.watch
        score = run.task.score
        watch.history = [{"generation": r["iteration"], "best": r[f"{score}_best"],
                          "mean": r[f"{score}_mean"],
                          "best_lap_time": r.get("lap_time", float("nan"))}
                         for r in run.rows]
        if run.rows:
            watch.best_ever = (run.best_theta.copy(), run.best_score)
            watch.ghost = watch.best_ever if watch.ghost_enabled else None
        watch.generation = run.iteration + 1
        watch.heading = (f"{run.cfg.task}: {run.cfg.pg.algorithm} iteration "
                         f"{run.iteration + 1}, {run.env_steps:,} / "
                         f"{run.cfg.total_steps:,} steps")
        actor = run.ac.actor.get_params()  # the greedy network's weights: its activations
        if order is None:
            watch.play(gen, world, np.tile(actor, (world.n_agents, 1)), seed=seeds)
            return
        from sims.track_group import TrackGroup

        views = [TrackGroup(world, g) for g in range(len(order))]
        watch.several_tracks = len(views) > 1  # T: the next track
        watch.play(gen, views, np.tile(actor, (views[0].n_agents, 1)), seed=list(seeds))
