"""Every registered strategy: shapes, bookkeeping, checkpoints; GA and ES optimise."""

import numpy as np
import pytest

from evo.config import StrategyConfig
from evo.es import OpenAIES, centered_ranks
from evo.ga import GASettings, SimpleGA
from evo.random_search import RandomSearch
from evo.registry import STRATEGIES

D = 100


def make(name, num_params, popsize):
    """``STRATEGIES[name]`` with ``num_params`` parameters; a strategy that evolves node
    graphs (neat) gets a small graph instead, and says its size in ``num_params``."""
    cls = STRATEGIES[name]
    if cls.needs_graph:
        from nn.graph import Graph

        graph = Graph(3, 2, 2)
        return cls(graph.num_params, popsize, graph=graph)
    return cls(num_params=num_params, popsize=popsize)


def sphere(pop, center):  # maximised: 0 at the optimum
    return -np.sum((pop - center) ** 2, axis=1)


def rastrigin(pop):
    return -(10 * pop.shape[1] + np.sum(pop ** 2 - 10 * np.cos(2 * np.pi * pop), axis=1))


def tell(strategy, pop, fit):
    """``strategy.tell``; a quality-diversity strategy is also told descriptors (the first
    two genes, which its default grid spreads over [-1, 1]^2)."""
    if strategy.uses_descriptors:
        strategy.tell(pop, fit, np.tanh(pop[:, :2]))
    else:
        strategy.tell(pop, fit)


def run(strategy, f, generations, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(generations):
        pop = strategy.ask(rng)
        tell(strategy, pop, f(pop))
    return strategy.best_fitness


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_ask_tell_shapes_and_hall_of_fame(name):
    s = make(name, 7, 10)
    rng = np.random.default_rng(0)
    best = -np.inf
    for g in range(5):
        pop = s.ask(rng)
        assert pop.shape == (10, s.num_params) and pop.dtype == np.float64
        fit = rng.normal(size=10)
        fit[3] = 100.0 if g == 1 else fit[3]
        best = max(best, fit.max())
        tell(s, pop, fit)
        if g == 1:
            winner = pop[3].copy()
        assert s.generation == g + 1
    assert s.best_fitness == best == 100.0
    np.testing.assert_array_equal(s.best_params, winner)
    with pytest.raises(ValueError):
        tell(s, pop[:3], fit[:3])


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_state_round_trip_continues_identically(name):
    a = make(name, 7, 10)
    center = np.linspace(-1, 1, a.num_params)
    run(a, lambda p: sphere(p, center), 3, seed=1)
    state = {k: np.array(v) for k, v in a.state_dict().items()}
    b = make(name, 7, 10)
    b.load_state_dict(state)
    rng_a, rng_b = np.random.default_rng(9), np.random.default_rng(9)
    for _ in range(3):
        pa, pb = a.ask(rng_a), b.ask(rng_b)
        np.testing.assert_array_equal(pa, pb)
        tell(a, pa, sphere(pa, center))
        tell(b, pb, sphere(pb, center))
    assert a.best_fitness == b.best_fitness


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_same_seed_same_populations(name):
    out = []
    for _ in range(2):
        s = make(name, 5, 8)
        run(s, lambda p: sphere(p, 0.5), 4, seed=3)
        out.append(s.ask(np.random.default_rng(4)))
    np.testing.assert_array_equal(out[0], out[1])


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_every_strategy_has_a_config_section_with_valid_defaults(name):
    cfg = StrategyConfig(name=name)
    assert cfg.validate() == []
    assert type(cfg.settings) is STRATEGIES[name].Settings
    assert cfg.settings.validate() == []


def test_elitism_keeps_the_best_unchanged():
    s = SimpleGA(num_params=4, popsize=6, settings=GASettings(elite=2, mutation_rate=1.0))
    rng = np.random.default_rng(0)
    pop = s.ask(rng)
    fit = np.array([1.0, 5.0, 3.0, -1.0, 4.0, 0.0])
    s.tell(pop, fit)
    nxt = s.ask(rng)
    np.testing.assert_array_equal(nxt[0], pop[1])
    np.testing.assert_array_equal(nxt[1], pop[4])
    assert not any(np.array_equal(nxt[i], pop[j]) for i in range(2, 6) for j in range(6))


def test_truncation_breeds_only_from_the_top():
    s = SimpleGA(num_params=3, popsize=10,
                 settings=GASettings(elite=0, parents=0.2, mutation_rate=0.0))
    rng = np.random.default_rng(0)
    pop = s.ask(rng)
    s.tell(pop, np.arange(10.0))
    nxt = s.ask(rng)
    for child in nxt:  # no mutation: every child is a copy of member 9 or 8
        assert any(np.array_equal(child, pop[j]) for j in (8, 9))


def test_ga_settings_are_checked():
    with pytest.raises(ValueError, match="mutation_rate"):
        SimpleGA(3, 5, settings=GASettings(mutation_rate=1.5))
    with pytest.raises(ValueError, match="elite"):
        SimpleGA(3, 5, settings=GASettings(elite=6))
    with pytest.raises(ValueError, match="population"):
        SimpleGA(3, 0)
    with pytest.raises(ValueError, match="even"):
        OpenAIES(3, 5)


def test_centered_ranks():
    np.testing.assert_allclose(centered_ranks(np.array([10.0, -1.0, 3.0])), [0.5, -0.5, 0.0])
    np.testing.assert_allclose(centered_ranks(np.array([1.0, 1.0, 0.0, 2.0])),
                               [0.0, 0.0, -0.5, 0.5])


def test_ga_and_es_solve_a_100d_sphere():
    center = np.random.default_rng(5).uniform(-1, 1, D)
    f = lambda p: sphere(p, center)  # noqa: E731
    start = -f(np.zeros((1, D)))[0]  # ~33
    ga = SimpleGA(D, 100, settings=GASettings(elite=5, mutation_rate=0.1, mutation_sigma=0.05),
                  init_scale=0.5)
    es = OpenAIES(D, 100, settings=OpenAIES.Settings(sigma=0.05, lr=0.05, weight_decay=0.0))
    assert -run(ga, f, 300) < 0.01 * start
    assert -run(es, f, 300) < 0.01 * start


def test_ga_and_es_beat_random_search_on_rastrigin():
    n, start = 10, np.full(10, 3.0)
    makers = {
        "ga": lambda: SimpleGA(n, 50, settings=GASettings(elite=2, mutation_rate=0.3,
                                                           mutation_sigma=0.3),
                               init_params=start, init_scale=2.0),
        "es": lambda: OpenAIES(n, 50, settings=OpenAIES.Settings(sigma=1.0, lr=0.1,
                                                                weight_decay=0.0),
                               init_params=start),
        "random": lambda: RandomSearch(n, 50, settings=RandomSearch.Settings(sigma=2.0),
                                       init_params=start),
    }
    results = {name: np.median([run(make(), rastrigin, 150, seed=k) for k in range(3)])
               for name, make in makers.items()}
    assert results["ga"] > results["random"] and results["es"] > results["random"], results
