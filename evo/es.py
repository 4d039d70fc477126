"""OpenAI-style evolution strategies (Salimans et al., 2017).

Antithetic sampling (pairs ``mean +- sigma * eps``), centred-rank fitness shaping, and Adam
on the mean with decoupled weight decay.  The gradient estimate of expected fitness is
``sum_i w_i eps_i / (P sigma)`` with ``w`` the centred ranks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evo.strategy import Strategy, StrategySettings


@dataclass(frozen=True)
class ESSettings(StrategySettings):
    sigma: float = 0.1  # standard deviation of the perturbations
    lr: float = 0.03  # Adam step size on the mean
    beta1: float = 0.9  # Adam first-moment decay
    beta2: float = 0.999  # Adam second-moment decay
    weight_decay: float = 0.005  # pulls the mean toward zero each step (times lr)
    antithetic: bool = True  # evaluate mean + eps and mean - eps in pairs

    def validate(self):
        bad = []
        if not self.sigma > 0:
            bad.append(("sigma", "must be > 0"))
        if not self.lr > 0:
            bad.append(("lr", "must be > 0"))
        if not (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1):
            bad.append(("beta1", "beta1 and beta2 must be in [0, 1)"))
        if self.weight_decay < 0:
            bad.append(("weight_decay", "must be >= 0"))
        return bad


def centered_ranks(fitness: np.ndarray) -> np.ndarray:
    """Ranks scaled to [-0.5, 0.5]; ties share their mean rank."""
    n = len(fitness)
    if n == 1:
        return np.zeros(1)
    order = np.argsort(fitness, kind="stable")
    ranks = np.empty(n)
    ranks[order] = np.arange(n, dtype=np.float64)
    # average ranks over ties, so equal fitness gets equal weight
    uniq, inv = np.unique(fitness, return_inverse=True)
    if len(uniq) < n:
        sums = np.bincount(inv, weights=ranks)
        counts = np.bincount(inv)
        ranks = (sums / counts)[inv]
    return ranks / (n - 1) - 0.5


class OpenAIES(Strategy):
    name = "es"
    Settings = ESSettings
    settings: ESSettings

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        if self.settings.antithetic and self.popsize % 2:
            raise ValueError(f"es with antithetic sampling needs an even population, "
                             f"got {self.popsize}")
        self._mean = self.init_params.copy()
        self._m = np.zeros(self.num_params)
        self._v = np.zeros(self.num_params)
        self._t = 0

    @property
    def mean(self):
        return self._mean

    def _ask(self, rng):
        P, D = self.popsize, self.num_params
        if self.settings.antithetic:
            half = rng.standard_normal((P // 2, D))
            eps = np.concatenate([half, -half])
        else:
            eps = rng.standard_normal((P, D))
        return self._mean + self.settings.sigma * eps

    def _tell(self, params, fitness):
        s = self.settings
        eps = (params - self._mean) / s.sigma
        w = centered_ranks(fitness)
        grad = w @ eps / (self.popsize * s.sigma)  # ascent direction
        self._t += 1
        self._m = s.beta1 * self._m + (1 - s.beta1) * grad
        self._v = s.beta2 * self._v + (1 - s.beta2) * grad * grad
        m_hat = self._m / (1 - s.beta1 ** self._t)
        v_hat = self._v / (1 - s.beta2 ** self._t)
        self._mean = self._mean + s.lr * (m_hat / (np.sqrt(v_hat) + 1e-8)
                                          - s.weight_decay * self._mean)

    def _state(self):
        return {"mean": self._mean, "m": self._m, "v": self._v, "t": np.array(self._t)}

    def _load_state(self, state):
        self._mean = np.array(state["mean"], np.float64)
        self._m = np.array(state["m"], np.float64)
        self._v = np.array(state["v"], np.float64)
        self._t = int(state["t"])
