"""The strategy interface: ``ask(rng) -> (P, D)`` parameters, ``tell(params, fitness)``.

Quality-diversity strategies (``uses_descriptors``, :mod:`evo.qd`) are also told each
genome's behaviour descriptors: ``tell(params, fitness, descriptors (P, k))``; the others
ignore them.

Public ``ask``/``tell`` do the bookkeeping shared by every strategy (shape checks, the
generation counter, the hall of fame: the best-ever genome is never lost); subclasses
fill ``_ask``/``_tell``.  Fitness is maximised.  All state is numpy arrays, so a
checkpoint is ``state_dict()`` written with ``np.savez`` and read back without pickle.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class StrategySettings:
    """Base for each strategy's settings; ``validate`` lists impossible values."""

    def validate(self) -> list[tuple[str, str]]:
        return []


class Strategy:
    name = ""
    Settings: type[StrategySettings] = StrategySettings
    uses_descriptors = False  # tell() needs behaviour descriptors (quality diversity)
    # the strategy evolves node graphs: it takes the policy's graph layer (graph=, an
    # nn.graph.Graph) and a policy config with `graph` set (policy_config)
    needs_graph = False

    def __init__(self, num_params: int, popsize: int, settings: StrategySettings | None = None,
                 init_params: np.ndarray | None = None, init_scale: float = 0.1):
        if popsize < 1:
            raise ValueError(f"population must be >= 1, got {popsize}")
        if num_params < 1:
            raise ValueError(f"number of parameters must be >= 1, got {num_params}")
        self.settings = settings if settings is not None else self.Settings()
        for key, problem in self.settings.validate():
            raise ValueError(f"{self.name}.{key}: {problem}")
        self.num_params = int(num_params)
        self.popsize = int(popsize)
        self.init_params = (np.zeros(num_params) if init_params is None
                            else np.asarray(init_params, np.float64).copy())
        if self.init_params.shape != (self.num_params,):
            raise ValueError(f"init_params has shape {self.init_params.shape}, "
                             f"expected ({self.num_params},)")
        self.init_scale = float(init_scale)
        self.generation = 0
        self.best_params = self.init_params.copy()  # hall of fame
        self.best_fitness = -np.inf

    @classmethod
    def policy_config(cls, policy, settings):
        """The policy config this strategy evolves, given the run's ``policy`` (a
        :class:`evo.rollout.PolicyConfig`) and the strategy's ``settings``: here the
        layered network (``policy`` without a node graph, e.g. when ``compare`` runs ga on
        the config of a neat run)."""
        return dataclasses.replace(policy, graph="") if policy.graph else policy

    # -- public API ------------------------------------------------------------------------
    def ask(self, rng: np.random.Generator) -> np.ndarray:
        """The population to evaluate this generation, ``(P, D)`` float64."""
        params = self._ask(rng)
        if params.shape != (self.popsize, self.num_params):
            raise RuntimeError(f"{type(self).__name__} asked {params.shape}, expected "
                               f"({self.popsize}, {self.num_params})")
        return params

    def tell(self, params: np.ndarray, fitness: np.ndarray,
             descriptors: np.ndarray | None = None) -> None:
        """Report the fitness ``(P,)`` of the ``params`` that ``ask`` returned, and, to a
        strategy that ``uses_descriptors``, their behaviour ``descriptors (P, k)``."""
        params = np.asarray(params, np.float64)
        fitness = np.asarray(fitness, np.float64)
        if params.shape != (self.popsize, self.num_params) or fitness.shape != (self.popsize,):
            raise ValueError(f"tell expects params {(self.popsize, self.num_params)} and fitness "
                             f"({self.popsize},), got {params.shape} and {fitness.shape}")
        if np.isnan(fitness).any():
            raise ValueError("fitness contains NaN")
        if self.uses_descriptors:
            if descriptors is None:
                raise ValueError(f"{self.name} needs the genomes' behaviour descriptors")
            descriptors = np.asarray(descriptors, np.float64)
            if descriptors.ndim != 2 or len(descriptors) != self.popsize:
                raise ValueError(f"tell expects descriptors ({self.popsize}, k), got "
                                 f"{descriptors.shape}")
        i = int(np.argmax(fitness))
        if fitness[i] > self.best_fitness:
            self.best_fitness = float(fitness[i])
            self.best_params = params[i].copy()
        if self.uses_descriptors:
            self._tell(params, fitness, descriptors)
        else:
            self._tell(params, fitness)
        self.generation += 1

    def set_best(self, params: np.ndarray, fitness: float) -> None:
        """Replace the hall of fame (a run that re-measures its champions does)."""
        self.best_params = np.array(params, np.float64)
        self.best_fitness = float(fitness)

    def figures(self, title: str) -> dict:
        """Pictures of the strategy's own state the run writes beside ``fitness.png``:
        file name -> matplotlib figure (none here; NEAT: ``species.png``)."""
        return {}

    @property
    def mean(self) -> np.ndarray:
        """The strategy's current central guess (for replay of a 'typical' member)."""
        return self.best_params

    # -- checkpoints -------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        state = {"generation": np.array(self.generation), "best_params": self.best_params,
                 "best_fitness": np.array(self.best_fitness)}
        state.update({f"s_{k}": v for k, v in self._state().items()})
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        self.generation = int(state["generation"])
        self.best_params = np.array(state["best_params"], np.float64)
        self.best_fitness = float(state["best_fitness"])
        self._load_state({k[2:]: np.array(v) for k, v in state.items() if k.startswith("s_")})

    # -- for subclasses ------------------------------------------------------------------------
    def _ask(self, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def _tell(self, params: np.ndarray, fitness: np.ndarray) -> None:
        raise NotImplementedError

    def _state(self) -> dict[str, np.ndarray]:
        return {}

    def _load_state(self, state: dict[str, np.ndarray]) -> None:
        pass

    def _initial_population(self, rng: np.random.Generator) -> np.ndarray:
        """Gaussian cloud around ``init_params``; member 0 is ``init_params`` itself."""
        pop = self.init_params + self.init_scale * rng.standard_normal(
            (self.popsize, self.num_params))
        pop[0] = self.init_params
        return pop


def settings_fields(cls: type[StrategySettings]) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]
