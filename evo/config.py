"""The schema of ``neuroevo evolve`` configs (``configs/cars.yaml``, ``configs/walkers.yaml``).

Loaded with :func:`evo.config.load_config`, strictly like every config.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from evo.backends import BACKENDS
from evo.cmaes import CMAESSettings
from evo.es import ESSettings
from evo.ga import GASettings
from evo.gym_config import GymConfig, gym_env_id
from evo.random_search import RandomSettings
from evo.registry import STRATEGIES
from evo.rollout import PolicyConfig
from evo.tasks import TASKS, CarsConfig, WalkersConfig


@dataclass(frozen=True)
class StrategyConfig:
    # ga (genetic algorithm), es (OpenAI-ES), cmaes (CMA-ES) or random (random search)
    name: str = "ga"
    # ga: spread of the first population around the initial network (es, cmaes and random
    # use their own sigma)
    init_scale: float = 0.5
    ga: GASettings = field(default_factory=GASettings)
    es: ESSettings = field(default_factory=ESSettings)
    cmaes: CMAESSettings = field(default_factory=CMAESSettings)
    random: RandomSettings = field(default_factory=RandomSettings)

    def validate(self):
        bad = []
        if self.name not in STRATEGIES:
            bad.append(("name", f"must be one of {', '.join(STRATEGIES)}"))
        if self.init_scale < 0:
            bad.append(("init_scale", "must be >= 0"))
        return bad

    @property
    def settings(self):
        return getattr(self, self.name)

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

@dataclass(frozen=True)
class EvolveConfig:
    """``neuroevo evolve``: task, strategy, policy network and evaluation."""

    task: str = "cars"  # cars, walkers, or gym:ENV_ID (a Gymnasium environment)
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
    cars: CarsConfig = field(default_factory=CarsConfig)
    walkers: WalkersConfig = field(default_factory=WalkersConfig)
    gym: GymConfig = field(default_factory=GymConfig)

    def validate(self):
        bad = []
        if self.task not in TASKS and not gym_env_id(self.task):
            bad.append(("task", f"must be one of {', '.join(TASKS)} or gym:ENV_ID"))
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
        return bad
