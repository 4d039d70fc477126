"""NEAT: genes and innovation numbers, crossover, distance, speciation, the compiled batched
forward against a node-by-node reference, XOR, determinism, checkpoints, and runs of the
``neat`` strategy through evolve, resume, the backends, replay and export-graph."""

import json

import numpy as np
import pytest

from common.config import build
from evo.config import EvolveConfig
from evo.neat.export import graph_from_json, graph_json
from evo.neat.genome import (
    Conn,
    Genome,
    Innovations,
    Shape,
    compile_genome,
    creates_cycle,
    crossover,
    depths,
    distance,
    initial_genome,
    mutate,
)
from evo.neat.strategy import NEAT, NEATSettings, _allocate
from evo.run import EvolutionRun
from nn.activations import get_activation
from nn.graph import Graph
from nn.network import Network
from tests.conftest import REPO, assert_user_error

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float64)
XOR_Y = np.array([0, 1, 1, 0], np.float64)


def graph_net(n_in, n_out, hidden, recurrent=False, act="tanh", hidden_act="tanh"):
    return Network(layers=[{"graph": n_out, "hidden": hidden, "activation": act,
                            "hidden_activation": hidden_act, "recurrent": recurrent}],
                   input_shape=(n_in,), loss="mse", dtype=np.float64)


def grown(shape, n, seed, steps=30, **over):
    """``n`` genomes grown by ``steps`` rounds of mutation (nodes and connections added
    often), sharing one innovation book."""
    s = NEATSettings(node_add_prob=0.5, conn_add_prob=0.9, **over)
    rng = np.random.default_rng(seed)
    book = Innovations(shape.n_out)
    out = []
    for _ in range(n):
        g = initial_genome(shape, book, rng, 1.0)
        for _ in range(int(rng.integers(0, steps))):
            mutate(g, shape, book, rng, s)
        out.append(g)
    return out


# -- genes ---------------------------------------------------------------------------------
def test_crossover_aligns_genes_by_innovation():
    # innovations: 0: -1->0, 1: -2->0, 2: -1->2, 3: 2->0 (both parents), 4: -2->2 (only the
    # fitter), 5: 2->2?  no: 5 is -1->3 only in the other parent
    fit = Genome({0: 0.1, 2: 0.2},
                 {(-1, 0): Conn(1.0, False, 0), (-2, 0): Conn(2.0, True, 1),
                  (-1, 2): Conn(3.0, True, 2), (2, 0): Conn(4.0, True, 3),
                  (-2, 2): Conn(5.0, True, 4)})
    other = Genome({0: -0.1, 2: -0.2, 3: -0.3},
                   {(-1, 0): Conn(-1.0, True, 0), (-2, 0): Conn(-2.0, True, 1),
                    (-1, 2): Conn(-3.0, True, 2), (2, 0): Conn(-4.0, True, 3),
                    (-1, 3): Conn(-6.0, True, 5), (3, 0): Conn(-7.0, True, 6)})
    seen = {k: set() for k in fit.conns}
    disabled = 0
    for seed in range(200):
        child = crossover(fit, other, np.random.default_rng(seed))
        # the child has exactly the fitter parent's genes, in its order
        assert list(child.conns) == list(fit.conns) and list(child.nodes) == [0, 2]
        for key, c in child.conns.items():
            assert c.innovation == fit.conns[key].innovation
            seen[key].add(c.weight)
        disabled += not child.conns[(-1, 0)].enabled
        assert child.conns[(-2, 2)].weight == 5.0  # disjoint: the fitter parent's
        assert all(child.conns[k].enabled for k in list(fit.conns)[1:])
    # matching genes take either parent's weight, and both happen
    for key in list(fit.conns)[:4]:
        assert seen[key] == {fit.conns[key].weight, other.conns[key].weight}
    assert 0.6 < disabled / 200 < 0.9  # disabled in one parent: off with probability 0.75


def test_distance_by_hand():
    a = Genome({0: 0.0, 2: 1.0}, {(-1, 0): Conn(1.0, True, 0), (-1, 2): Conn(0.5, True, 1),
                                  (2, 0): Conn(2.0, True, 2)})
    b = Genome({0: 0.5}, {(-1, 0): Conn(0.0, False, 0), (-2, 0): Conn(1.0, True, 3)})
    # connections: matching {0}: |1-0| + enabled differs = 2; disjoint 1, 2, 3 -> 3
    # (1 * 3 + 0.5 * 2) / 3; nodes: matching {0}: 0.5, disjoint {2}: (1 + 0.5 * 0.5) / 2
    want = (3 + 0.5 * 2) / 3 + (1 + 0.25) / 2
    assert distance(a, b, 1.0, 0.5) == pytest.approx(want)
    assert distance(a, a, 1.0, 0.5) == 0.0
    assert distance(a, b, 1.0, 0.5) == distance(b, a, 1.0, 0.5)


def test_innovation_numbers_are_shared_across_genomes():
    shape = Shape(3, 2, 10)
    genomes = grown(shape, 20, seed=1)
    by_key = {}
    for g in genomes:
        for key, c in g.conns.items():
            assert by_key.setdefault(key, c.innovation) == c.innovation
    assert len(set(by_key.values())) == len(by_key)  # one number per structure


def test_feedforward_genomes_stay_acyclic_and_bounded():
    shape = Shape(3, 2, 4)
    for g in grown(shape, 30, seed=2, steps=60):
        assert len(g.hidden(2)) <= 4
        for key in g.conns:  # no connection closes a loop through the others
            others = {k: c for k, c in g.conns.items() if k != key}
            assert not creates_cycle(others, key)
        d = depths(g, shape)
        for (a, b), c in g.conns.items():
            if c.enabled and a >= 0:
                assert d[b] > d[a]


def test_recurrent_genomes_may_have_cycles():
    shape = Shape(2, 1, 6, recurrent=True)
    gs = grown(shape, 40, seed=3, steps=60)
    assert any(creates_cycle({k: c for k, c in g.conns.items() if k != key}, key)
               for g in gs for key in g.conns)


def test_allocate_sums_to_the_population():
    for want, total in (([1.0, 1.0, 1.0], 10), ([5.0, 1.0], 7), ([0.1, 3.0, 2.0, 2.0], 150)):
        counts = _allocate(np.array(want), total)
        assert sum(counts) == total and min(counts) >= 1
    assert _allocate(np.array([3.0, 1.0]), 8) == [6, 2]


# -- the compiled forward against a node-by-node reference ----------------------------------
def reference(g: Genome, shape: Shape, xs: np.ndarray, act: str, hidden_act: str):
    """Evaluate ``g`` on the inputs ``xs (T, n_in)`` node by node, straight from its genes:
    feed-forward, each step on its own by recursion over the enabled connections;
    recurrent, every node from the previous step's values (zeros first), like
    neat-python's RecurrentNetwork."""
    fo, fh = get_activation(act).forward, get_activation(hidden_act).forward
    f = {n: fo if n < shape.n_out else fh for n in g.nodes}
    into = {n: [(a, c.weight) for (a, b), c in g.conns.items() if b == n and c.enabled]
            for n in g.nodes}
    def node(n, z):  # one node's value from its pre-activation
        return float(f[n](np.array([z]))[0])

    def source(a, x, values):  # an input, or a node's value in ``values``
        return x[-a - 1] if a < 0 else values[a]

    def value(n, x, memo):  # feed-forward: by recursion over the enabled connections
        if n not in memo:
            memo[n] = node(n, g.nodes[n] + sum(
                w * (x[-a - 1] if a < 0 else value(a, x, memo)) for a, w in into[n]))
        return memo[n]

    out = []
    prev = {n: 0.0 for n in g.nodes}
    for x in xs:
        if shape.recurrent:
            prev = {n: node(n, g.nodes[n] + sum(w * source(a, x, prev) for a, w in into[n]))
                    for n in g.nodes}
            out.append([prev[o] for o in range(shape.n_out)])
        else:
            memo = {}
            out.append([value(o, x, memo) for o in range(shape.n_out)])
    return np.array(out)


@pytest.mark.parametrize("recurrent", [False, True])
def test_population_forward_matches_a_node_by_node_reference(recurrent):
    shape = Shape(4, 3, 8, recurrent)
    genomes = grown(shape, 25, seed=4, steps=40)
    assert len({len(g.hidden(3)) for g in genomes}) > 3  # topologies differ
    if not recurrent:  # and several depth levels deep
        assert max(max(depths(g, shape).values()) for g in genomes) >= 3
    net = graph_net(4, 3, 8, recurrent, act="tanh", hidden_act="sigmoid")
    thetas = np.stack([compile_genome(g, shape) for g in genomes])
    xs = np.random.default_rng(5).normal(size=(6, len(genomes), 4))  # 6 steps
    policy = net.member_policy(thetas)
    got = np.stack([policy(x) for x in xs], axis=1)  # (P, T, n_out)
    for p, g in enumerate(genomes):
        want = reference(g, shape, xs[:, p], "tanh", "sigmoid")
        np.testing.assert_allclose(got[p], want, rtol=1e-12, atol=1e-12)
    # a subset of members goes on with its state (an episode whose other agents finished)
    sub = policy.select([3, 7])
    x = np.random.default_rng(6).normal(size=(2, 4))
    got = sub(x)
    for row, p in enumerate((3, 7)):
        want = reference(genomes[p], shape, np.vstack([xs[:, p], x[row]]), "tanh", "sigmoid")
        np.testing.assert_allclose(got[row], want[-1], rtol=1e-12, atol=1e-12)


def test_forward_population_over_samples_matches_member_steps():
    shape = Shape(2, 1, 5)
    genomes = grown(shape, 10, seed=7)
    net = graph_net(2, 1, 5)
    thetas = np.stack([compile_genome(g, shape) for g in genomes])
    batch = net.forward_population(XOR_X, thetas)  # (P, 4, 1)
    for b in range(4):
        np.testing.assert_allclose(
            batch[:, b], net.member_policy(thetas)(np.repeat(XOR_X[b:b + 1], 10, 0)),
            atol=1e-14)


# -- the strategy ------------------------------------------------------------------------------
def xor_run(seed, generations=150, popsize=150):
    layer = Graph(2, 1, 16, "sigmoid", "sigmoid")
    s = NEAT(layer.num_params, popsize, NEATSettings(), graph=layer)
    rng = np.random.default_rng(seed)
    for g in range(generations):
        pop = s.ask(rng)
        fit = 4 - ((layer.forward_population(XOR_X, pop)[:, :, 0] - XOR_Y) ** 2).sum(1)
        s.tell(pop, fit)
        if fit.max() > 3.9:
            return s, g + 1
    return s, None


def test_neat_solves_xor():
    """XOR needs a hidden node: the minimal start cannot solve it."""
    for seed in (0, 1):
        s, gens = xor_run(seed)
        assert gens is not None, f"seed {seed}: not solved in 150 generations"
        layer = Graph(2, 1, 16, "sigmoid", "sigmoid")
        out = layer.forward_population(XOR_X, s.best_params[None])[0, :, 0]
        np.testing.assert_array_equal(out > 0.5, XOR_Y > 0.5)
        assert (s.best_params.reshape(-1)[-17:] > 0).sum() >= 2  # an output and a hidden node


def test_same_seed_same_evolution_and_checkpoint_round_trip():
    layer = Graph(3, 2, 6)

    def fitness(pop):
        x = np.random.default_rng(0).normal(size=(8, 3))
        return -((layer.forward_population(x, pop) - 0.3) ** 2).sum(axis=(1, 2))

    def run(s, rng, gens):
        for _ in range(gens):
            pop = s.ask(rng)
            s.tell(pop, fitness(pop))
        return pop

    settings = NEATSettings(compatibility_threshold=1.0, node_add_prob=0.5)
    a, b = (NEAT(layer.num_params, 30, settings, graph=layer) for _ in range(2))
    ra, rb = np.random.default_rng(1), np.random.default_rng(1)
    np.testing.assert_array_equal(run(a, ra, 8), run(b, rb, 8))
    assert len(a.species) > 1 and a.history == b.history
    # a checkpoint in the middle continues exactly
    state = {k: np.array(v) for k, v in a.state_dict().items()}
    c = NEAT(layer.num_params, 30, settings, graph=layer)
    c.load_state_dict(state)
    rc = np.random.default_rng(2)
    ra = np.random.default_rng(2)
    np.testing.assert_array_equal(run(a, ra, 5), run(c, rc, 5))
    assert a.best_fitness == c.best_fitness and a.history == c.history
    assert [sp.members for sp in a.species] == [sp.members for sp in c.species]


def test_stagnant_species_are_dropped_but_the_best_kept():
    layer = Graph(3, 2, 4)
    settings = NEATSettings(compatibility_threshold=1e-9, max_stagnation=1, species_elitism=2,
                            elitism=1)
    s = NEAT(layer.num_params, 12, settings, graph=layer)
    rng = np.random.default_rng(0)
    pop = s.ask(rng)
    assert len(s.species) == 12  # every genome its own species
    fit = np.arange(12.0)
    s.tell(pop, fit)
    for sp in s.species:  # no species improves from here on
        sp.last_improved = -5
    nxt = s._reproduce(rng)
    # only the two best species breed; their elites pass unchanged
    rows = {compile_genome(g, s.shape).tobytes() for g in nxt}
    assert pop[11].tobytes() in rows and pop[10].tobytes() in rows
    assert not any(pop[i].tobytes() in rows for i in range(10))


def test_fitness_sharing_gives_fitter_species_more_offspring():
    layer = Graph(3, 2, 4)
    s = NEAT(layer.num_params, 20, NEATSettings(compatibility_threshold=1e-9), graph=layer)
    pop = s.ask(np.random.default_rng(0))
    s.species = s.species[:2]  # two species: members 0-9 and 10-19
    s.species[0].members, s.species[1].members = list(range(10)), list(range(10, 20))
    fit = np.r_[np.zeros(10), np.ones(10)]
    fit[0] = 1.0  # species 0: mean 0.1; species 1: mean 1.0
    s.tell(pop, fit)
    kids = s._reproduce(np.random.default_rng(1))
    assert len(kids) == 20
    # shared fitness (0.1 - 0) / 1 and (1 - 0) / 1: 20 offspring split 1.8 : 18.2, at least
    # min_species_size 2 -> 2 and 18; each species' offspring start with its 2 elites
    rows = [compile_genome(g, s.shape) for g in kids]
    np.testing.assert_array_equal(rows[0], pop[0])  # species 0's best
    np.testing.assert_array_equal(rows[1], pop[1])  # its second (ties: the first index)
    np.testing.assert_array_equal(rows[2], pop[10])  # species 1's best two
    np.testing.assert_array_equal(rows[3], pop[11])
    assert not any(np.array_equal(rows[4], pop[i]) for i in range(20))  # then children


def test_settings_are_checked():
    layer = Graph(2, 1, 2)
    with pytest.raises(ValueError, match="node_add_prob"):
        NEAT(layer.num_params, 5, NEATSettings(node_add_prob=2.0), graph=layer)
    with pytest.raises(ValueError, match="graph"):
        NEAT(layer.num_params, 5)
    with pytest.raises(ValueError, match="recurrent"):
        NEAT(layer.num_params, 5, NEATSettings(recurrent=True), graph=layer)


# -- runs ----------------------------------------------------------------------------------
SMALL = {"population": 12, "generations": 3, "seed": 5,
         "strategy": {"name": "neat", "neat": {"node_add_prob": 0.5, "max_hidden": 6}},
         "cars": {"world": {"max_time": 4.0, "stall_time": 2.0}}}


def neat_cfg(**over):
    return build(EvolveConfig, {**SMALL, **over}, "test: ")


def test_run_resume_equals_uninterrupted_and_backends_agree(tmp_path):
    full = EvolutionRun(neat_cfg(generations=4), tmp_path / "full")
    assert full.run() == "completed"
    assert full.net.describe() == "graph2h6"
    part = EvolutionRun(neat_cfg(generations=2), tmp_path / "part")
    part.run()
    resumed = EvolutionRun.resume(tmp_path / "part", generations=4)
    assert resumed.generation == 2
    resumed.run()
    assert (tmp_path / "full" / "fitness.csv").read_bytes() == \
        (tmp_path / "part" / "fitness.csv").read_bytes()
    np.testing.assert_array_equal(full.strategy.best_params, resumed.strategy.best_params)
    proc = EvolutionRun(neat_cfg(generations=4, evaluation={"backend": "process",
                                                            "workers": 2}), tmp_path / "proc")
    proc.run()
    assert (tmp_path / "full" / "fitness.csv").read_bytes() == \
        (tmp_path / "proc" / "fitness.csv").read_bytes()


def test_best_npz_holds_the_graph_replay_and_export(tmp_path, cli):
    out = tmp_path / "run"
    run = EvolutionRun(neat_cfg(), out)
    run.run()
    from evo.policy_file import read_policy

    pf = read_policy(out / "best.npz")
    assert isinstance(pf.net.layers[0], Graph) and pf.policy.graph == "feedforward"
    np.testing.assert_array_equal(pf.net.theta, run.strategy.best_params)
    # the champion drives the same episode from the file as in the run
    task = run.task
    seeds = [12345]
    a = task.evaluate_episodes(run.strategy.best_params[None], seeds)[0]["fitness"]
    from evo.tasks import TaskSpec

    again = TaskSpec("cars", pf.config, run.cfg.walkers, pf.policy).build()
    b = again.evaluate_episodes(pf.net.theta[None], seeds)[0]["fitness"]
    np.testing.assert_array_equal(a, b)
    # species.png, from the species sizes that fill the population every generation
    assert (out / "species.png").is_file()
    sizes = {}
    for gen, _, size in run.strategy.history:
        sizes[gen] = sizes.get(gen, 0) + size
    assert sizes == {g: 12 for g in (1, 2, 3)}
    res = cli("replay", str(out / "best.npz"), "--headless")
    assert res.returncode == 0, res.stderr
    res = cli("export-graph", str(out / "best.npz"), "--out", str(tmp_path / "g.json"))
    assert res.returncode == 0, res.stderr
    doc = json.loads((tmp_path / "g.json").read_text())
    assert doc["format"] == "neuroevo-graph" and doc["outputs"] == [0, 1]
    assert len(doc["inputs"]) == pf.net.n_inputs
    # the JSON is the whole graph: it compiles back to the same parameters
    np.testing.assert_array_equal(graph_from_json(pf.net.layers[0], doc), pf.net.theta)
    assert graph_json(pf.net.layers[0], pf.net.theta)["connections"] == doc["connections"]


def test_recurrent_neat_runs_and_resumes(tmp_path):
    cfg = {"strategy": {"name": "neat", "neat": {"recurrent": True, "max_hidden": 4,
                                                 "node_add_prob": 0.5}}}
    full = EvolutionRun(neat_cfg(generations=3, **cfg), tmp_path / "full")
    full.run()
    assert full.net.layers[0].recurrent
    part = EvolutionRun(neat_cfg(generations=1, **cfg), tmp_path / "part")
    part.run()
    EvolutionRun.resume(tmp_path / "part", generations=3).run()
    assert (tmp_path / "full" / "fitness.csv").read_bytes() == \
        (tmp_path / "part" / "fitness.csv").read_bytes()


def test_bad_neat_config_is_one_line(tmp_path, cli):
    assert_user_error(cli("evolve", "cars", "--set", "strategy.name=neat", "--set",
                          "strategy.neat.node_add_prob=3", "--out", str(tmp_path / "a"),
                          "--headless"), "node_add_prob")
    assert_user_error(cli("evolve", "cars", "--set", "strategy.name=neat", "--set",
                          "cars.sensors=evolve", "--out", str(tmp_path / "b"), "--headless"),
                      "cars.sensors")
    assert_user_error(cli("evolve", "cars", "--set", "policy.graph=feedforward", "--out",
                          str(tmp_path / "c"), "--headless"), "policy.graph")
    assert_user_error(cli("export-graph", str(tmp_path / "none.npz"), "--out",
                          str(tmp_path / "g.json")), "none.npz")
    assert_user_error(cli("reinforce", "cars", "--set", "policy.graph=feedforward", "--out",
                          str(tmp_path / "d")), "policy.graph", "evolution only")


def test_compare_runs_neat_beside_ga(tmp_path, cli):
    res = cli("compare", "cars", "--methods", "ga,neat", "--generations", "2", "--evolve-set",
              "population=6", "--evolve-set", "cars.world.max_time=2", "--evolve-set",
              "episodes=1", "--out", str(tmp_path), "--quiet")
    assert res.returncode == 0, res.stderr
    results = json.loads((tmp_path / "results.json").read_text())["results"]
    assert set(results) == {"ga", "neat"}
    # the same seeds as an evolve run of neat: its best of generation 2 is best_ever there
    res = cli("evolve", "cars", "--set", "strategy.name=neat", "--population", "6",
              "--generations", "2", "--seed", "0", "--set", "episodes=1", "--set",
              "cars.world.max_time=2", "--out", str(tmp_path / "run"), "--headless",
              "--quiet")
    assert res.returncode == 0, res.stderr
    rows = (tmp_path / "run" / "fitness.csv").read_text().splitlines()
    assert results["neat"][0]["curve"]["best"][-1] == float(rows[-1].split(",")[-1])


def test_the_network_panel_shows_a_graphs_hidden_nodes_and_their_connections():
    from nn.members import member_activations

    shape = Shape(3, 2, 5)
    g = next(g for g in grown(shape, 20, seed=8) if len(g.hidden(2)) >= 2)
    net = graph_net(3, 2, 5)
    theta = compile_genome(g, shape)
    x = np.array([0.1, -0.5, 0.3])
    weights, acts = member_activations(net, theta, x)
    hidden = sorted(sorted(g.hidden(2)), key=lambda n: depths(g, shape)[n])  # depth, id
    assert [w.shape for w in weights] == [(3, len(hidden)), (len(hidden), 2)]
    for j, n in enumerate(hidden):
        for i in range(3):
            c = g.conns.get((-i - 1, n))
            assert weights[0][i, j] == (c.weight if c is not None and c.enabled else 0.0)
        for o in range(2):
            c = g.conns.get((n, o))
            assert weights[1][j, o] == (c.weight if c is not None and c.enabled else 0.0)
    want = reference(g, shape, x[None], "tanh", "tanh")[0]
    np.testing.assert_allclose(acts[-1], want, atol=1e-12)
    np.testing.assert_array_equal(acts[0], x)


def test_the_shipped_neat_config_loads_with_the_documented_defaults():
    from common.config import load_config, named_config

    cfg = load_config(EvolveConfig, named_config("cars-neat"), [])
    assert cfg.strategy.name == "neat" and cfg.strategy.neat == NEATSettings()
    assert cfg.validate() == [] and cfg.cars.sensors == "fixed"
    table = (REPO / "docs" / "neat.md").read_text()
    for name, value in vars(NEATSettings()).items():  # docs/neat.md's settings table
        shown = str(value).lower() if isinstance(value, bool) else f"{value:g}"
        assert f"| `{name}` | {shown} |" in table, name
