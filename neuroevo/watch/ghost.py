"""The ghost (cars): the best genome so far drives the generation's episode again in a world
of its own, stepped in lockstep with the population's and drawn translucent.  It never
touches the population's world, so it never changes a fitness."""

from __future__ import annotations

import numpy as np

from evo.rollout import episode


class Ghost:
    """The ghost's own one-car world and its episode generator (``gen``: None once the
    episode ended: it crashed or finished, and stays where it stopped)."""

    __slots__ = ("world", "gen")

    def __init__(self, world, gen):
        self.world, self.gen = world, gen

    def step(self) -> None:
        """One physics step, in lockstep with the population's (none after its end)."""
        if self.gen is None:
            return
        try:
            next(self.gen)
        except StopIteration:
            self.gen = None


class GhostGarage:
    """Builds ghosts for ``task`` with the network ``net``: one one-car world per episode
    variant (track), built once and reused."""

    def __init__(self, task, net):
        self.task, self.net = task, net
        self._worlds: dict = {}  # episode variant -> a one-car world of its own

    def start(self, genome, seed, steps: int = 0) -> Ghost:
        """The ghost of ``genome (D,)`` for the episode ``seed``: in a one-car world of its
        own (the same track and start), reset and stepped once, as the population's world
        is when drawing starts, then ``steps`` more (to join an episode under way)."""
        variant = self.task.variant(seed)
        world = self._worlds.get(variant)
        if world is None:
            world = self._worlds[variant] = self.task.make_world(1, variant)
        # the network's weights (walkers with evolved bodies: the body is set up too)
        params = self.task.prepare(world, np.asarray(genome, np.float64)[None, :])
        gen = episode(world, self.net, params, seed)
        ghost = Ghost(world, gen)
        for _ in range(steps + 1):
            ghost.step()
            if ghost.gen is None:
                break
        return ghost
