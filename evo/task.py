"""The task interface: which world a chunk of the population runs in, and what fitness means.

:class:`Task` is what the generation loop, the backends and the rollouts talk to; the
tasks themselves are :class:`evo.tasks.CarTask`, :class:`evo.tasks.WalkerTask` and
:class:`evo.gym_task.GymTask` (:class:`evo.tasks.TaskSpec` builds the one a config names).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass

import numpy as np

from evo.rollout import PolicyConfig, episode, finish, make_policy


@dataclass
class Episode:
    """One pass of the episode loop, as :meth:`Task.episodes` hands it out: advance ``gen``
    (an :func:`evo.rollout.episode` generator) to its end, a step at a time or all at once,
    then ``results(value)`` turns its return value into one result per episode it drove.
    The serial backend runs it straight through; the live window draws ``world`` between
    steps.  Either way the numbers are the same."""

    world: object  # the world ``gen`` steps
    weights: np.ndarray  # (N, num_params): the network weights of the N agents in it
    seeds: list  # the episodes it drives: one, or one per view
    gen: Generator  # yields after each physics step; returns (info, agent_steps)
    results: Callable  # gen's value -> [result of each episode], in the order asked for
    views: list | None = None  # several episodes in one world: one view of it per seed


class Task:
    """Builds worlds and turns episode info into fitness.  Subclasses set the columns."""

    name = ""
    columns: tuple[str, ...] = ()  # extra per-generation statistics of the best member
    sources: dict[str, str] = {}  # column -> the episode info key it comes from (default: same)
    world_cache: int | None = None  # the most worlds kept for reuse (None: every one built)
    # -- what the task is, for everything that names or shows it (no one compares names) --
    section = ""  # its section of evolve and reinforce configs (cars, walkers, gym)
    config_class: type | None = None  # that section's dataclass
    world_task = True  # runs in a world of ours (sims), not in Gymnasium's environments
    agents = "agents"  # what its agents are called in text ("cars alive 3 / 50")
    unit = ""  # what follows a fitness value in the window's panel ("", " m")
    measure = "return"  # what fitness measures, in figure labels and headings
    laps = False  # its agents drive laps: lap clocks and lap times, several tracks at once
    score = "return"  # what PPO's iteration rows keep of an episode: <score>_mean, _best
    score_label = "episode return"  # the axis label of that score
    best_label = "best return"  # the axis label of the best score so far (compare)
    score_columns: tuple[str, ...] = ()  # PPO's extra columns of an iteration row
    behaviours: dict = {}  # its behaviour descriptors (evo.descriptors), by name
    place = ""  # where an episode runs, as `replay` names it (--track, --terrain)
    # several episodes run in one world, a view each (CarTask.episodes_world), not in a
    # world each
    shared_world = False

    def round_episodes(self, worlds: int = 1) -> int:
        """Episodes a PPO round runs side by side (``worlds``: ``pg.worlds``)."""
        return max(int(worlds), 1)

    def reward_terms(self) -> tuple[float, float]:
        """``(alive_bonus, fall_penalty)``: what PPO's per-step reward adds to an agent's
        progress, per second alive and on the step it falls (an episode's return is then
        its fitness)."""
        return 0.0, 0.0

    @property
    def fitness_label(self) -> str:
        """What fitness measures, in parentheses after a word (`best fitness (laps)`)."""
        return f" ({self.measure})"

    @classmethod
    def replay_section(cls, section, place: str | None, max_time: float | None):
        """The config ``section`` a replay runs with: ``place`` (a track or terrain, see
        :attr:`place`) and ``max_time`` (s) instead of its own where given."""
        return section

    def replay_result(self, info) -> tuple[dict, str]:
        """What ``replay`` prints of agent 0's episode ``info``: a mapping (``--json``) and
        a line."""
        result = {"fitness": float(self.fitness(info)[0])}
        return result, f"fitness: {result['fitness']:.4f}"

    @classmethod
    def evolved_extras(cls, section) -> str | None:
        """What the config section ``section`` evolves beside the network, as the setting
        that asks for it (``walkers.body=evolve``); None when only the network evolves."""
        return None

    def score_row(self, eps: dict[str, np.ndarray]) -> dict[str, float]:
        """:attr:`score_columns` of an iteration row, from its episodes' results ``eps``
        (``{"fitness": (E,), column: (E,)...}``)."""
        return {}

    @classmethod
    def renderer(cls):
        """The ``sims.view`` renderer class of its worlds (imports pyglet: call it only
        from window code); None where the live window draws none."""
        return None

    def replay_summary(self, world, info) -> tuple[list[str], str, str]:
        """The replay panel's lines about agent 0 of ``world`` (what it is on, how far it
        got), its state in a word, and the unit of its fitness."""
        return [], "time up" if world.done[0] else "running", self.unit

    def __init__(self, policy: PolicyConfig):
        self.policy = policy
        self._worlds: dict[tuple, object] = {}
        self._net = None
        self.describer = None  # evo.descriptors.Describer: the run's behaviour descriptors

    def set_descriptors(self, names) -> None:
        """Add the behaviour descriptors ``names`` (``evo.descriptors``) to every result,
        as ``desc_<name>`` columns; an unknown name is a ``ValueError``."""
        from common.config import ConfigError
        from evo.descriptors import Describer

        try:
            self.describer = Describer(self, self.name, names) if names else None
        except ValueError as e:
            raise ConfigError(f"qd.descriptors: {e}") from None
        self._worlds.clear()  # worlds built from now on record what descriptors need
        getattr(self, "_multi", {}).clear()

    def make_world(self, n_agents: int, variant=None):
        raise NotImplementedError

    def variant(self, seed: int | None):
        """Which world an episode with this seed runs in (None: the task's usual one)."""
        return None

    def world(self, n_agents: int, seed: int | None = None):
        """The world for ``n_agents`` agents and an episode ``seed``, built once and reused
        (at most ``world_cache`` worlds kept, the newest, where a task sets it)."""
        key = (self.variant(seed), n_agents)
        if key not in self._worlds:
            if self.world_cache is not None and len(self._worlds) >= self.world_cache:
                del self._worlds[next(iter(self._worlds))]  # the oldest
            self._worlds[key] = self.make_world(n_agents, key[0])
        return self._worlds[key]

    @property
    def dims(self) -> tuple[int, int]:
        w = self.world(1)
        return w.obs_dim, w.act_dim

    def network(self):
        if self._net is None:
            self._net = make_policy(*self.dims, self.policy)
        return self._net

    def fitness(self, info: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def evaluate(self, thetas: np.ndarray, seed: int,
                 first_member: int = 0) -> dict[str, np.ndarray]:
        """Run one episode for ``thetas (n, D)``, the population's members ``first_member``
        onwards: ``{"fitness": (n,), column: (n,)..., "agent_steps": ()}``."""
        return self.evaluate_episodes(thetas, [seed], first_member)[0]

    def evaluate_episodes(self, thetas: np.ndarray, seeds: list[int],
                          first_member: int = 0) -> list[dict[str, np.ndarray]]:
        """One result per episode of ``seeds`` for ``thetas (n, D)``: every
        :meth:`episodes` pass run to its end."""
        out = []
        for ep in self.episodes(thetas, seeds, first_member):
            out += ep.results(finish(ep.gen))
        return out

    def episodes(self, thetas: np.ndarray, seeds: list[int],
                 first_member: int = 0) -> Iterator[Episode]:
        """The episode loop's passes for ``thetas (n, D)`` over ``seeds``, one after
        another (a pass reuses the world of the one before: finish each before taking the
        next).  Here one pass per seed; a task may drive several episodes in one world
        (:meth:`evo.tasks.CarTask.episodes`)."""
        for s in seeds:
            world = self.world(len(thetas), s)
            weights = self.prepare(world, thetas)
            gen = episode(world, self.network(), weights, s, first_member)
            yield Episode(world, weights, [s], gen, lambda value: [self.result(*value)])

    def result(self, info: dict[str, np.ndarray], agent_steps: int) -> dict[str, np.ndarray]:
        """An episode's ``(info, agent_steps)`` -> ``{"fitness": (n,), column: (n,)...,
        "agent_steps": ()}``."""
        out = {"fitness": self.fitness(info)}
        for col in self.columns:
            out[col] = np.asarray(info[self.sources.get(col, col)], np.float64)
        if self.describer is not None:
            out.update(self.describer.values(info))
        out["agent_steps"] = np.array(agent_steps)
        return out

    # -- genomes: the network's weights, and what else a task evolves beside them ----------
    gene_kind = "extra"  # what the extra genes set (errors name it)

    @property
    def extra_genes(self) -> int:
        """Genes after the network's weights in a genome (evolved sensors or bodies)."""
        return 0

    def initial_genome(self, weights: np.ndarray) -> np.ndarray:
        """The genome ``(D,)`` the strategies start from, given the network's initial
        ``weights``: the weights, then :attr:`extra_genes` genes 0."""
        if not self.extra_genes:
            return weights
        return np.concatenate([np.asarray(weights, np.float64), np.zeros(self.extra_genes)])

    def _split(self, genomes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``genomes (..., D)`` -> network weights and the extra genes."""
        d = self.network().num_params
        if genomes.shape[-1] != d + self.extra_genes:
            raise ValueError(f"expected genomes of {d} weights and {self.extra_genes} "
                             f"{self.gene_kind} genes, got shape {genomes.shape}")
        return genomes[..., :d], genomes[..., d:]

    def weights(self, genomes: np.ndarray) -> np.ndarray:
        """The network's weights ``(..., num_params)`` of ``genomes (..., D)``."""
        return self._split(genomes)[0] if self.extra_genes else genomes

    def prepare(self, world, genomes: np.ndarray) -> np.ndarray:
        """Ready ``world`` (from :meth:`world`) for an episode of ``genomes (n, D)``, one
        per agent (walkers with evolved bodies: each walker's body, from the next reset
        on); returns the network weights ``(n, num_params)`` that act in it."""
        return genomes

    def genome_meta(self, genome: np.ndarray) -> dict:
        """What ``best.npz`` keeps of ``genome (D,)`` besides the network's weights."""
        return {}

    # -- hooks of the generation loop (no-ops here; a gym task normalises observations) --
    def genomes(self, params: np.ndarray) -> np.ndarray:
        """What the backends evaluate for the strategy's ``params (P, D)``."""
        return params

    def learn(self, result: dict[str, np.ndarray], improved: bool) -> None:
        """After a generation's evaluation (``improved``: it found a new best genome)."""

    def state_dict(self) -> dict[str, np.ndarray]:
        """Task state the checkpoint keeps (arrays)."""
        return {}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore :meth:`state_dict`."""

    def model_meta(self) -> dict:
        """Metadata ``best.npz`` keeps besides the weights."""
        return {}
