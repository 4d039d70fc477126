"""Quality-diversity strategies: each keeps a grid archive (:mod:`evo.archive`) of the
fittest genome per cell of behaviour-descriptor space and is told the descriptors of
every genome (``tell(params, fitness, descriptors)``).

- ``map-elites`` (Mouret & Clune 2015) with the iso+line variation of Vassiliades &
  Mouret (2018): a child of two elites drawn uniformly, ``x_i + iso_sigma * N(0, I) +
  line_sigma * N(0, 1) * (x_j - x_i)``; with ``parents`` < 1 both are drawn among the
  fittest ``parents`` share of the elites only.  The first ``initial_generations`` generations
  (and any generation while the archive is empty) are a Gaussian cloud of spread
  ``init_scale`` around ``init_params``.
- ``novelty``: novelty search (Lehman & Stanley 2011) with a fitness mix.  A genome's
  novelty is the mean distance from its descriptors to the ``k`` nearest others among the
  population and the novelty archive (descriptors scaled to [0, 1] by the grid's bounds);
  after each generation the ``archive_add`` most novel genomes join the novelty archive
  (at most ``archive_size``, the oldest leave first).  Parents are the top ``parents``
  share by ``score = (1 - novelty_weight) * fitness_rank + novelty_weight *
  novelty_rank`` (ranks scaled to [0, 1], 1 the best; ties get the mean rank); children
  are parents plus ``mutation_sigma * N(0, I)``; the ``elite`` best scores pass unchanged.
  Every genome is also offered to the grid archive, for coverage and QD-score.
- ``cma-me``: CMA-ME (Fontaine et al. 2020) with improvement emitters.  The population is
  split among ``emitters`` CMA-ES instances (:class:`evo.cmaes.CMAES`), each started at a
  random elite (at first ``init_params``) with step size ``sigma``.  An emitter's members
  are ranked new cells first, then improvements of an occupied cell, each by how much
  they beat the cell (``fitness - the elite's``; an empty cell counts as ``qd.offset``),
  then the rest by that value; CMA-ES moves on that ranking.  An emitter none of whose
  members entered the archive (``restart: no_improvement``, pyribs' rule) or opened a new
  cell (``no_new_cells``) restarts at a random elite.

The hall of fame (``best_params``) is the fittest genome ever told, which is also the
archive's best elite, so ``best.npz`` is the same as for any strategy.  The whole state,
archive included, is plain arrays in ``state_dict``: a resumed run continues bit for bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from evo.archive import NEW, NOT_ADDED, GridArchive, GridSpec
from evo.cmaes import CMAES, CMAESSettings
from evo.strategy import Strategy, StrategySettings

# a grid for strategies built without one (unit tests of the registry): two descriptors
# in [-1, 1], 10 x 10 cells
DEFAULT_GRID = GridSpec(("d0", "d1"), (-1.0, -1.0), (1.0, 1.0), (10, 10))


class QDStrategy(Strategy):
    """A strategy with a grid archive, told descriptors ``(P, k)`` with the fitness."""

    uses_descriptors = True

    def __init__(self, *args, grid: GridSpec | None = None, **kw):
        super().__init__(*args, **kw)
        self.grid = grid if grid is not None else DEFAULT_GRID
        self.archive = GridArchive(self.grid, self.num_params)

    def _tell(self, params, fitness, descriptors):
        raise NotImplementedError

    def _state(self):
        return {f"archive/{k}": v for k, v in self.archive.state_dict().items()}

    def _load_state(self, state):
        self.archive.load_state_dict({k[len("archive/"):]: v for k, v in state.items()
                                      if k.startswith("archive/")})


# -- MAP-Elites --------------------------------------------------------------------------------
@dataclass(frozen=True)
class MapElitesSettings(StrategySettings):
    iso_sigma: float = 0.05  # isotropic Gaussian step of a child
    line_sigma: float = 0.2  # step along the line to a second elite (x N(0, 1))
    # generations sampled around the initial network (strategy.init_scale) before
    # children of elites
    initial_generations: int = 1
    # share of the elites, fittest first, that parents are drawn from (uniformly among
    # them); 1: all of them, classic MAP-Elites; lower leans the search toward quality
    parents: float = 1.0

    def validate(self):
        bad = []
        if not self.iso_sigma >= 0:
            bad.append(("iso_sigma", "must be >= 0"))
        if not self.line_sigma >= 0:
            bad.append(("line_sigma", "must be >= 0"))
        if self.initial_generations < 0:
            bad.append(("initial_generations", "must be >= 0"))
        if not 0 < self.parents <= 1:
            bad.append(("parents", "must be in (0, 1]"))
        return bad


def iso_line(archive: GridArchive, rng: np.random.Generator, n: int, iso_sigma: float,
             line_sigma: float, top: float = 1.0) -> np.ndarray:
    """``n`` iso+line children of uniformly drawn pairs of elites (among the fittest
    ``top`` share of them), ``(n, D)``."""
    i, j = archive.sample(rng, n, top), archive.sample(rng, n, top)
    xi, xj = archive.genomes[i], archive.genomes[j]
    iso = rng.standard_normal(xi.shape)
    line = rng.standard_normal((n, 1))
    return xi + iso_sigma * iso + line_sigma * line * (xj - xi)


class MapElites(QDStrategy):
    name = "map-elites"
    Settings = MapElitesSettings
    settings: MapElitesSettings

    def _ask(self, rng):
        s = self.settings
        if self.generation < s.initial_generations or not len(self.archive):
            return self._initial_population(rng)
        return iso_line(self.archive, rng, self.popsize, s.iso_sigma, s.line_sigma,
                        s.parents)

    def _tell(self, params, fitness, descriptors):
        self.archive.add(params, fitness, descriptors)


# -- novelty search ----------------------------------------------------------------------------
@dataclass(frozen=True)
class NoveltySettings(StrategySettings):
    k: int = 10  # nearest neighbours novelty averages over
    novelty_weight: float = 0.5  # 0: fitness alone selects, 1: novelty alone
    archive_add: int = 2  # most novel genomes per generation added to the novelty archive
    archive_size: int = 2000  # novelty archive capacity (oldest leave first)
    parents: float = 0.2  # share of the population (by score) that breeds
    elite: int = 1  # best-scored genomes copied unchanged
    mutation_sigma: float = 0.1  # Gaussian mutation of children

    def validate(self):
        bad = []
        if self.k < 1:
            bad.append(("k", "must be >= 1"))
        if not 0 <= self.novelty_weight <= 1:
            bad.append(("novelty_weight", "must be in [0, 1]"))
        if self.archive_add < 0:
            bad.append(("archive_add", "must be >= 0"))
        if self.archive_size < 0:
            bad.append(("archive_size", "must be >= 0"))
        if not 0 < self.parents <= 1:
            bad.append(("parents", "must be in (0, 1]"))
        if self.elite < 0:
            bad.append(("elite", "must be >= 0"))
        if not self.mutation_sigma >= 0:
            bad.append(("mutation_sigma", "must be >= 0"))
        return bad


def novelty(points: np.ndarray, reference: np.ndarray, k: int) -> np.ndarray:
    """Mean Euclidean distance from each of ``points (P, k_d)`` to its ``k`` nearest among
    the other points and ``reference (M, k_d)`` (itself excluded: ``points[i]`` is not its
    own neighbour); fewer than ``k`` others: the mean over all of them."""
    everyone = np.concatenate([points, reference]) if len(reference) else points
    diff = points[:, None, :] - everyone[None, :, :]  # (P, P + M, k_d)
    dist = np.sqrt(np.einsum("pmk,pmk->pm", diff, diff))
    p = len(points)
    dist[np.arange(p), np.arange(p)] = np.inf  # not its own neighbour
    others = everyone.shape[0] - 1
    kk = min(k, others)
    if kk <= 0:
        return np.zeros(p)
    near = np.partition(dist, kk - 1, axis=1)[:, :kk]
    return near.mean(axis=1)


def unit_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks of ``x`` scaled to [0, 1] (1: the largest), ties sharing their mean rank."""
    n = len(x)
    if n == 1:
        return np.ones(1)
    order = np.argsort(x, kind="stable")
    ranks = np.empty(n)
    ranks[order] = np.arange(n, dtype=np.float64)
    _, inverse = np.unique(x, return_inverse=True)  # average the ranks of equal values
    sums = np.bincount(inverse, ranks)
    counts = np.bincount(inverse)
    return (sums / counts)[inverse] / (n - 1)


class NoveltySearch(QDStrategy):
    name = "novelty"
    Settings = NoveltySettings
    settings: NoveltySettings

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        k = len(self.grid.names)
        self.novelty_archive = np.zeros((0, k))  # (M, k) scaled descriptors
        self._parents: np.ndarray | None = None  # (P, D) last population, best score first
        self.last_novelty = np.zeros(0)

    def scaled(self, descriptors: np.ndarray) -> np.ndarray:
        low, high = np.asarray(self.grid.low), np.asarray(self.grid.high)
        return (np.asarray(descriptors, np.float64) - low) / (high - low)

    def _ask(self, rng):
        if self._parents is None:
            return self._initial_population(rng)
        s, P = self.settings, self.popsize
        elite = min(s.elite, P)
        n_par = max(1, int(round(s.parents * P)))
        pop = np.empty((P, self.num_params))
        pop[:elite] = self._parents[:elite]
        n_child = P - elite
        mothers = self._parents[rng.integers(0, n_par, n_child)]
        pop[elite:] = mothers + s.mutation_sigma * rng.standard_normal(mothers.shape)
        return pop

    def _tell(self, params, fitness, descriptors):
        s = self.settings
        self.archive.add(params, fitness, descriptors)
        points = self.scaled(descriptors)
        points = np.where(np.isfinite(points), points, 0.0)  # NaN descriptors: the corner
        nov = novelty(points, self.novelty_archive, s.k)
        self.last_novelty = nov
        score = (1 - s.novelty_weight) * unit_ranks(fitness) + s.novelty_weight * unit_ranks(nov)
        order = np.argsort(-score, kind="stable")
        self._parents = params[order].copy()
        if s.archive_add and s.archive_size:
            newest = points[np.argsort(-nov, kind="stable")[:s.archive_add]]
            self.novelty_archive = np.concatenate([self.novelty_archive, newest])[
                -s.archive_size:]

    def _state(self):
        state = super()._state()
        state["novelty_archive"] = self.novelty_archive
        if self._parents is not None:
            state["parents"] = self._parents
        return state

    def _load_state(self, state):
        super()._load_state(state)
        self.novelty_archive = np.array(state["novelty_archive"], np.float64).reshape(
            -1, len(self.grid.names))
        self._parents = (np.array(state["parents"], np.float64) if "parents" in state
                         else None)


# -- CMA-ME ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CMAMESettings(StrategySettings):
    emitters: int = 2  # improvement emitters; each gets population / emitters genomes
    sigma: float = 0.5  # initial step size of each (re)started emitter
    # full covariance up to this many parameters, above it diagonal (as cmaes.max_full_dim)
    max_full_dim: int = 2000
    # when an emitter restarts at a random elite: no_improvement (none of its genomes
    # entered the archive, pyribs' default) or no_new_cells (none opened a new cell)
    restart: str = "no_improvement"

    def validate(self):
        bad = []
        if self.emitters < 1:
            bad.append(("emitters", "must be >= 1"))
        if not (math.isfinite(self.sigma) and self.sigma > 0):
            bad.append(("sigma", "must be a finite number > 0"))
        if self.max_full_dim < 0:
            bad.append(("max_full_dim", "must be >= 0"))
        if self.restart not in RESTART_RULES:
            bad.append(("restart", f"must be one of {', '.join(RESTART_RULES)}"))
        return bad


RESTART_RULES = ("no_improvement", "no_new_cells")  # cma_me.restart


class CMAME(QDStrategy):
    name = "cma-me"
    Settings = CMAMESettings
    settings: CMAMESettings

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        e = self.settings.emitters
        if self.popsize % e or self.popsize // e < 2:
            raise ValueError(f"cma-me: the population ({self.popsize}) must be a multiple of "
                             f"cma-me.emitters ({e}) with at least 2 genomes per emitter")
        self.batch = self.popsize // e
        self.emitters = [self._emitter(self.init_params) for _ in range(e)]
        self.restart = np.zeros(e, bool)  # restart at a random elite at the next ask
        self.restarts = 0

    def _emitter(self, start: np.ndarray) -> CMAES:
        s = self.settings
        return CMAES(self.num_params, self.batch, CMAESSettings(s.sigma, s.max_full_dim),
                     init_params=start)

    def _ask(self, rng):
        for e in np.flatnonzero(self.restart):
            start = (self.archive.genomes[self.archive.sample(rng, 1)[0]] if len(self.archive)
                     else self.init_params)
            self.emitters[e] = self._emitter(start)
            self.restart[e] = False
            self.restarts += 1
        return np.concatenate([em.ask(rng) for em in self.emitters])

    def _tell(self, params, fitness, descriptors):
        status, value = self.archive.add(params, fitness, descriptors)
        value = np.where(np.isnan(value), -np.inf, value)
        for e, em in enumerate(self.emitters):
            part = slice(e * self.batch, (e + 1) * self.batch)
            st, val = status[part], value[part]
            # new cells first, then improvements, then the rest; by value within each
            order = np.lexsort((-val, st != NEW, st == NOT_ADDED))  # False sorts first
            score = np.empty(self.batch)
            score[order] = -np.arange(self.batch, dtype=np.float64)  # higher = better
            em.tell(params[part], score)
            stuck = (st == NOT_ADDED).all() if self.settings.restart == "no_improvement" \
                else (st != NEW).all()
            if stuck or not em.sigma > 1e-12:
                self.restart[e] = True

    def _state(self):
        state = super()._state()
        for e, em in enumerate(self.emitters):
            state.update({f"emitter{e}/{k}": v for k, v in em.state_dict().items()})
        state["restart"] = self.restart
        state["restarts"] = np.array(self.restarts)
        return state

    def _load_state(self, state):
        super()._load_state(state)
        for e in range(len(self.emitters)):
            prefix = f"emitter{e}/"
            em = self._emitter(self.init_params)
            em.load_state_dict({k[len(prefix):]: v for k, v in state.items()
                                if k.startswith(prefix)})
            self.emitters[e] = em
        self.restart = np.array(state["restart"], bool)
        self.restarts = int(state["restarts"])
