"""Evolution versus gradient descent on the same network and task, same wall-clock budget.

Classification tasks (fruit, fruit-curved, mnist, fashion): one architecture, trained by
backprop (SGD with momentum, and Adam), by ``SimpleGA`` and by ``OpenAIES``.  Evolution's
fitness is the negative cross-entropy on a mini-batch drawn afresh each generation, computed
for the whole population with one ``forward_population`` call.  Every method gets the same
training data and the same budget of training seconds (test evaluations pause the clock).

Control tasks (cars, walkers, gym:ENV_ID): GA, OpenAI-ES, CMA-ES and random search on the
policy network (and on request the quality-diversity strategies of :mod:`evo.qd`), the best
score so far per generation, second and agent-step; the best policy judged on episodes no
method trained on.  With the evolve config's ``qd.descriptors`` every method's curve also
records the coverage and QD-score of an archive of what it evaluated (a QD strategy's own).
Policy-gradient learners (PPO: :mod:`rl.compare`) join as ``runners`` of :func:`compare`.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from common.files import atomic_write_text
from evo.es import ESSettings
from evo.ga import GASettings
from evo.gym_config import gym_env_id
from evo.registry import STRATEGIES
from nn.network import Network
from nn.train import TrainConfig, loss_and_accuracy, make_optimizer, one_hot

CLASSIFICATION = ("fruit", "fruit-curved", "mnist", "fashion", "mnist-cnn")
TASKS = (*CLASSIFICATION, "cars", "walkers")  # and gym:ENV_ID (is_control)


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


def _make_net(data, cfg: CompareConfig, seed: int, convnet: bool = False) -> Network:
    rng = np.random.default_rng(np.random.SeedSequence([seed, 11]))
    if convnet:
        return Network(layers=cfg.cnn.layers, input_shape=data.input_shape, rng=rng)
    sizes = [data.n_inputs, *cfg.hidden, data.n_classes]
    acts = [cfg.activation] * len(cfg.hidden) + ["softmax"]
    return Network(sizes, acts, rng=rng)


class _Clock:
    """Counts training seconds only: ``pause()`` while measuring test accuracy."""

    def __init__(self):
        self.used = 0.0
        self._t = time.perf_counter()

    def now(self) -> float:
        return self.used + time.perf_counter() - self._t

    def pause(self):
        self.used = self.now()

    def resume(self):
        self._t = time.perf_counter()


def run_classification(method: str, data, cfg: CompareConfig, seed: int, budget: float,
                       tick=lambda s: None, convnet: bool = False) -> dict:
    """Train for ``budget`` seconds; returns the curve ``seconds, evaluations, accuracy``
    and the parameter count.  ``convnet``: the network is ``cfg.cnn.layers`` (evolution
    then runs with ``cfg.cnn``'s settings)."""
    net = _make_net(data, cfg, seed, convnet)
    if convnet:
        cfg = cfg.for_task("-cnn")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 12]))
    x, y = data.x_train, data.y_train
    x_test, y_test = data.x_test, data.y_test
    # test accuracy at geometrically spaced times (1% of the budget to all of it): the
    # early minutes, where the methods differ most, are seen in as much detail as the end
    marks = np.geomspace(budget / 100, budget, cfg.evaluations)
    curve = {"seconds": [0.0], "evaluations": [0],
             "accuracy": [loss_and_accuracy(net, x_test, y_test)[1]]}
    evals = 0
    clock = _Clock()

    def record(params=None):
        clock.pause()
        if params is not None:
            net.set_params(params.astype(net.dtype))
        curve["seconds"].append(clock.used)
        curve["evaluations"].append(evals)
        curve["accuracy"].append(loss_and_accuracy(net, x_test, y_test)[1])
        tick(clock.used)
        clock.resume()

    k = 0
    if method.startswith("backprop"):
        tc = TrainConfig(batch_size=cfg.batch_size, optimizer=method.split("-")[1],
                         lr=cfg.sgd_lr if method == "backprop-sgd" else cfg.adam_lr,
                         momentum=0.9, l2=0.0, decay=0.0)
        opt = make_optimizer(tc, net)
        lr0 = opt.lr
        targets = np.zeros((cfg.batch_size, data.n_classes), net.dtype)
        while k < len(marks):
            perm = rng.permutation(len(x))
            for lo in range(0, len(x), cfg.batch_size):
                idx = perm[lo:lo + cfg.batch_size]
                opt.lr = lr0 * cfg.step_factor(clock.now(), budget)
                net.loss_and_backward(x[idx], one_hot(y[idx], data.n_classes,
                                                      out=targets[:len(idx)]))
                opt.step(net.theta, net.grad)
                evals += len(idx)
                if clock.now() >= marks[k]:
                    record()
                    k += 1
                    if k == len(marks):
                        break
    else:
        settings = cfg.ga if method == "ga" else cfg.es
        strategy = STRATEGIES[method](net.num_params, cfg.population, settings,
                                      init_params=net.get_params(), init_scale=cfg.init_scale)
        idx_all = np.arange(len(x))
        step_key = "mutation_sigma" if method == "ga" else "lr"
        step0 = getattr(settings, step_key)
        while k < len(marks):
            strategy.settings = dataclasses.replace(
                settings, **{step_key: step0 * cfg.step_factor(clock.now(), budget)})
            pop = strategy.ask(rng)  # (P, D)
            idx = rng.choice(idx_all, size=min(cfg.fitness_batch, len(x)), replace=False)
            probs = net.forward_population(x[idx], pop.astype(np.float32))  # (P, B, C)
            p_true = probs[:, np.arange(len(idx)), y[idx]]  # (P, B)
            fitness = np.log(np.maximum(p_true, 1e-12)).mean(axis=1)  # -cross-entropy
            strategy.tell(pop, fitness.astype(np.float64))
            evals += pop.shape[0] * len(idx)
            if clock.now() >= marks[k]:
                record(strategy.mean)
                k += 1
    return {"curve": curve, "num_params": net.num_params}


UNSEEN_TRACKS = ("oval", "default", "sbends", "hairpins", "technical")  # shipped tracks
CONTROL = ("cars", "walkers")  # control tasks, and gym:ENV_ID


def is_control(task: str) -> bool:
    """Whether ``task`` is a control task (a policy in a world) rather than a dataset."""
    return task in CONTROL or gym_env_id(task) is not None


def run_evolution(method: str, evolve_cfg, seed: int, budget: float, tick=lambda s: None,
                  generations: int | None = None, steps: int | None = None) -> dict:
    """Evolve ``evolve_cfg.task`` with ``method`` for ``budget`` seconds, for
    ``generations`` (the same number of episodes for every method) or until ``steps``
    agent-steps: the best fitness so far per generation (with the seconds, episodes and
    agent-steps it took), then the best policy judged (:func:`judge_policy`).
    The curve's generations count from 1, as in ``fitness.csv``; the seeds are those of
    :class:`evo.run.EvolutionRun` (0-based index ``g``), so with the same configuration
    the best of generation N is the ``best_ever`` of ``fitness.csv``'s generation N."""
    from evo.archive import GridArchive
    from evo.backends import make_backend
    from evo.config import effective
    from evo.descriptors import columns
    from evo.run import ask_rng, generation_seeds, grid_spec, tell
    from evo.tasks import TaskSpec

    s = evolve_cfg.strategy
    settings = getattr(s, method.replace("-", "_"))
    # the policy the method evolves (neat: a node graph); the judge rebuilds that one
    evolve_cfg = effective(replace(evolve_cfg, strategy=replace(s, name=method)))
    pop = evolve_cfg.population + (evolve_cfg.population % 2 if method == "es" else 0)
    if method == "cmaes":
        pop = max(pop, 2)  # CMA-ES recombines the best pop // 2
    names = tuple(evolve_cfg.qd.descriptors)
    spec = TaskSpec(evolve_cfg.task, evolve_cfg.cars, evolve_cfg.walkers, evolve_cfg.policy,
                    evolve_cfg.gym, pop, names)
    backend = make_backend("serial", spec)
    task = backend.task
    net = task.network()
    net.init_params(np.random.default_rng(np.random.SeedSequence([seed, 7])))
    init = task.initial_genome(net.get_params())  # walkers may evolve body genes too
    grid = grid_spec(evolve_cfg.qd, task.describer.ranges if names else [])
    cls = STRATEGIES[method]
    strategy = cls(len(init), pop, settings, init_params=init, init_scale=s.init_scale,
                   **({"grid": grid} if cls.uses_descriptors else {}),
                   **({"graph": net.layers[0]} if cls.needs_graph else {}))
    archive = (strategy.archive if cls.uses_descriptors else
               GridArchive(grid, len(init)) if grid is not None else None)
    cars = evolve_cfg.task == "cars"
    curve = {"seconds": [], "generation": [], "best": [], "episodes": [], "steps": []}
    if cars:
        curve["lap_time"] = []
    if archive is not None:
        curve["coverage"], curve["qd_score"] = [], []
    t0, g, episodes, agent_steps = time.perf_counter(), 0, 0, 0
    lap_time = math.nan
    while (g < generations if generations is not None
           else agent_steps < steps if steps is not None
           else time.perf_counter() - t0 < budget):
        params = strategy.ask(ask_rng(seed, g))
        result = backend.evaluate(task.genomes(params),
                                  generation_seeds(seed, g, evolve_cfg.episodes))
        fit = result["fitness"]
        desc = (np.stack([result[c] for c in columns(names)], axis=1)
                if archive is not None else None)
        improved, extra = tell(strategy, backend, task, params, fit, evolve_cfg, seed, g, desc)
        task.learn(result, improved)
        if archive is not None:
            if not cls.uses_descriptors:
                archive.add(params, fit, desc)
            curve["coverage"].append(archive.coverage)
            curve["qd_score"].append(archive.qd_score)
        if cars and improved:
            lap_time = float(result["lap_time"][int(np.argmax(fit))])
        g += 1  # generation g (counted from 1) is done
        episodes += len(params) * evolve_cfg.episodes
        agent_steps += int(result["agent_steps"]) + extra
        curve["seconds"].append(time.perf_counter() - t0)
        curve["generation"].append(g)
        curve["best"].append(strategy.best_fitness)
        curve["episodes"].append(episodes)
        curve["steps"].append(agent_steps)
        if cars:
            curve["lap_time"].append(lap_time)
        tick(g if generations is not None else agent_steps if steps is not None
             else curve["seconds"][-1])
    obs = None
    if gym_env_id(evolve_cfg.task) is not None:  # the normaliser the best was evaluated with
        obs = (task.best_obs_mean, task.best_obs_scale)
    return {"curve": curve, "num_params": net.num_params,
            "driver": judge_policy(evolve_cfg, strategy.best_params, obs)}


JUDGE_EPISODES = 20  # gym: episodes a policy is judged on (seeds 10,000 onwards)


def judge_policy(evolve_cfg, params: np.ndarray, obs=None) -> dict:
    """How good the policy ``params`` is, on episodes no method trained on: cars:
    :func:`judge_driver`; walkers: ``{"train": {"distance": ...}}``, the mean over three
    episodes; gym: ``{"train": {"return": ...}}``, the mean over :data:`JUDGE_EPISODES`
    episodes, with the observation normaliser ``obs = (mean, scale)``."""
    from evo.tasks import TaskSpec

    if evolve_cfg.task == "cars":
        return judge_driver(evolve_cfg, params)
    spec = TaskSpec(evolve_cfg.task, evolve_cfg.cars, evolve_cfg.walkers, evolve_cfg.policy,
                    evolve_cfg.gym, JUDGE_EPISODES)
    task = spec.build()
    theta = np.asarray(params, np.float64)[None, :]
    if evolve_cfg.task == "walkers":
        res = task.evaluate_episodes(theta, [10_000, 10_001, 10_002])
        return {"train": {"distance": float(np.mean([r["fitness"][0] for r in res]))}}
    from evo.gym_task import evaluate_policy

    mean, scale = obs if obs is not None else (np.zeros(task.obs_dim), np.ones(task.obs_dim))
    ret = evaluate_policy(task, theta[0], mean, scale, JUDGE_EPISODES, seed=10_000)
    return {"train": {"return": float(np.mean(ret))}}


def judge_driver(evolve_cfg, params: np.ndarray) -> dict:
    """The driver ``params`` alone, once on each training track (``cars.tracks``, or
    ``cars.track``) and once on each shipped track it did not train on: for each set,
    ``laps`` (mean progress in laps within the episode: how far it drives), ``lap_time``
    (mean of its fastest lap per track, NaN unless it laps every one), ``lapped`` and
    ``tracks`` (how many it laps, of how many); and ``default_lapped``, whether it laps the
    shipped ``default`` track."""
    from evo.tasks import TaskSpec

    cars = evolve_cfg.cars
    train = list(cars.tracks) or [cars.track]
    sets = {"train": train, "unseen": [t for t in UNSEEN_TRACKS if t not in train]}
    out = {}
    for name, tracks in sets.items():
        judge = dataclasses.replace(cars, tracks=tracks, start_points=1)
        task = TaskSpec("cars", judge, evolve_cfg.walkers, evolve_cfg.policy).build()
        # seed i drives tracks[i % len(tracks)]: each track once
        res = task.evaluate_episodes(np.asarray(params, np.float64)[None, :],
                                     list(range(len(tracks))))
        progress = [float(r["progress"][0]) for r in res]
        laps = [float(r["laps"][0]) for r in res]
        times = [float(r["lap_time"][0]) for r in res]
        out[name] = {"laps": float(np.mean(progress)), "lap_time": float(np.mean(times)),
                     "lapped": int(sum(v >= 1 for v in laps)), "tracks": len(tracks)}
        if "default" in tracks:
            out["default_lapped"] = laps[tracks.index("default")] >= 1
    return out


# -- reporting -------------------------------------------------------------------------------
def _on_grid(xs, ys, grid):
    """Step interpolation: the value reached by each grid point (NaN before the first)."""
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    idx = np.searchsorted(xs, grid, side="right") - 1
    return np.where(idx >= 0, ys[np.clip(idx, 0, len(ys) - 1)], np.nan)


def summarize_classification(results: dict[str, list[dict]]) -> list[dict]:
    finals = {m: [r["curve"]["accuracy"][-1] for r in runs] for m, runs in results.items()}
    best_final = max(np.mean(v) for v in finals.values())
    target = 0.9 * best_final
    rows = []
    for m, runs in results.items():
        times = []
        for r in runs:
            c = r["curve"]
            hit = [s for s, a in zip(c["seconds"], c["accuracy"]) if a >= target]
            times.append(hit[0] if hit else math.inf)
        rows.append({"method": m, "final_mean": float(np.mean(finals[m])),
                     "final_std": float(np.std(finals[m])),
                     "time_to_target": float(np.median(times)),
                     "evaluations": int(np.mean([r["curve"]["evaluations"][-1] for r in runs])),
                     "num_params": runs[0]["num_params"]})
    return rows, target


def classification_figure(results, title):
    """Test accuracy against training seconds and against sample evaluations (mean over
    seeds, the band from the worst to the best seed); one legend, right of the axes."""
    from matplotlib.figure import Figure

    from common.plots import legend_outside

    fig = Figure(figsize=(12, 4.2), layout="constrained")
    ax_t, ax_e = fig.subplots(1, 2)
    for m, runs in results.items():
        for ax, key in ((ax_t, "seconds"), (ax_e, "evaluations")):
            top = max(r["curve"][key][-1] for r in runs)
            first = min(r["curve"][key][1] for r in runs)  # [0] is the untrained network
            grid = np.geomspace(max(first, 1e-3 if key == "seconds" else 1), top, 200)
            ys = np.array([_on_grid(r["curve"][key], r["curve"]["accuracy"], grid)
                           for r in runs])
            mean = np.nanmean(ys, axis=0)
            line, = ax.plot(grid, mean, label=m)
            ax.fill_between(grid, np.nanmin(ys, axis=0), np.nanmax(ys, axis=0),
                            color=line.get_color(), alpha=0.2)
    ax_t.set_xlabel("training seconds")
    ax_e.set_xlabel("sample evaluations (forward passes)")
    for ax in (ax_t, ax_e):
        ax.set_xscale("log")
        ax.set_ylabel("test accuracy")
        ax.grid(alpha=0.3)
    legend_outside(fig, ax_t)
    fig.suptitle(title)
    return fig


def plot_classification(results, path, title):
    from common.plots import save_figure

    save_figure(classification_figure(results, title), path)


METHOD_NAMES = {"ga": "GA", "es": "ES", "cmaes": "CMA-ES", "random": "random search",
                "ppo": "PPO", "reinforce": "REINFORCE", "map-elites": "MAP-Elites",
                "novelty": "novelty search", "cma-me": "CMA-ME", "neat": "NEAT"}
SCORE_LABEL = {"cars": "best fitness (laps)", "walkers": "best distance (m)"}


def control_figure(task, results, title):
    """The best score so far against seconds and against agent-steps (environment steps), a
    line per method and seed; for cars a second row with the best driver's lap time.  One
    legend, right of the axes."""
    from matplotlib.figure import Figure

    from common.plots import legend_outside

    cars = task == "cars"
    fig = Figure(figsize=(12, 7.5 if cars else 4.2), layout="constrained")
    axes = fig.subplots(2 if cars else 1, 2, squeeze=False)
    rows = [("best", SCORE_LABEL.get(task, "best return"))]
    if cars:
        rows.append(("lap_time", "its lap time (s)"))
    for m, runs in results.items():
        color = None
        for i, r in enumerate(runs):
            c = r["curve"]
            kw = {"label": m} if i == 0 else {}
            for (key, _), (ax_s, ax_n) in zip(rows, axes):
                if key not in c:
                    continue
                line, = ax_s.plot(c["seconds"], c[key], ".-", ms=3, color=color, alpha=0.8,
                                  **kw)
                color = line.get_color()
                ax_n.plot(c["steps"], c[key], ".-", ms=3, color=color, alpha=0.8)
                kw = {}
    for (_, label), (ax_s, ax_n) in zip(rows, axes):
        ax_s.set_xlabel("seconds")
        ax_n.set_xlabel("agent-steps (environment steps)")
        for ax in (ax_s, ax_n):
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
    legend_outside(fig, axes[0][0])
    fig.suptitle(title)
    return fig


def plot_control(task, results, path, title):
    from common.plots import save_figure

    save_figure(control_figure(task, results, title), path)


def first_reach(results, key: str = "best") -> tuple[float, dict[str, dict]]:
    """Who got where first: the target is 90% of the best method's final ``key`` (median
    over seeds); per method the median seconds and agent-steps its curve took to reach it
    (inf where a seed never did)."""
    finals = {m: float(np.median([r["curve"][key][-1] if r["curve"][key] else -math.inf
                                  for r in runs])) for m, runs in results.items()}
    top = max(finals.values())
    target = 0.9 * top if top > 0 else top
    out = {}
    for m, runs in results.items():
        secs, steps = [], []
        for r in runs:
            c = r["curve"]
            hit = next((i for i, v in enumerate(c[key]) if v >= target), None)
            secs.append(math.inf if hit is None else c["seconds"][hit])
            steps.append(math.inf if hit is None else c["steps"][hit])
        out[m] = {"final": finals[m], "seconds": float(np.median(secs)),
                  "steps": float(np.median(steps))}
    return target, out


def _first_reach_lines(results, unit: str) -> list[str]:
    target, reach = first_reach(results)
    lines = ["", "## Who got where first", "",
             f"The target is 90% of the best method's final score ({target:.3g} {unit}, "
             "median over seeds); when each method's best reached it (median over seeds; "
             "never: a seed did not).", "",
             "| method | final best | reached the target after | agent-steps by then |",
             "|---|---:|---:|---:|"]
    for m, v in reach.items():
        when = "never" if math.isinf(v["seconds"]) else _seconds(v["seconds"])
        steps = "never" if math.isinf(v["steps"]) else f"{v['steps']:,.0f}"
        lines.append(f"| {m} | {v['final']:.3f} | {when} | {steps} |")
    return lines


def _budget_words(budget, generations, steps) -> str:
    if generations is not None:
        return f"{generations} generations per method and seed (equal episodes)"
    if steps is not None:
        return f"{steps:,} agent-steps per method and seed (equal environment steps)"
    return f"{budget:g} s per method and seed"


def _title(task: str, results) -> str:
    ran = [METHOD_NAMES.get(m, m) for m in results]
    return (f"# {task}: {', '.join(ran[:-1])} and {ran[-1]}" if len(ran) > 1
            else f"# {task}: {ran[0]}")


def write_control_report(out: Path, task, results, budget, seeds, generations=None,
                         steps=None) -> None:
    """The report of a walker or gym comparison."""
    key, unit = ("distance", "m") if task == "walkers" else ("return", "return")
    judged = ("three episodes" if task == "walkers"
              else f"{JUDGE_EPISODES} episodes it never trained on")
    lines = [_title(task, results), "",
             f"Budget: {_budget_words(budget, generations, steps)}; {seeds} seed(s). Each "
             f"method's best policy is then judged, acting greedily, on {judged}; medians "
             "over seeds.", "",
             f"| method | best during training | generations / iterations | agent-steps | "
             f"seconds | judged {key} |{_qd_head(results)}",
             "|---|---:|---:|---:|---:|---:|" + _qd_rule(results)]
    for m, runs in results.items():
        c = [r["curve"] for r in runs]
        best = np.median([x["best"][-1] if x["best"] else math.nan for x in c])
        gens = np.median([len(x["best"]) for x in c])
        n = np.median([x["steps"][-1] if x["steps"] else 0 for x in c])
        sec = np.median([x["seconds"][-1] if x["seconds"] else 0 for x in c])
        judge = np.median([r["driver"]["train"][key] for r in runs])
        lines.append(f"| {m} | {best:.3f} | {gens:.0f} | {n:,.0f} | {sec:.1f} | {judge:.3f} |"
                     + _qd_cells(results, runs))
    lines += _first_reach_lines(results, unit)
    lines += ["", "![comparison](compare.png)", ""]
    atomic_write_text(out / "report.md", "\n".join(lines))


def _has_qd(results) -> bool:
    return any("qd_score" in r["curve"] for runs in results.values() for r in runs)


def _qd_head(results) -> str:
    """Columns of quality diversity (runs with descriptors): the final archive's coverage
    and QD-score (:mod:`evo.archive`), medians over seeds."""
    return " coverage | QD-score |" if _has_qd(results) else ""


def _qd_rule(results) -> str:
    return "---:|---:|" if _has_qd(results) else ""


def _qd_cells(results, runs) -> str:
    if not _has_qd(results):
        return ""
    c = [r["curve"] for r in runs]
    if not all(x.get("qd_score") for x in c):  # a method without an archive (PPO)
        return " n/a | n/a |"
    cov = np.median([x["coverage"][-1] for x in c])
    qd = np.median([x["qd_score"][-1] for x in c])
    return f" {cov:.1%} | {qd:.4g} |"


def _seconds(t: float) -> str:
    return f"{t:.1f} s" if t >= 1 else f"{t:.2f} s"


def write_report(out: Path, task: str, rows, target, budget, seeds, cfg) -> None:
    if task.endswith("-cnn"):
        from nn.network import normalize_layers

        shape = ", ".join(f"{next(iter(s))} {s[next(iter(s))]}"
                          + (f" ({s['kernel']}x{s['kernel']}, stride {s['stride']})"
                             if "kernel" in s else "")
                          for s in normalize_layers(cfg.cnn.layers))
        network = f"a convolutional network: {shape}; ReLU, softmax"
    else:
        network = f"hidden {cfg.hidden}, {cfg.activation}, softmax"
    lines = [f"# Evolution vs gradient descent: {task}", "",
             f"Budget: {budget:g} training seconds per method and seed; {seeds} seed(s). "
             f"Network: {rows[0]['num_params']:,} parameters for every method "
             f"({network}). Step sizes (learning rates, the "
             f"GA's mutation strength) fall linearly to {cfg.final_step_fraction:g} of "
             f"their start over the budget.", "",
             "| method | final test accuracy | time to 90% of best final "
             f"({target:.3f}) | sample evaluations | parameters |",
             "|---|---:|---:|---:|---:|"]
    for r in rows:
        t = "never" if math.isinf(r["time_to_target"]) else _seconds(r["time_to_target"])
        lines.append(f"| {r['method']} | {r['final_mean']:.4f} ± {r['final_std']:.4f} | {t} | "
                     f"{r['evaluations']:,} | {r['num_params']:,} |")
    backprop = [r for r in rows if r["method"].startswith("backprop")]
    evolution = [r for r in rows if not r["method"].startswith("backprop")]
    lines += ["", "## What the numbers show", ""]
    if backprop and evolution:
        bp = max(backprop, key=lambda r: r["final_mean"])
        ev = max(evolution, key=lambda r: r["final_mean"])
        ratio = ev["evaluations"] / max(bp["evaluations"], 1)
        gap = bp["final_mean"] - ev["final_mean"]
        lines.append(
            f"With the same {rows[0]['num_params']:,}-parameter network and the same "
            f"{budget:g} s, the best gradient method ({bp['method']}) reached "
            f"{bp['final_mean']:.1%} test accuracy and the best evolution strategy "
            f"({ev['method']}) {ev['final_mean']:.1%}, "
            + (f"{100 * gap:.1f} percentage points lower" if gap > 0
               else f"{-100 * gap:.1f} percentage points higher")
            + f", while evaluating {ratio:.1f}x as many samples. Backpropagation gets a "
            f"full gradient from each sample; evolution estimates a direction from "
            f"fitness differences between {cfg.population} perturbed copies, so each of "
            f"its steps costs a population of forward passes and carries far less "
            f"information per sample.")
    else:
        best = max(rows, key=lambda r: r["final_mean"])
        lines.append(f"Only {', '.join(r['method'] for r in rows)} ran; the best, "
                     f"{best['method']}, reached {best['final_mean']:.1%} test accuracy. Run "
                     f"every method to compare gradient descent with evolution.")
    lines += ["", "![comparison](compare.png)", ""]
    atomic_write_text(out / "report.md", "\n".join(lines))


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else (math.inf if a > 0 else math.nan)


def cars_summary(results) -> dict:
    """Per method, medians over seeds of what :func:`judge_driver` measured, and each
    method's median ratio to random search, seed by seed: ``laps`` (how far the best driver
    gets in an episode) on the training and the unseen tracks, and lap speed (random's lap
    time over the method's) on the training tracks."""
    out = {}
    rand = results.get("random")
    for m, runs in results.items():
        row = {}
        for where in ("train", "unseen"):
            d = [r["driver"][where] for r in runs]
            row[where] = {k: float(np.median([x[k] for x in d])) for k in
                          ("laps", "lap_time", "lapped")}
            row[where]["tracks"] = d[0]["tracks"]
            if rand is not None and m != "random":
                pairs = list(zip(d, (r["driver"][where] for r in rand)))
                row[where]["farther"] = float(np.median(
                    [_ratio(a["laps"], b["laps"]) for a, b in pairs]))
                row[where]["faster"] = float(np.median(
                    [_ratio(b["lap_time"], a["lap_time"]) for a, b in pairs]))
        out[m] = row
    return out


def write_cars_report(out: Path, results, budget, seeds, generations=None,
                      steps=None) -> None:
    runs0 = next(iter(results.values()))
    n_train = runs0[0]["driver"]["train"]["tracks"]
    n_unseen = runs0[0]["driver"]["unseen"]["tracks"]
    lines = [_title("Cars", results), "",
             f"Budget: {_budget_words(budget, generations, steps)}; {seeds} seed(s). Each "
             f"method's best driver then drives each of its {n_train} training track(s) and "
             f"{n_unseen} shipped track(s) it never saw once; medians over seeds. PPO's "
             "generations are its iterations, its best driver the greedy policy that drove "
             "the training tracks farthest.", "",
             "| method | best fitness (laps) | generations | episodes | fitness 1 lap at "
             "generation | training: laps driven | training: lap time | unseen: laps "
             "driven | unseen: tracks lapped | agent-steps |" + _qd_head(results),
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + _qd_rule(results)]
    summary = cars_summary(results)
    for m, runs in results.items():
        best = np.mean([r["curve"]["best"][-1] if r["curve"]["best"] else 0 for r in runs])
        gens = np.mean([len(r["curve"]["best"]) for r in runs])
        eps = np.mean([r["curve"]["episodes"][-1] if r["curve"]["episodes"] else 0
                       for r in runs])
        n = np.mean([r["curve"]["steps"][-1] if r["curve"].get("steps") else 0 for r in runs])
        laps = [next((g for g, b in zip(r["curve"]["generation"], r["curve"]["best"])
                      if b >= 1.0), None) for r in runs]
        lap = ", ".join("never" if v is None else str(v) for v in laps)
        tr, un = summary[m]["train"], summary[m]["unseen"]
        lt = f"{tr['lap_time']:.1f} s" if math.isfinite(tr["lap_time"]) else "no lap"
        lines.append(f"| {m} | {best:.3f} | {gens:.0f} | {eps:,.0f} | {lap} | "
                     f"{tr['laps']:.2f} | {lt} | {un['laps']:.2f} | "
                     f"{un['lapped']:g} / {un['tracks']} | {n:,.0f} |"
                     + _qd_cells(results, runs))

    def x(v):
        return f"{v:.2f}x" if math.isfinite(v) else "n/a"
    if "random" in summary and len(summary) > 1:
        lines += ["", "## Better than luck?", "",
                  "Each method's best driver against random search's, seed by seed (median "
                  "ratio): how much farther it drives in an episode, and how much faster it "
                  "laps the training tracks (random lap time over its own; n/a where either "
                  "does not lap them all).", "",
                  "| method | training: farther | training: faster per lap | unseen: farther |",
                  "|---|---:|---:|---:|"]
        for m, row in summary.items():
            if m != "random":
                lines.append(f"| {m} | {x(row['train']['farther'])} | "
                             f"{x(row['train']['faster'])} | {x(row['unseen']['farther'])} |")
    lines += _gradient_lines(results, summary)
    lines += _first_reach_lines(results, "laps")
    lines += ["", "![comparison](compare.png)", ""]
    atomic_write_text(out / "report.md", "\n".join(lines))


EVOLUTION = ("ga", "es", "cmaes", *QD_METHODS, "neat")  # random search is luck, not evolution


def _gradient_lines(results, summary) -> list[str]:
    """Policy gradients against the best evolution method: lap speed on the training
    tracks (the evolution method's lap time over the learner's, seed by seed), how far
    each drives, and whether the learner's driver laps the default track."""
    learners = [m for m in results if m not in (*EVOLUTION, "random")]
    evolved = [m for m in results if m in EVOLUTION]
    if not learners or not evolved:
        return []

    def goodness(m):  # lap time first (faster is better), then distance
        t = summary[m]["train"]
        return (math.isfinite(t["lap_time"]), -t["lap_time"] if math.isfinite(t["lap_time"])
                else 0.0, t["laps"])
    ev = max(evolved, key=goodness)
    lines = ["", "## Gradient descent against evolution", "",
             f"Each policy-gradient learner's best driver against the best evolution "
             f"method's ({ev}), seed by seed (median ratio): lap speed on the training tracks "
             f"({ev}'s lap time over the learner's; n/a where either does not lap them all) "
             "and laps driven; and on how many seeds it laps the shipped default track.", "",
             f"| method | lap speed vs {ev} | laps driven vs {ev} | laps `default` | "
             "agent-steps vs {ev} |".replace("{ev}", ev), "|---|---:|---:|---:|---:|"]
    for m in learners:
        pairs = list(zip(results[m], results[ev]))
        speed = float(np.median([_ratio(b["driver"]["train"]["lap_time"],
                                        a["driver"]["train"]["lap_time"]) for a, b in pairs]))
        far = float(np.median([_ratio(a["driver"]["train"]["laps"],
                                      b["driver"]["train"]["laps"]) for a, b in pairs]))
        steps = float(np.median([_ratio(a["curve"]["steps"][-1], b["curve"]["steps"][-1])
                                 for a, b in pairs if a["curve"]["steps"]
                                 and b["curve"]["steps"]] or [math.nan]))
        default = sum(bool(r["driver"].get("default_lapped")) for r in results[m])

        def x(v):
            return f"{v:.2f}x" if math.isfinite(v) else "n/a"
        lines.append(f"| {m} | {x(speed)} | {x(far)} | {default} / {len(results[m])} | "
                     f"{x(steps)} |")
        if math.isfinite(speed):
            verdict = (f"{m} reaches {speed:.0%} of {ev}'s lap speed on the training tracks "
                       f"(median of {len(pairs)} seed(s)).")
        else:
            tm, te = summary[m]["train"], summary[ev]["train"]
            verdict = (f"{m}'s best driver laps {tm['lapped']:g} of {tm['tracks']} training "
                       f"tracks and drives {tm['laps']:.2f} laps an episode on them; {ev}'s "
                       f"laps {te['lapped']:g} and drives {te['laps']:.2f}: lap speeds are "
                       "not comparable where a driver does not lap every track.")
        lines += ["", verdict]
    return lines


def methods_for(task: str) -> tuple[str, ...]:
    """The methods this module runs for ``task`` (others come in as ``runners`` of
    :func:`compare`)."""
    return CAR_METHODS if is_control(task) else METHODS


class CompareInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`compare`: the runs that finished were written; ``finished`` of
    ``total`` method-and-seed runs."""

    def __init__(self, finished: int, total: int):
        super().__init__(f"{finished} of {total} runs finished")
        self.finished, self.total = finished, total


def compare(task: str, out: Path, budget: float, seeds: int, cfg: CompareConfig,
            data=None, evolve_cfg=None, progress: bool = True,
            methods: tuple[str, ...] | None = None, generations: int | None = None,
            steps: int | None = None, runners: dict | None = None,
            first_seed: int = 0) -> dict:
    """Run the comparison and write ``compare.png``, ``report.md`` and ``results.json``.
    ``methods``: a subset of the task's methods (default: all of them and ``runners``).
    Control tasks run for ``budget`` seconds each, or ``generations`` (the same episodes
    for every evolution method), or ``steps`` agent-steps (equal environment steps).
    ``runners``: more methods, ``name -> f(seed, budget, tick, steps)`` returning a result
    like :func:`run_evolution`'s (the policy-gradient learners of :mod:`rl.compare`).
    The seeds are ``first_seed`` onwards (a comparison split over machines, then merged
    with :func:`merge_results`).

    Ctrl-C stops at once: the run under way is dropped, the ones that finished are written
    as usual (the report says how many), then :class:`CompareInterrupted` is raised."""
    from tqdm import tqdm

    out.mkdir(parents=True, exist_ok=True)
    runners = runners or {}
    methods = methods or (*methods_for(task), *runners)
    per_run = generations if generations is not None else steps if steps is not None \
        else budget
    unit = " generations" if generations is not None else " steps" if steps is not None \
        else " s"
    bar = tqdm(total=round(per_run * len(methods) * seeds, 1), disable=not progress,
               mininterval=0.5, desc=f"compare {task}",
               bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f}" + unit)
    results: dict[str, list[dict]] = {m: [] for m in methods}
    total, finished = len(methods) * seeds, 0
    try:
        for seed in range(first_seed, first_seed + seeds):
            for m in methods:
                done = bar.n

                def tick(s, done=done, m=m, seed=seed):
                    bar.n = done + min(s, per_run)
                    bar.set_postfix(method=m, seed=seed, refresh=False)
                    bar.refresh()

                if m in runners:
                    r = runners[m](seed, budget, tick, steps)
                elif is_control(task):
                    r = run_evolution(m, evolve_cfg, seed, budget, tick, generations, steps)
                else:
                    r = run_classification(m, data, cfg, seed, budget, tick,
                                           convnet=task.endswith("-cnn"))
                results[m].append(r)
                finished += 1
                bar.n = done + per_run
    except KeyboardInterrupt:
        pass
    finally:
        bar.close()
    results = {m: runs for m, runs in results.items() if runs}
    if results:
        write_results(task, out, budget, seeds, cfg, results,
                      None if finished == total else (finished, total), generations, steps)
    if finished < total:
        raise CompareInterrupted(finished, total)
    return results


def merge_results(parts: list[dict]) -> dict[str, list[dict]]:
    """The ``results`` of several ``results.json`` (the same comparison run on other seeds),
    method by method in the order given."""
    tasks = {(p["task"], p["budget_seconds"], p["generations"], p.get("steps")) for p in parts}
    if len(tasks) != 1:
        raise ValueError(f"these comparisons differ in task or budget: {sorted(map(str, tasks))}")
    merged: dict[str, list[dict]] = {}
    for p in parts:
        for m, runs in p["results"].items():
            merged.setdefault(m, []).extend(runs)
    return merged


def write_results(task, out, budget, seeds, cfg, results, partial=None,
                  generations=None, steps=None) -> None:
    """``compare.png``, ``report.md`` and ``results.json``; ``partial``: ``(finished,
    total)`` runs when the comparison was interrupted."""
    import json

    # the same network for every method, but for NEAT's growing graph (needs_graph)
    counts = {r["num_params"] for m, runs in results.items() for r in runs
              if not (m in STRATEGIES and STRATEGIES[m].needs_graph)}
    if len(counts) > 1:
        raise RuntimeError(f"methods used different networks: {counts}")
    if is_control(task):
        plot_control(task, results, out / "compare.png", f"{task}: best so far, {seeds} seed(s)")
        if task == "cars":
            write_cars_report(out, results, budget, seeds, generations, steps)
        else:
            write_control_report(out, task, results, budget, seeds, generations, steps)
    else:
        rows, target = summarize_classification(results)
        plot_classification(results, out / "compare.png",
                            f"{task}: test accuracy, {seeds} seed(s), {budget:g} s each")
        write_report(out, task, rows, target, budget, seeds, cfg)
    if partial:
        report = (out / "report.md").read_text()
        title, _, rest = report.partition("\n")
        atomic_write_text(out / "report.md", f"{title}\n\n**Interrupted**: {partial[0]} of "
                          f"{partial[1]} method-and-seed runs finished; only they are "
                          f"reported.\n{rest}")
    atomic_write_text(out / "results.json", json.dumps(
        {"task": task, "budget_seconds": None if generations or steps else budget,
         "generations": generations, "steps": steps, "seeds": seeds,
         "config": dataclasses.asdict(cfg), "results": results,
         "interrupted": bool(partial)}, default=float))
