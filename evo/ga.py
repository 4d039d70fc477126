"""A simple genetic algorithm: "take the top few, clone them with random mutations".

Each generation the best ``elite`` members pass unchanged (the original video's scheme keeps
the best car as it is); the rest of the population are children of parents chosen by
truncation (uniformly among the top ``parents`` fraction) or by tournament, optionally
crossed over (uniform crossover), then mutated: each weight, with probability
``mutation_rate``, gets gaussian noise of standard deviation ``mutation_sigma``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evo.strategy import Strategy, StrategySettings


@dataclass(frozen=True)
class GASettings(StrategySettings):
    elite: int = 2  # best members copied unchanged into the next generation
    selection: str = "truncation"  # "truncation" or "tournament"
    parents: float = 0.2  # truncation: share of the population allowed to breed
    tournament_size: int = 3  # tournament: members drawn per selection
    mutation_rate: float = 0.1  # probability that a weight is mutated
    mutation_sigma: float = 0.2  # standard deviation of a mutation
    crossover: float = 0.0  # probability that a child mixes two parents (uniform crossover)

    def validate(self):
        bad = []
        if self.elite < 0:
            bad.append(("elite", "must be >= 0"))
        if self.selection not in ("truncation", "tournament"):
            bad.append(("selection", "must be truncation or tournament"))
        if not 0 < self.parents <= 1:
            bad.append(("parents", "must be in (0, 1]"))
        if self.tournament_size < 1:
            bad.append(("tournament_size", "must be >= 1"))
        if not 0 <= self.mutation_rate <= 1:
            bad.append(("mutation_rate", "must be in [0, 1]"))
        if self.mutation_sigma < 0:
            bad.append(("mutation_sigma", "must be >= 0"))
        if not 0 <= self.crossover <= 1:
            bad.append(("crossover", "must be in [0, 1]"))
        return bad


class SimpleGA(Strategy):
    name = "ga"
    Settings = GASettings
    settings: GASettings

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        if self.settings.elite > self.popsize:
            raise ValueError(f"ga.elite ({self.settings.elite}) exceeds the population "
                             f"({self.popsize})")
        self._ranked: np.ndarray | None = None  # (P, D) last population, best first
        self._ranked_fitness: np.ndarray | None = None

    def _select(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Indices into the ranked population (0 = best) of ``n`` parents."""
        s, P = self.settings, self.popsize
        if s.selection == "truncation":
            k = max(1, int(round(s.parents * P)))
            return rng.integers(0, k, n)
        contenders = rng.integers(0, P, (n, s.tournament_size))
        return contenders.min(axis=1)  # ranked: lower index = fitter

    def _ask(self, rng):
        if self._ranked is None:
            return self._initial_population(rng)
        s, P, D = self.settings, self.popsize, self.num_params
        n_child = P - s.elite
        pop = np.empty((P, D))
        pop[:s.elite] = self._ranked[:s.elite]
        if n_child:
            mothers = self._ranked[self._select(rng, n_child)]
            if s.crossover > 0:
                fathers = self._ranked[self._select(rng, n_child)]
                mix = rng.random(n_child) < s.crossover
                take = (rng.random((n_child, D)) < 0.5) & mix[:, None]
                children = np.where(take, fathers, mothers)
            else:
                children = mothers.copy()
            mask = rng.random((n_child, D)) < s.mutation_rate
            children += mask * (s.mutation_sigma * rng.standard_normal((n_child, D)))
            pop[s.elite:] = children
        return pop

    def _tell(self, params, fitness):
        order = np.argsort(-fitness, kind="stable")
        self._ranked = params[order].copy()
        self._ranked_fitness = fitness[order].copy()

    @property
    def mean(self):
        return self.best_params if self._ranked is None else self._ranked[0]

    def _state(self):
        if self._ranked is None:
            return {}
        return {"ranked": self._ranked, "ranked_fitness": self._ranked_fitness}

    def _load_state(self, state):
        if "ranked" in state:
            self._ranked = np.array(state["ranked"], np.float64)
            self._ranked_fitness = np.array(state["ranked_fitness"], np.float64)
