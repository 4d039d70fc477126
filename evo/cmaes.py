"""CMA-ES: the covariance matrix adaptation evolution strategy (Hansen).

Follows N. Hansen, "The CMA Evolution Strategy: A Tutorial" (arXiv:1604.00772) and its
reference code ``purecma.py``, without negative weights: each generation samples
``lambda`` (the population) points ``m + sigma * B D z`` (``z ~ N(0, I)``, ``C = B D^2 B^T``),
moves the mean to the weighted mean of the best ``mu = lambda // 2`` (weights
``ln((lambda + 1) / 2) - ln i``, normalised), adapts ``sigma`` by cumulative step-size
adaptation (the conjugate path ``p_sigma``) and ``C`` by the rank-one (path ``p_c``, with
the ``h_sigma`` stall rule) and rank-mu updates, with the tutorial's default learning rates.
``C`` is eigendecomposed lazily, once ``lambda / (c_1 + c_mu) / n / 10`` evaluations have
passed since the last decomposition (the tutorial's ``purecmaes.m``; ``purecma`` waits 5x
longer): every generation for small ``n``, every few dozen near ``max_full_dim``.

Above ``max_full_dim`` parameters the covariance is diagonal: separable CMA-ES (Ros &
Hansen, "A Simple Modification in CMA-ES Achieving Linear Time and Space Complexity", 2008),
whose learning rates ``c_1`` and ``c_mu`` are those of the full update times ``(n + 2) / 3``;
state and work per generation are then O(n) besides the ``(P, D)`` population.

CMA-ES minimises; fitness here is maximised, so members are ranked by ``-fitness``.  The
search starts at ``init_params`` with step size ``sigma`` (as ``OpenAIES`` does;
``init_scale`` is not used).  All randomness is the ``rng`` passed to ``ask``, and the whole
state (including ``B`` and ``D``, which are only refreshed now and then) is in
``state_dict``, so a resumed run continues bit for bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from evo.strategy import Strategy, StrategySettings


@dataclass(frozen=True)
class CMAESSettings(StrategySettings):
    # initial step size: the spread of the first population around init_params, the same
    # as strategy.init_scale's default (0.5) gives the GA's first population
    sigma: float = 0.5
    # full covariance up to this many parameters; above it separable CMA-ES (a diagonal
    # covariance, O(n) memory and time); 0: always separable
    max_full_dim: int = 2000

    def validate(self):
        bad = []
        if not (math.isfinite(self.sigma) and self.sigma > 0):
            bad.append(("sigma", "must be a finite number > 0"))
        if self.max_full_dim < 0:
            bad.append(("max_full_dim", "must be >= 0"))
        return bad


class CMAES(Strategy):
    name = "cmaes"
    Settings = CMAESSettings
    settings: CMAESSettings

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        n, lam = self.num_params, self.popsize
        if lam < 2:
            raise ValueError(f"cmaes needs a population >= 2, got {lam}")
        self.separable = n > self.settings.max_full_dim
        # -- strategy parameters (the tutorial's defaults), from n and lambda only -----------
        self.mu = lam // 2
        w = math.log((lam + 1) / 2) - np.log(np.arange(1, self.mu + 1))
        self.weights = w / w.sum()
        self.mu_eff = 1.0 / float(np.sum(self.weights ** 2))
        mu_eff = self.mu_eff
        self.c_sigma = (mu_eff + 2) / (n + mu_eff + 5)
        self.d_sigma = 1 + 2 * max(0.0, math.sqrt((mu_eff - 1) / (n + 1)) - 1) + self.c_sigma
        self.c_c = (4 + mu_eff / n) / (n + 4 + 2 * mu_eff / n)
        c1 = 2 / ((n + 1.3) ** 2 + mu_eff)
        cmu = min(1 - c1, 2 * (mu_eff - 2 + 1 / mu_eff) / ((n + 2) ** 2 + mu_eff))
        if self.separable:  # Ros & Hansen 2008: a diagonal is learnt (n + 2) / 3 times faster
            c1 = min(1.0, c1 * (n + 2) / 3)
            cmu = min(1 - c1, cmu * (n + 2) / 3)
        self.c1, self.cmu = c1, cmu
        self.chi_n = math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n ** 2))  # E||N(0, I)||
        # evaluations between eigendecompositions (purecma's lazy_gap_evals)
        self.eigen_gap = lam / (c1 + cmu) / n / 10
        # -- state -------------------------------------------------------------------------
        self._mean = self.init_params.copy()
        self.sigma = self.settings.sigma
        self.p_sigma = np.zeros(n)
        self.p_c = np.zeros(n)
        if self.separable:
            self.C = np.ones(n)  # the diagonal of C
            self.B = None
        else:
            self.C = np.eye(n)
            self.B = np.eye(n)  # eigenvectors of C (columns), as of the last decomposition
        self.D = np.ones(n)  # square roots of C's eigenvalues (separable: of its diagonal)
        self.count_eval = 0
        self.eigen_eval = 0  # count_eval at the last eigendecomposition

    @property
    def mean(self):
        return self._mean

    def _ask(self, rng):
        z = rng.standard_normal((self.popsize, self.num_params))
        y = z * self.D if self.separable else (z * self.D) @ self.B.T  # ~ N(0, C)
        return self._mean + self.sigma * y

    def _tell(self, params, fitness):
        n, lam = self.num_params, self.popsize
        self.count_eval += lam
        generations = self.count_eval / lam
        best = np.argsort(-fitness, kind="stable")[:self.mu]  # maximised: best first
        y = (params[best] - self._mean) / self.sigma  # (mu, n) steps, ~ N(0, C)
        y_w = self.weights @ y
        self._mean = self._mean + self.sigma * y_w
        # cumulation: the conjugate path (sigma) and the path for C
        if self.separable:
            c_inv_sqrt_y = y_w / self.D
        else:
            c_inv_sqrt_y = self.B @ ((self.B.T @ y_w) / self.D)
        cs, cc = self.c_sigma, self.c_c
        self.p_sigma = (1 - cs) * self.p_sigma + math.sqrt(cs * (2 - cs) * self.mu_eff) \
            * c_inv_sqrt_y
        ps_norm = float(np.linalg.norm(self.p_sigma))
        # h_sigma: stall the rank-one path while p_sigma is long (sigma growing fast)
        hsig = ps_norm / math.sqrt(1 - (1 - cs) ** (2 * generations)) \
            < (1.4 + 2 / (n + 1)) * self.chi_n
        self.p_c = (1 - cc) * self.p_c + hsig * math.sqrt(cc * (2 - cc) * self.mu_eff) * y_w
        # covariance: rank-one and rank-mu updates (sum of weights is 1)
        c1a = self.c1 * (1 - (1 - hsig) * cc * (2 - cc))  # the variance hsig = 0 drops
        decay = 1 - c1a - self.cmu
        if self.separable:
            self.C = decay * self.C + self.c1 * self.p_c ** 2 + self.cmu * (self.weights @ y ** 2)
        else:
            self.C = decay * self.C + self.c1 * np.outer(self.p_c, self.p_c) \
                + self.cmu * (y.T * self.weights) @ y
        # cumulative step-size adaptation (the exponent capped at 1, as purecma does)
        self.sigma *= math.exp(min(1.0, cs / self.d_sigma * (ps_norm / self.chi_n - 1)))
        if self.separable:
            self.D = np.sqrt(self.C)
            self.eigen_eval = self.count_eval
        elif self.count_eval - self.eigen_eval > self.eigen_gap:
            self._decompose()

    def _decompose(self) -> None:
        self.eigen_eval = self.count_eval
        self.C = np.triu(self.C) + np.triu(self.C, 1).T  # exactly symmetric
        eigenvalues, self.B = np.linalg.eigh(self.C)
        # C is positive definite in exact arithmetic; keep rounding from making it otherwise
        floor = max(float(eigenvalues.max()), 1e-300) * 1e-20
        self.D = np.sqrt(np.maximum(eigenvalues, floor))

    def _state(self):
        state = {"mean": self._mean, "sigma": np.array(self.sigma), "C": self.C, "D": self.D,
                 "p_sigma": self.p_sigma, "p_c": self.p_c,
                 "count_eval": np.array(self.count_eval),
                 "eigen_eval": np.array(self.eigen_eval)}
        if not self.separable:
            state["B"] = self.B
        return state

    def _load_state(self, state):
        n = self.num_params
        shape = (n,) if self.separable else (n, n)
        if state["C"].shape != shape:
            raise ValueError(f"cmaes state has C of shape {state['C'].shape}, expected {shape}")
        self._mean = np.array(state["mean"], np.float64)
        self.sigma = float(state["sigma"])
        self.C = np.array(state["C"], np.float64)
        self.D = np.array(state["D"], np.float64)
        self.B = None if self.separable else np.array(state["B"], np.float64)
        self.p_sigma = np.array(state["p_sigma"], np.float64)
        self.p_c = np.array(state["p_c"], np.float64)
        self.count_eval = int(state["count_eval"])
        self.eigen_eval = int(state["eigen_eval"])
