"""The schema of ``neuroevo evolve`` configs (``configs/cars.yaml``, ``configs/walkers.yaml``).

Loaded with :func:`evo.config.load_config`, strictly like every config.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from evo.backends import BACKENDS
from evo.cmaes import CMAESSettings
from evo.descriptors import known_names, parse
from evo.es import ESSettings
from evo.ga import GASettings
from evo.neat.strategy import NEATSettings
from evo.qd import CMAMESettings, MapElitesSettings, NoveltySettings
from evo.random_search import RandomSettings
from evo.registry import STRATEGIES
from evo.rollout import PolicyConfig
from evo.tasks import TaskSections, task_class


@dataclass(frozen=True)
class StrategyConfig:
    # ga (genetic algorithm), es (OpenAI-ES), cmaes (CMA-ES), random (random search), or a
    # quality-diversity strategy that fills an archive over qd.descriptors: map-elites,
    # novelty (novelty search) or cma-me (CMA-ME); their settings: map_elites, novelty, cma_me;
    # or neat (NEAT: topologies that grow; settings: neat; docs/neat.md)
    name: str = "ga"
    # ga: spread of the first population around the initial network (es, cmaes and random
    # use their own sigma)
    init_scale: float = 0.5
    ga: GASettings = field(default_factory=GASettings)
    es: ESSettings = field(default_factory=ESSettings)
    cmaes: CMAESSettings = field(default_factory=CMAESSettings)
    random: RandomSettings = field(default_factory=RandomSettings)
    map_elites: MapElitesSettings = field(default_factory=MapElitesSettings)
    novelty: NoveltySettings = field(default_factory=NoveltySettings)
    cma_me: CMAMESettings = field(default_factory=CMAMESettings)
    neat: NEATSettings = field(default_factory=NEATSettings)

    def validate(self):
        bad = []
        if self.name not in STRATEGIES:
            bad.append(("name", f"must be one of {', '.join(STRATEGIES)}"))
        if self.init_scale < 0:
            bad.append(("init_scale", "must be >= 0"))
        return bad

    @property
    def settings(self):
        return getattr(self, self.name.replace("-", "_"))


MAX_CELLS = 1_000_000  # cells of a QD grid (each holds a genome)


@dataclass(frozen=True)
class QDConfig:
    """Quality diversity: the behaviour descriptors and the archive's grid over them."""

    # behaviour descriptors (evo.descriptors), e.g. [mean_speed, mean_abs_steering] for
    # cars, [foot_contact_0, foot_contact_1] for walkers; needed by map-elites, novelty and
    # cma-me; with another strategy the run still fills an archive of what it evaluates
    descriptors: list[str] = field(default_factory=list)
    cells: list[int] = field(default_factory=list)  # grid cells per descriptor
    # one [low, high] per descriptor; [] (or an empty list for one): its natural range.
    # Values beyond the bounds count in the edge cells
    bounds: list[list[float]] = field(default_factory=list)
    # fitness counted as 0 by the QD-score (sum over elites of max(fitness - offset, 0))
    offset: float = 0.0

    def validate(self):
        bad = []
        k = len(self.descriptors)
        if len(set(self.descriptors)) != k:
            bad.append(("descriptors", "must not repeat a name"))
        if len(self.cells) != k:
            bad.append(("cells", f"must give one cell count per descriptor ({k})"))
        elif any(c < 1 for c in self.cells):
            bad.append(("cells", "must be >= 1 each"))
        elif k and int(np.prod(self.cells, dtype=np.float64)) > MAX_CELLS:
            bad.append(("cells", f"must multiply to at most {MAX_CELLS}"))
        if self.bounds and len(self.bounds) != k:
            bad.append(("bounds", f"must be empty or one [low, high] per descriptor ({k})"))
        elif any(b and (len(b) != 2 or not b[0] < b[1]) for b in self.bounds):
            bad.append(("bounds", "each must be [] or [low, high] with low < high"))
        return bad


@dataclass(frozen=True)
class EvaluationConfig:
    backend: str = "serial"  # serial, process (all cores) or ray
    workers: int = 0  # worker processes / Ray actors; 0 = every core
    address: str = ""  # Ray cluster address; empty starts a local Ray

    def validate(self):
        bad = []
        if self.backend not in BACKENDS:
            bad.append(("backend", f"must be one of {', '.join(BACKENDS)}"))
        if self.workers < 0:
            bad.append(("workers", "must be >= 0"))
        return bad


def effective(cfg):
    """``cfg`` with the policy its strategy evolves (strategy neat: a node graph)."""
    s = cfg.strategy
    if s.name not in STRATEGIES:
        return cfg
    return replace(cfg, policy=STRATEGIES[s.name].policy_config(cfg.policy, s.settings))


@dataclass(frozen=True)
class EvolveConfig(TaskSections):
    """``neuroevo evolve``: task (and its sections, :class:`evo.tasks.TaskSections`),
    strategy, policy network and evaluation."""

    population: int = 50  # genomes per generation
    generations: int = 30  # generations to run
    seed: int = 0  # seeds the first population, mutations and episodes
    until_lap: bool = False  # cars: stop after the first generation whose best laps every track
    # episodes per genome and generation, each with its own seed (start jitter, rough
    # ground, a training track from cars.tracks); fitness is their mean
    episodes: int = 1
    # Guards best.npz against one lucky episode: a generation's best genome that beats the
    # best so far plays this many more episodes (fresh seeds) and replaces it only if the
    # mean fitness over all its episodes still does (0: off; best_ever is then that mean)
    recheck_episodes: int = 0
    strategy: StrategyConfig = field(default_factory=StrategyConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    qd: QDConfig = field(default_factory=QDConfig)

    def validate(self):
        bad = self.task_problems()
        behaviours = {} if bad else task_class(self.task).behaviours
        if self.population < 1:
            bad.append(("population", "must be >= 1"))
        if self.generations < 0:
            bad.append(("generations", "must be >= 0"))
        if self.episodes < 1:
            bad.append(("episodes", "must be >= 1"))
        if self.recheck_episodes < 0:
            bad.append(("recheck_episodes", "must be >= 0"))
        if self.strategy.name == "es" and self.strategy.es.antithetic and \
                self.population % 2:
            bad.append(("population", "must be even for es with antithetic sampling"))
        if self.strategy.name == "cmaes" and self.population < 2:
            bad.append(("population", "must be >= 2 for cmaes"))
        if self.strategy.name == "ga" and self.strategy.ga.elite > self.population:
            bad.append(("population", "must be >= strategy.ga.elite"))
        if self.strategy.name == "cma-me":
            e = self.strategy.cma_me.emitters
            if self.population % e or self.population // e < 2:
                bad.append(("population", f"must be a multiple of strategy.cma_me.emitters "
                            f"({e}) with at least 2 genomes per emitter"))
        if self.strategy.name in STRATEGIES and \
                STRATEGIES[self.strategy.name].uses_descriptors and not self.qd.descriptors:
            bad.append(("qd.descriptors", f"{self.strategy.name} needs behaviour "
                        f"descriptors, e.g. {', '.join(known_names(behaviours)[:2])}"))
        if self.strategy.name == "neat":
            if self.cars.sensors != "fixed":
                bad.append(("cars.sensors", "strategy neat evolves the network only: "
                            "sensors must be fixed"))
            if self.walkers.body != "fixed":
                bad.append(("walkers.body", "strategy neat evolves the network only: "
                            "body must be fixed"))
        elif self.policy.graph:
            bad.append(("policy.graph", "a node graph is evolved by strategy neat only "
                        "(leave policy.graph empty)"))
        for name in self.qd.descriptors:
            if parse(name, behaviours) is None:
                bad.append(("qd.descriptors", f"unknown descriptor {name!r} for "
                            f"{self.task} (known: {', '.join(known_names(behaviours))})"))
        return bad
