"""NEAT: our ``neat`` strategy against neat-python, side by side in one run, and the cost of
a population of differing graphs per physics step.

    .venv/bin/python bench/bench_neat.py forward [--population 150] [--repeats 7] [--max-ratio 2]
    .venv/bin/python bench/bench_neat.py xor [--seeds 5] [--generations 300]
    .venv/bin/python bench/bench_neat.py cartpole [--seeds 5] [--population 150] [--generations 20]
    .venv/bin/python bench/bench_neat.py cars [--seeds 5] [--population 50] [--generations 10]

neat-python (``pip install -e '.[neat-ref]'``: ``neat-python==0.92``) is a bench-only
reference.  Both sides get the same task, the same population and generations (the same
number of episodes), the same seeds; each library runs with the parameters of
neat-python's XOR example config (population, mutation rates, compatibility threshold 3.0,
elitism 2, survival 0.2, stagnation 20), ours through :class:`evo.neat.strategy.NEAT`.
neat-python also deletes nodes and connections (``node_delete_prob``,
``conn_delete_prob`` 0.2 / 0.5 in that config); ours does not.

``forward``: one physics step's forward of ``P`` graphs of differing topologies (grown from
the minimal 6-input, 2-output genome by 0 to 24 random mutations, so 0 to 8 hidden nodes
and up to 7 depth levels) through ``Network.member_policy`` against ``P`` fixed 6-8-2
perceptrons (the cars policy): medians of ``--repeats`` timings of 2000 calls, and the
ratio.

``xor``: fitness ``4 - sum of squared errors`` on the four cases, stop at 3.9 or after
``--generations``: seeds solved, generations and seconds to solve.

``cartpole``: ``CartPole-v1``, one episode per genome and generation, fitness its return;
ours is ``neuroevo evolve gym:CartPole-v1`` (:class:`evo.run.EvolutionRun`, observation
normaliser, vector environment, files and checkpoints every generation), neat-python
steps one ``gymnasium`` environment per genome with ``FeedForwardNetwork.activate`` (its
XOR example's loop).  The champion plays 20 fresh episodes (seeds 10000 onwards): mean
return; wall-clock of the whole evolution, and the seconds each side spends inside
Gymnasium's ``step`` (ours: the vector environment's; neat-python: the single one's), so
the most the wall-clock ratio could reach if all else of ours cost nothing.

``cars``: our cars on one training track (``--track``, default ``procedural:1:0.7``), the
default racing world (90 s episodes); ours through ``EvolutionRun``, neat-python's networks
drive the same ``CarWorld`` with one ``activate`` per car and step: every car of the
population in one world, as ours (``--worlds shared``, the default), or one genome at a
time in a world of its own (``--worlds one``, the loop neat-python's examples write).
Best progress (laps), wall-clock, agent-steps per second.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

NEAT_PYTHON_CONFIG = """
[NEAT]
fitness_criterion     = max
fitness_threshold     = {threshold}
pop_size              = {population}
reset_on_extinction   = False
no_fitness_termination = {no_stop}

[DefaultGenome]
activation_default      = {activation}
activation_mutate_rate  = 0.0
activation_options      = {activation}
aggregation_default     = sum
aggregation_mutate_rate = 0.0
aggregation_options     = sum
bias_init_mean          = 0.0
bias_init_stdev         = 1.0
bias_max_value          = 30.0
bias_min_value          = -30.0
bias_mutate_power       = 0.5
bias_mutate_rate        = 0.7
bias_replace_rate       = 0.1
compatibility_disjoint_coefficient = 1.0
compatibility_weight_coefficient   = 0.5
conn_add_prob           = 0.5
conn_delete_prob        = 0.5
enabled_default         = True
enabled_mutate_rate     = 0.01
feed_forward            = True
initial_connection      = full
node_add_prob           = 0.2
node_delete_prob        = 0.2
num_hidden              = 0
num_inputs              = {n_in}
num_outputs             = {n_out}
response_init_mean      = 1.0
response_init_stdev     = 0.0
response_max_value      = 30.0
response_min_value      = -30.0
response_mutate_power   = 0.0
response_mutate_rate    = 0.0
response_replace_rate   = 0.0
weight_init_mean        = 0.0
weight_init_stdev       = 1.0
weight_max_value        = 30
weight_min_value        = -30
weight_mutate_power     = 0.5
weight_mutate_rate      = 0.8
weight_replace_rate     = 0.1

[DefaultSpeciesSet]
compatibility_threshold = 3.0

[DefaultStagnation]
species_fitness_func = max
max_stagnation       = 20
species_elitism      = 2

[DefaultReproduction]
elitism            = 2
survival_threshold = 0.2
"""


def neat_python_config(n_in, n_out, population, activation, threshold=1e9, stop=False):
    import neat

    text = NEAT_PYTHON_CONFIG.format(n_in=n_in, n_out=n_out, population=population,
                                     activation=activation, threshold=threshold,
                                     no_stop="False" if stop else "True")
    with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as f:
        f.write(text)
    try:
        return neat.Config(neat.DefaultGenome, neat.DefaultReproduction,
                           neat.DefaultSpeciesSet, neat.DefaultStagnation, f.name)
    finally:
        Path(f.name).unlink()


def neat_python_run(config, evaluate, generations, seed):
    """neat-python's population for ``generations`` (or until its fitness threshold);
    returns (champion, generations run).  neat-python draws from Python's ``random``."""
    import neat

    random.seed(seed)
    pop = neat.Population(config)
    winner = pop.run(evaluate, generations)
    return winner, pop.generation


def median(xs):
    return statistics.median(xs) if xs else float("nan")


# -- forward ------------------------------------------------------------------------------
def forward(args):
    from evo.neat.genome import Innovations, Shape, compile_genome, depths, initial_genome, mutate
    from evo.neat.strategy import NEATSettings
    from nn.network import Network

    P = args.population
    rng = np.random.default_rng(0)
    mlp = Network([6, 8, 2], ["tanh", "tanh"], loss="mse", dtype=np.float64)
    mlp_thetas = rng.normal(size=(P, mlp.num_params))
    shape = Shape(6, 2, 16)
    book, s = Innovations(2), NEATSettings()
    genomes = []
    for _ in range(P):
        g = initial_genome(shape, book, rng, 1.0)
        for _ in range(int(rng.integers(0, 25))):
            mutate(g, shape, book, rng, s)
        genomes.append(g)
    net = Network(layers=[{"graph": 2, "hidden": 16}], input_shape=(6,), loss="mse",
                  dtype=np.float64)
    thetas = np.stack([compile_genome(g, shape) for g in genomes])
    hidden = [len(g.hidden(2)) for g in genomes]
    deep = [max(depths(g, shape).values()) for g in genomes]
    conns = [sum(c.enabled for c in g.conns.values()) for g in genomes]
    x = rng.normal(size=(P, 6))
    out = {}
    for name, policy in (("fixed 6-8-2", mlp.member_policy(mlp_thetas)),
                         ("neat graphs", net.member_policy(thetas))):
        for _ in range(200):
            policy(x)
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            for _ in range(2000):
                policy(x)
            times.append((time.perf_counter() - t) / 2000 * 1e6)
        out[name] = median(times)
    try:
        out["neat-python"] = neat_python_forward(P, x, args.repeats)
    except ImportError:
        print("  (neat-python is not installed: pip install -e '.[neat-ref]')")
    ratio = out["neat graphs"] / out["fixed 6-8-2"]
    print(f"population {P}: hidden nodes {min(hidden)}-{max(hidden)} (mean "
          f"{np.mean(hidden):.1f}), depth levels {min(deep)}-{max(deep)}, enabled "
          f"connections {min(conns)}-{max(conns)}")
    for name, us in out.items():
        print(f"  {name:12s} {us:8.1f} us per step (median of {args.repeats})")
    print(f"  ratio graphs / fixed: {ratio:.2f} (floor {args.max_ratio:g})")
    if "neat-python" in out:
        print(f"  ratio neat-python / graphs: {out['neat-python'] / out['neat graphs']:.1f}")
    print(json.dumps({"bench": "forward", "us": out, "ratio": ratio}))
    if args.max_ratio and ratio > args.max_ratio:
        raise SystemExit(f"forward: ratio {ratio:.2f} above {args.max_ratio:g}")


def neat_python_forward(P, x, repeats):
    """neat-python's cost of the same step: ``P`` genomes grown in neat-python by 0 to 24
    of its mutations each, one ``FeedForwardNetwork.activate`` per genome; microseconds
    (median of ``repeats`` timings of 100 steps)."""
    import neat

    random.seed(0)
    config = neat_python_config(6, 2, P, "tanh")
    nets = []
    for i in range(P):
        g = config.genome_type(i)
        g.configure_new(config.genome_config)
        for _ in range(random.randrange(25)):
            g.mutate(config.genome_config)
        nets.append(neat.nn.FeedForwardNetwork.create(g, config))
    rows = [list(r) for r in x]
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(100):
            [net.activate(r) for net, r in zip(nets, rows)]
        times.append((time.perf_counter() - t) / 100 * 1e6)
    return median(times)


# -- XOR ------------------------------------------------------------------------------------
XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float64)
XOR_Y = np.array([0, 1, 1, 0], np.float64)


def ours_xor(seed, generations, population):
    from evo.neat.strategy import NEAT, NEATSettings
    from nn.graph import Graph

    layer = Graph(2, 1, 16, "sigmoid", "sigmoid")
    s = NEAT(layer.num_params, population, NEATSettings(), graph=layer)
    rng = np.random.default_rng(seed)
    for g in range(generations):
        pop = s.ask(rng)
        fit = 4 - ((layer.forward_population(XOR_X, pop)[:, :, 0] - XOR_Y) ** 2).sum(1)
        s.tell(pop, fit)
        if fit.max() > 3.9:
            return g + 1
    return None


def neat_python_xor(seed, generations, population):
    import neat

    config = neat_python_config(2, 1, population, "sigmoid", threshold=3.9, stop=True)

    def evaluate(genomes, config):
        for _, genome in genomes:
            net = neat.nn.FeedForwardNetwork.create(genome, config)
            genome.fitness = 4.0 - sum((net.activate(x)[0] - y) ** 2
                                       for x, y in zip(XOR_X, XOR_Y))

    winner, gens = neat_python_run(config, evaluate, generations, seed)
    return gens if winner.fitness > 3.9 else None


def xor(args):
    rows = {}
    for name, fn in (("ours", ours_xor), ("neat-python", neat_python_xor)):
        solved, secs = [], []
        for seed in range(args.seeds):
            t = time.perf_counter()
            gens = fn(seed, args.generations, args.population)
            secs.append(time.perf_counter() - t)
            solved.append(gens)
            what = f"solved in {gens} generations" if gens else "not solved"
            print(f"  {name} seed {seed}: {what}, {secs[-1]:.1f} s", flush=True)
        done = [g for g in solved if g]
        rows[name] = {"solved": len(done), "generations": median(done),
                      "seconds": median(secs)}
    for name, r in rows.items():
        print(f"{name:12s} solved {r['solved']}/{args.seeds}, median generations "
              f"{r['generations']}, median {r['seconds']:.1f} s a seed")
    print(json.dumps({"bench": "xor", **rows}))


# -- CartPole -----------------------------------------------------------------------------
def ours_cartpole(seed, generations, population, out):
    from common.config import build
    from evo.config import EvolveConfig
    from evo.gym_task import GymTask, evaluate_policy
    from evo.run import EvolutionRun

    cfg = build(EvolveConfig, {"task": "gym:CartPole-v1", "population": population,
                               "generations": generations, "seed": seed, "episodes": 1,
                               "strategy": {"name": "neat"}}, "bench: ")
    clock = StepClock()
    vector_env = GymTask.vector_env
    GymTask.vector_env = lambda self, n: clock.wrap(vector_env(self, n))
    try:
        t = time.perf_counter()
        run = EvolutionRun(cfg, out)
        run.run()
        secs, env_secs = time.perf_counter() - t, clock.seconds  # the run's alone
    finally:
        GymTask.vector_env = vector_env
    task = run.task
    ret = evaluate_policy(task, run.strategy.best_params, task.best_obs_mean,
                          task.best_obs_scale, 20, seed=10_000)
    return float(np.mean(ret)), secs, *loop_time(run), env_secs


def loop_time(run):
    """(seconds of the generation loop proper: ask, evaluate, tell, without the files and
    the figure, agent-steps) of an :class:`evo.run.EvolutionRun`, from its timing rows."""
    return (sum(r["seconds"] for r in run.timing),
            int(sum(r["agent_steps"] for r in run.timing)))


def neat_python_cartpole(seed, generations, population):
    import gymnasium
    import neat

    config = neat_python_config(4, 2, population, "tanh")
    clock = StepClock()
    env = clock.wrap(gymnasium.make("CartPole-v1"))
    counter = [0, 0]  # episodes, steps

    def episode(net, reset_seed):
        obs, _ = env.reset(seed=reset_seed)
        total, done = 0.0, False
        while not done:
            counter[1] += 1
            action = int(np.argmax(net.activate(obs)))
            obs, reward, terminated, truncated, _ = env.step(action)
            total += reward
            done = terminated or truncated
        return total

    def evaluate(genomes, config):
        for _, genome in genomes:
            counter[0] += 1
            genome.fitness = episode(neat.nn.FeedForwardNetwork.create(genome, config),
                                     seed * 1_000_000 + counter[0])

    t = time.perf_counter()
    winner, _ = neat_python_run(config, evaluate, generations, seed)
    secs = time.perf_counter() - t
    steps, env_secs = counter[1], clock.seconds
    net = neat.nn.FeedForwardNetwork.create(winner, config)
    return (float(np.mean([episode(net, 10_000 + i) for i in range(20)])), secs, secs, steps,
            env_secs)


class StepClock:
    """Seconds spent in the ``step`` of the environments it wraps (on the instance)."""

    def __init__(self):
        self.seconds = 0.0

    def wrap(self, env):
        if not getattr(env, "_step_clock", False):
            step = env.step

            def timed(*args, **kw):
                t = time.perf_counter()
                try:
                    return step(*args, **kw)
                finally:
                    self.seconds += time.perf_counter() - t

            env.step, env._step_clock = timed, True
        return env


def report(bench, rows, score):
    """Per library: the score over seeds, the median wall-clock of a seed (whole run, and
    the generation loop alone), agent-steps per second; then the ratios."""
    summary = {}
    for name, v in rows.items():
        summary[name] = {f"mean_{score}": float(np.mean([r[0] for r in v])),
                         f"min_{score}": float(np.min([r[0] for r in v])),
                         f"max_{score}": float(np.max([r[0] for r in v])),
                         "seconds": median([r[1] for r in v]),
                         "loop_seconds": median([r[2] for r in v]),
                         "steps_per_second": median([r[3] / r[2] for r in v])}
        r = summary[name]
        print(f"{name:12s} {score}: mean {r[f'mean_{score}']:.3f}, seeds "
              f"{r[f'min_{score}']:.3f}..{r[f'max_{score}']:.3f}; median {r['seconds']:.1f} s "
              f"a seed (generation loop {r['loop_seconds']:.1f} s), "
              f"{r['steps_per_second']:.0f} agent-steps/s")
    ours, ref = summary["ours"], summary["neat-python"]
    ratios = {"wall_clock": ref["seconds"] / ours["seconds"],
              "loop": ref["loop_seconds"] / ours["loop_seconds"],
              "steps_per_second": ours["steps_per_second"] / ref["steps_per_second"]}
    print(f"neat-python / ours: wall-clock {ratios['wall_clock']:.1f}x, generation loop "
          f"{ratios['loop']:.1f}x; agent-steps/s ours / neat-python "
          f"{ratios['steps_per_second']:.1f}x")
    if all(len(r) > 4 for v in rows.values() for r in v):  # seconds in Gymnasium's step
        for name, v in rows.items():
            summary[name]["env_seconds"] = median([r[4] for r in v])
        env = {name: summary[name]["env_seconds"] for name in rows}
        # were everything of ours free but Gymnasium's own stepping, the whole run's ratio
        # could reach this and no more
        ratios["ceiling"] = ref["seconds"] / env["ours"]
        print(f"median s a seed in the environments' step: ours {env['ours']:.2f} "
              f"({env['ours'] / ours['seconds']:.0%} of the run), neat-python "
              f"{env['neat-python']:.2f} ({env['neat-python'] / ref['seconds']:.0%}); the "
              f"most the wall-clock ratio could reach with all else of ours free: "
              f"{ratios['ceiling']:.1f}x")
    print(json.dumps({"bench": bench, **summary, "ratios": ratios}))


def cartpole(args):
    rows = {"ours": [], "neat-python": []}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            for name in rows:
                r = (ours_cartpole(seed, args.generations, args.population,
                                   Path(tmp) / f"ours{seed}") if name == "ours" else
                     neat_python_cartpole(seed, args.generations, args.population))
                rows[name].append(r)
                print(f"  {name} seed {seed}: champion's mean return {r[0]:.1f}, "
                      f"{r[1]:.1f} s, {r[3]} agent-steps", flush=True)
    report("cartpole", rows, "return")


# -- cars ---------------------------------------------------------------------------------
class NeatPythonDrivers:
    """neat-python networks as the ``net`` of :func:`evo.rollout.run_episode`: one
    ``activate`` per car and step (what neat-python offers)."""

    def __init__(self, nets):
        self.nets = nets

    def member_policy(self, thetas):
        return self

    def select(self, rows):
        return NeatPythonDrivers([self.nets[i] for i in rows])

    def __call__(self, obs):
        return np.array([net.activate(o) for net, o in zip(self.nets, obs)])


def cars_config(seed, generations, population, track, max_time):
    from common.config import build
    from evo.config import EvolveConfig

    return build(EvolveConfig, {"task": "cars", "population": population,
                                "generations": generations, "seed": seed, "episodes": 1,
                                "strategy": {"name": "neat"},
                                "cars": {"tracks": [track],
                                         "world": {"max_time": max_time}}}, "bench: ")


def ours_cars(seed, generations, population, track, max_time, out):
    from evo.run import EvolutionRun

    t = time.perf_counter()
    run = EvolutionRun(cars_config(seed, generations, population, track, max_time), out)
    run.run()
    return run.strategy.best_fitness, time.perf_counter() - t, *loop_time(run)


def neat_python_cars(seed, generations, population, track, max_time, worlds="shared"):
    import neat

    from evo.rollout import run_episode
    from evo.run import generation_seeds
    from evo.tasks import TaskSpec

    cfg = cars_config(seed, generations, population, track, max_time)
    task = TaskSpec("cars", cfg.cars, cfg.walkers, cfg.policy).build()
    n_in, n_out = task.dims
    config = neat_python_config(n_in, n_out, population, "tanh")
    best = [-np.inf]
    gen = [0]
    steps = [0]

    def evaluate(genomes, config):
        nets = [neat.nn.FeedForwardNetwork.create(g, config) for _, g in genomes]
        episode_seed = generation_seeds(seed, gen[0], 1)[0]  # ours' seeds too
        world = task.world(len(nets), episode_seed)
        info, n = run_episode(world, NeatPythonDrivers(nets),
                                  np.zeros((len(nets), 1)), episode_seed)
        steps[0] += n
        fit = task.result(info, n)["fitness"]
        for (_, g), f in zip(genomes, fit):
            g.fitness = float(f)
        best[0] = max(best[0], float(fit.max()))
        gen[0] += 1

    t = time.perf_counter()
    neat_python_run(config, evaluate, generations, seed)
    secs = time.perf_counter() - t
    return best[0], secs, secs, steps[0]


def cars(args):
    rows = {"ours": [], "neat-python": []}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            for name in rows:
                r = (ours_cars(seed, args.generations, args.population, args.track,
                               args.max_time, Path(tmp) / f"ours{seed}") if name == "ours"
                     else neat_python_cars(seed, args.generations, args.population,
                                           args.track, args.max_time, args.worlds))
                rows[name].append(r)
                print(f"  {name} seed {seed}: best progress {r[0]:.3f} laps, {r[1]:.1f} s, "
                      f"{r[3]} agent-steps", flush=True)
    report("cars", rows, "progress")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="what", required=True)
    f = sub.add_parser("forward")
    f.add_argument("--population", type=int, default=150)
    f.add_argument("--repeats", type=int, default=7)
    f.add_argument("--max-ratio", type=float, default=0.0, help="fail above this ratio")
    x = sub.add_parser("xor")
    x.add_argument("--seeds", type=int, default=5)
    x.add_argument("--generations", type=int, default=300)
    x.add_argument("--population", type=int, default=150)
    c = sub.add_parser("cartpole")
    c.add_argument("--seeds", type=int, default=5)
    c.add_argument("--generations", type=int, default=20)
    c.add_argument("--population", type=int, default=150)
    r = sub.add_parser("cars")
    r.add_argument("--seeds", type=int, default=5)
    r.add_argument("--generations", type=int, default=10)
    r.add_argument("--population", type=int, default=50)
    r.add_argument("--track", default="procedural:1:0.7")
    r.add_argument("--max-time", type=float, default=90.0)
    r.add_argument("--worlds", choices=("shared", "one"), default="shared",
                   help="neat-python's cars: all in one world like ours (shared), or each "
                   "genome alone in a world of its own, one after another (one)")
    args = p.parse_args(argv)
    {"forward": forward, "xor": xor, "cartpole": cartpole, "cars": cars}[args.what](args)


if __name__ == "__main__":
    main()
