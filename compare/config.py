"""The settings of ``neuroevo compare`` and which methods run on which task.

Classification tasks (fruit, fruit-curved, mnist, fashion, mnist-cnn) train one network by
backprop and by evolution (:mod:`compare.classification`); control tasks (cars, walkers,
gym:ENV_ID) evolve and learn one policy network (:mod:`compare.control`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from common.config import ConfigError
from evo.es import ESSettings
from evo.ga import GASettings
from evo.gym_config import gym_env_id
from evo.tasks import TASKS as WORLD_TASKS
from evo.tasks import task_class

CLASSIFICATION = ("fruit", "fruit-curved", "mnist", "fashion", "mnist-cnn")
TASKS = (*CLASSIFICATION, *WORLD_TASKS)  # and gym:ENV_ID (is_control)


def dataset_of(task: str) -> str:
    """The dataset a classification task learns: ``mnist-cnn`` is MNIST with a convnet."""
    return task.removesuffix("-cnn")


def _default_cnn_layers() -> list[dict]:
    return [{"conv": 8, "kernel": 5, "stride": 2}, {"conv": 16, "kernel": 3, "stride": 2},
            {"dense": 10}]


@dataclass(frozen=True)
class ConvCompare:
    """The ``-cnn`` tasks (``mnist-cnn``): one small convolutional network for every method,
    and the evolution settings that go with it (they replace the top-level ones)."""

    layers: list[dict] = field(default_factory=_default_cnn_layers)  # see nn.network
    population: int = 100  # evolution population
    fitness_batch: int = 256  # samples per generation for evolution's fitness
    ga: GASettings = field(default_factory=lambda: GASettings(
        elite=5, parents=0.1, mutation_rate=0.1, mutation_sigma=0.02))
    es: ESSettings = field(default_factory=lambda: ESSettings(
        sigma=0.02, lr=0.01, weight_decay=0.0))

    def validate(self):
        from nn.network import normalize_layers

        bad = []
        try:
            layers = normalize_layers(self.layers)
            if any("dropout" in spec for spec in layers):
                bad.append(("layers", "no dropout layers here (every method would need it)"))
        except ValueError as e:
            bad.append(("layers", str(e)))
        if self.population < 2 or self.population % 2:
            bad.append(("population", "must be even and >= 2"))
        if self.fitness_batch < 1:
            bad.append(("fitness_batch", "must be >= 1"))
        return bad


@dataclass(frozen=True)
class CompareConfig:
    hidden: list[int] = field(default_factory=lambda: [64])  # the shared MLP's hidden widths
    activation: str = "relu"  # hidden activation (output: softmax)
    batch_size: int = 64  # backprop mini-batch
    sgd_lr: float = 0.05  # SGD with momentum 0.9
    adam_lr: float = 0.002  # Adam
    population: int = 100  # evolution population
    fitness_batch: int = 512  # samples per generation for evolution's fitness
    init_scale: float = 0.05  # GA: spread of the first population around the initial net
    ga: GASettings = field(default_factory=lambda: GASettings(
        elite=5, parents=0.1, mutation_rate=0.1, mutation_sigma=0.02))
    es: ESSettings = field(default_factory=lambda: ESSettings(
        sigma=0.02, lr=0.01, weight_decay=0.0))
    evaluations: int = 25  # test-accuracy measurements per run, geometrically spaced in time
    cnn: ConvCompare = field(default_factory=ConvCompare)  # the network of the -cnn tasks
    # Every method's step size (backprop's learning rate, ES's learning rate, the GA's
    # mutation strength) falls linearly over the budget to this fraction of its start:
    # the same schedule for all, in training seconds (1 = constant).
    final_step_fraction: float = 0.05

    def validate(self):
        bad = []
        if self.population < 2 or self.population % 2:
            bad.append(("population", "must be even and >= 2"))
        if self.batch_size < 1 or self.fitness_batch < 1:
            bad.append(("batch_size", "batch sizes must be >= 1"))
        if not (self.sgd_lr > 0 and self.adam_lr > 0):
            bad.append(("sgd_lr", "learning rates must be > 0"))
        if self.evaluations < 2:
            bad.append(("evaluations", "must be >= 2"))
        if not 0 < self.final_step_fraction <= 1:
            bad.append(("final_step_fraction", "must be in (0, 1]"))
        return bad

    def for_task(self, task: str) -> CompareConfig:
        """The settings a task runs with: a ``-cnn`` task's population, fitness batch and
        strategy settings come from ``cnn``."""
        if not task.endswith("-cnn"):
            return self
        c = self.cnn
        return dataclasses.replace(self, population=c.population,
                                   fitness_batch=c.fitness_batch, ga=c.ga, es=c.es)

    def step_factor(self, seconds: float, budget: float) -> float:
        """The step-size multiplier after ``seconds`` of a ``budget``."""
        done = min(max(seconds / budget, 0.0), 1.0)
        return 1.0 - (1.0 - self.final_step_fraction) * done


METHODS = ("backprop-sgd", "backprop-adam", "ga", "es")
CAR_METHODS = ("ga", "es", "random", "cmaes")
# quality-diversity strategies: control tasks, on request, with the evolve config's
# qd.descriptors; with descriptors every method's curve also records the coverage and
# QD-score of an archive of everything it evaluated
QD_METHODS = ("map-elites", "novelty", "cma-me")

PG_METHODS = ("ppo", "reinforce")  # policy-gradient learners (control tasks)
EVOLUTION = ("ga", "es", "cmaes", *QD_METHODS, "neat")  # random search is luck, not evolution
CONTROL = WORLD_TASKS  # control tasks, and gym:ENV_ID


def is_control(task: str) -> bool:
    """Whether ``task`` is a control task (a policy in a world) rather than a dataset."""
    return task in CONTROL or gym_env_id(task) is not None


def methods_for(task: str) -> tuple[str, ...]:
    """The methods that run on ``task`` by default."""
    return (*CAR_METHODS, "ppo") if is_control(task) else METHODS


def known_methods(task: str) -> tuple[str, ...]:
    """Every method ``task`` can run (``--methods``)."""
    return (*CAR_METHODS, *PG_METHODS, *QD_METHODS, "neat") if is_control(task) else METHODS


def choose_methods(task: str, given: str | None, generations: int | None) -> tuple[str, ...]:
    """The methods of a comparison: ``given`` (``--methods``, comma-separated, in the order
    given, each once) or the task's default; with ``generations`` the policy-gradient
    learners sit out (they have iterations, not generations)."""
    known = known_methods(task)
    methods = methods_for(task)
    if given:
        methods = tuple(dict.fromkeys(m.strip() for m in given.split(",") if m.strip()))
        unknown = [m for m in methods if m not in known]
        if unknown or not methods:
            raise ConfigError(f"--methods {given}: {task} knows {', '.join(known)}")
    if generations is not None:
        if given and any(m in PG_METHODS for m in methods):
            raise ConfigError("--generations counts evolution's generations: compare ppo "
                              "with --budget-seconds or --budget-steps")
        methods = tuple(m for m in methods if m not in PG_METHODS)
    return methods


def check_control(methods: tuple[str, ...], evolve_cfg, pg_cfg) -> None:
    """Refuse, in one line, the methods a control task's configs cannot run."""
    qd = [m for m in QD_METHODS if m in methods]
    if qd and not evolve_cfg.qd.descriptors:
        raise ConfigError(f"--methods {qd[0]}: quality diversity needs behaviour "
                          f"descriptors: --evolve-set qd.descriptors=[...] and "
                          f"qd.cells=[...] (or an evolve config with a qd section)")
    if "cma-me" in methods and evolve_cfg.population % evolve_cfg.strategy.cma_me.emitters:
        raise ConfigError(f"--methods cma-me: the population ({evolve_cfg.population}) "
                          f"must be a multiple of strategy.cma_me.emitters "
                          f"({evolve_cfg.strategy.cma_me.emitters})")
    if "neat" in methods and (evolve_cfg.cars.sensors != "fixed" or
                              evolve_cfg.walkers.body != "fixed"):
        raise ConfigError("--methods neat: NEAT evolves the network only; set "
                          "cars.sensors=fixed and walkers.body=fixed")
    learners = [m for m in PG_METHODS if m in methods]
    if not learners:
        return
    first = learners[0]
    if evolve_cfg.policy.recurrent:
        raise ConfigError(f"policy.recurrent={evolve_cfg.policy.recurrent}: {first} has "
                          f"no recurrent policies (evolution only); leave {first} out "
                          f"of --methods or set policy.recurrent=0")
    cls = task_class(evolve_cfg.task)
    for section in (getattr(evolve_cfg, cls.section), getattr(pg_cfg, cls.section)):
        extras = cls.evolved_extras(section)
        if extras is not None:
            key = extras.split("=")[0]
            raise ConfigError(f"{extras}: {first} trains the network alone (evolution "
                              f"only); leave {first} out of --methods or set {key}=fixed")
