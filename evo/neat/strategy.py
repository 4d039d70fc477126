"""The ``neat`` strategy: NEAT (Stanley & Miikkulainen 2002) behind ``ask``/``tell``.

The strategy keeps a population of :class:`evo.neat.genome.Genome` objects; ``ask``
returns them compiled into the padded parameters of the policy's :class:`nn.graph.Graph`
layer (one row each, so every backend, task and rollout runs them like any population:
one batched forward per physics step), ``tell`` takes their fitness.

Each ``ask`` after the first reproduces (:meth:`NEAT._reproduce`): species whose best
fitness has not improved for ``max_stagnation`` generations are dropped (the best
``species_elitism`` species always stay); each remaining species gets offspring in
proportion to its *shared* fitness (the mean of its members' fitness, shifted and scaled
to the population's range: explicit fitness sharing), at least ``min_species_size``;
within a species the best ``elitism`` genomes pass unchanged and the others are children
of two parents drawn from its best ``survival_threshold`` share (crossover aligned by
innovation, then mutation).  The new population is then speciated
(:meth:`NEAT._speciate`): every species' new representative is the new genome closest to
its old one, and every genome joins the species of the closest representative within
``compatibility_threshold`` (else it founds a species).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from evo.neat.genome import (
    Genome,
    Innovations,
    Shape,
    compile_genome,
    crossover,
    distance,
    initial_genome,
    mutate,
    pack,
    unpack,
)
from evo.strategy import Strategy, StrategySettings


@dataclass(frozen=True)
class NEATSettings(StrategySettings):
    max_hidden: int = 16  # most hidden nodes a genome may grow (the compiled graph's padding)
    recurrent: bool = False  # allow cycles (NEAT's recurrent networks: state between steps)
    weight_init_sigma: float = 1.0  # spread of new weights (and replaced ones)
    weight_mutate_rate: float = 0.8  # probability that a weight or bias gets N(0, power) added
    weight_mutate_power: float = 0.5  # standard deviation of that perturbation
    weight_replace_rate: float = 0.1  # probability that a weight or bias is drawn afresh
    weight_max: float = 30.0  # weights and biases are clipped to +-this
    enable_mutate_rate: float = 0.01  # probability that a connection is switched on/off
    node_add_prob: float = 0.2  # probability that a child splits a connection with a node
    conn_add_prob: float = 0.5  # probability that a child gains a connection
    compatibility_threshold: float = 3.0  # genomes closer than this share a species
    disjoint_coefficient: float = 1.0  # weight of disjoint and excess genes in the distance
    weight_coefficient: float = 0.5  # weight of matching genes' weight differences
    elitism: int = 2  # best genomes of each species copied unchanged
    survival_threshold: float = 0.2  # share of each species allowed to breed
    min_species_size: int = 2  # fewest offspring a surviving species gets
    max_stagnation: int = 20  # generations without improvement before a species is dropped
    species_elitism: int = 2  # best species protected from stagnation

    def validate(self):
        bad = []
        if self.max_hidden < 0:
            bad.append(("max_hidden", "must be >= 0"))
        for name in ("weight_mutate_rate", "weight_replace_rate", "enable_mutate_rate",
                     "node_add_prob", "conn_add_prob"):
            if not 0 <= getattr(self, name) <= 1:
                bad.append((name, "must be in [0, 1]"))
        if self.weight_mutate_rate + self.weight_replace_rate > 1:
            bad.append(("weight_replace_rate", "plus weight_mutate_rate must be <= 1"))
        for name in ("weight_init_sigma", "weight_mutate_power", "disjoint_coefficient",
                     "weight_coefficient"):
            if not getattr(self, name) >= 0:
                bad.append((name, "must be >= 0"))
        if not self.weight_max > 0:
            bad.append(("weight_max", "must be > 0"))
        if not self.compatibility_threshold > 0:
            bad.append(("compatibility_threshold", "must be > 0"))
        if self.elitism < 0:
            bad.append(("elitism", "must be >= 0"))
        if not 0 < self.survival_threshold <= 1:
            bad.append(("survival_threshold", "must be in (0, 1]"))
        if self.min_species_size < 1:
            bad.append(("min_species_size", "must be >= 1"))
        if self.max_stagnation < 1:
            bad.append(("max_stagnation", "must be >= 1"))
        if self.species_elitism < 1:
            bad.append(("species_elitism", "must be >= 1"))
        return bad


@dataclass
class Species:
    key: int
    created: int  # generation it was founded in
    representative: Genome
    members: list[int]  # indices into the population
    best: float = -np.inf  # best fitness it ever had
    last_improved: int = 0  # generation of that


class NEAT(Strategy):
    name = "neat"
    Settings = NEATSettings
    settings: NEATSettings
    needs_graph = True  # the run passes the policy's graph layer (nn.graph.Graph)

    @classmethod
    def policy_config(cls, policy, settings):
        """``policy`` with a node graph of ``settings.max_hidden`` hidden nodes (hidden
        nodes use ``policy.activation``, outputs ``policy.output``)."""
        return replace(policy, hidden=[], recurrent=0, graph_hidden=settings.max_hidden,
                       graph="recurrent" if settings.recurrent else "feedforward")

    def __init__(self, num_params: int, popsize: int, settings: NEATSettings | None = None,
                 init_params=None, init_scale: float = 0.1, *, graph=None):
        super().__init__(num_params, popsize, settings, init_params, init_scale)
        if graph is None:
            raise ValueError("neat needs the policy's graph layer (policy.graph)")
        s = self.settings
        if graph.recurrent != s.recurrent:
            raise ValueError(f"the policy graph is {'not ' * (not graph.recurrent)}"
                             f"recurrent, but neat.recurrent is {s.recurrent}")
        if graph.num_params != num_params:
            raise ValueError(f"the graph has {graph.num_params} parameters, not {num_params}")
        # the graph's padding bounds the hidden nodes (policy_config: neat.max_hidden)
        self.shape = Shape(graph.n_in, graph.n_out, graph.hidden, s.recurrent)
        self.book = Innovations(graph.n_out)
        self.population: list[Genome] = []
        self.fitness: np.ndarray | None = None  # of the population, once told
        self.species: list[Species] = []
        self.next_species = 0
        self.history: list[tuple[int, int, int]] = []  # (generation, species, size)

    # -- ask / tell -----------------------------------------------------------------------
    def _ask(self, rng):
        if not self.population:
            self.population = [initial_genome(self.shape, self.book, rng,
                                              self.settings.weight_init_sigma)
                               for _ in range(self.popsize)]
            self._speciate()
        elif self.fitness is not None:
            self.population = self._reproduce(rng)
            self.fitness = None
            self._speciate()
        return self.compiled()

    def compiled(self) -> np.ndarray:
        """The population as ``(P, D)`` graph parameters."""
        return np.stack([compile_genome(g, self.shape) for g in self.population])

    def _tell(self, params, fitness):
        self.fitness = fitness.copy()
        for sp in self.species:
            f = float(fitness[sp.members].max())
            if f > sp.best:
                sp.best, sp.last_improved = f, self.generation
            self.history.append((self.generation + 1, sp.key, len(sp.members)))

    # -- species ----------------------------------------------------------------------------
    def _distance(self, a: Genome, b: Genome) -> float:
        s = self.settings
        return distance(a, b, s.disjoint_coefficient, s.weight_coefficient)

    def _speciate(self) -> None:
        s, pop = self.settings, self.population
        free = list(range(len(pop)))
        kept = []
        for sp in self.species:  # new representative: the genome closest to the old one
            if not free:
                break
            d = [self._distance(sp.representative, pop[i]) for i in free]
            j = int(np.argmin(d))
            if d[j] < s.compatibility_threshold:
                i = free.pop(j)
                sp.representative, sp.members = pop[i], [i]
                kept.append(sp)
        self.species = kept
        for i in free:
            d = [self._distance(sp.representative, pop[i]) for sp in self.species]
            j = int(np.argmin(d)) if d else -1
            if j >= 0 and d[j] < s.compatibility_threshold:
                self.species[j].members.append(i)
            else:
                self.species.append(Species(self.next_species, self.generation, pop[i], [i],
                                            last_improved=self.generation))
                self.next_species += 1
        for sp in self.species:
            sp.members.sort()

    def _reproduce(self, rng) -> list[Genome]:
        s, P, fit, pop = self.settings, self.popsize, self.fitness, self.population
        gen = self.generation
        # stagnation: drop species that stopped improving, except the best species_elitism
        order = sorted(self.species, key=lambda sp: -sp.best)
        survivors = [sp for k, sp in enumerate(order)
                     if k < s.species_elitism or gen - sp.last_improved <= s.max_stagnation]
        survivors.sort(key=lambda sp: sp.key)
        # explicit fitness sharing: each species' mean fitness, scaled to the range
        members = np.concatenate([sp.members for sp in survivors])
        lo, hi = fit[members].min(), fit[members].max()
        shared = np.array([(fit[sp.members].mean() - lo) / max(hi - lo, 1e-12)
                           for sp in survivors])
        if shared.sum() <= 0:
            shared = np.ones(len(survivors))
        counts = _allocate(np.maximum(shared / shared.sum() * P, s.min_species_size), P)
        children: list[Genome] = []
        for sp, n in zip(survivors, counts):
            ranked = sorted(sp.members, key=lambda i: -fit[i])  # stable: ties by index
            elite = ranked[:min(s.elitism, n)]
            children.extend(pop[i].copy() for i in elite)
            parents = ranked[:max(2, int(np.ceil(s.survival_threshold * len(ranked))))]
            for _ in range(n - len(elite)):
                a = parents[int(rng.integers(len(parents)))]
                b = parents[int(rng.integers(len(parents)))]
                if fit[b] > fit[a]:
                    a, b = b, a
                child = crossover(pop[a], pop[b], rng) if a != b else pop[a].copy()
                mutate(child, self.shape, self.book, rng, s)
                children.append(child)
        return children

    def figures(self, title):
        from evo.neat.plots import species_figure

        return {"species.png": species_figure(self.history, f"{title}: species sizes")}

    # -- the champion -----------------------------------------------------------------------
    @property
    def mean(self):
        return self.best_params

    # -- checkpoints ------------------------------------------------------------------------
    def _state(self):
        state = dict(pack(self.population, "pop"))
        reps = [sp.representative for sp in self.species]
        state.update(pack(reps, "rep"))
        state.update(self.book.state())
        state["species"] = np.array([[sp.key, sp.created, sp.best, sp.last_improved]
                                     for sp in self.species], np.float64).reshape(-1, 4)
        state["species_members"] = np.array([sum(len(sp.members) for sp in self.species[:k])
                                             for k in range(len(self.species) + 1)], np.int64)
        state["members"] = np.array([i for sp in self.species for i in sp.members], np.int64)
        state["next_species"] = np.array(self.next_species)
        state["history"] = np.array(self.history, np.int64).reshape(-1, 3)
        if self.fitness is not None:
            state["fitness"] = self.fitness
        return state

    def _load_state(self, state):
        self.population = unpack(state, "pop")
        reps = unpack(state, "rep")
        self.book.load(state)
        bounds, members = state["species_members"], state["members"]
        self.species = [Species(int(k), int(c), reps[j],
                                [int(i) for i in members[bounds[j]:bounds[j + 1]]],
                                float(b), int(li))
                        for j, (k, c, b, li) in enumerate(state["species"])]
        self.next_species = int(state["next_species"])
        self.history = [tuple(map(int, r)) for r in state["history"]]
        self.fitness = np.array(state["fitness"], np.float64) if "fitness" in state else None


def _allocate(want: np.ndarray, total: int) -> list[int]:
    """Integers proportional to ``want`` summing to ``total`` (largest remainders; ties
    to the earlier entry), each at least 1 where ``total`` allows."""
    share = want / want.sum() * total
    counts = np.floor(share).astype(int)
    counts = np.maximum(counts, 1) if total >= len(want) else counts
    while counts.sum() > total:
        counts[int(np.argmax(counts))] -= 1
    rest = share - counts
    for i in np.argsort(-rest, kind="stable")[:total - counts.sum()]:
        counts[i] += 1
    return [int(c) for c in counts]
