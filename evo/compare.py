"""Evolution versus gradient descent on the same network and task, same wall-clock budget.

Classification tasks (fruit, fruit-curved, mnist, fashion): one architecture, trained by
backprop (SGD with momentum, and Adam), by ``SimpleGA`` and by ``OpenAIES``.  Evolution's
fitness is the negative cross-entropy on a mini-batch drawn afresh each generation, computed
for the whole population with one ``forward_population`` call.  Every method gets the same
training data and the same budget of training seconds (test evaluations pause the clock).

Cars: GA, OpenAI-ES, CMA-ES and random search, best fitness per generation and per second.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from common.files import atomic_write_text
from evo.es import ESSettings
from evo.ga import GASettings
from evo.registry import STRATEGIES
from nn.network import Network
from nn.train import TrainConfig, loss_and_accuracy, make_optimizer, one_hot

CLASSIFICATION = ("fruit", "fruit-curved", "mnist", "fashion")
TASKS = (*CLASSIFICATION, "cars")


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

    def step_factor(self, seconds: float, budget: float) -> float:
        """The step-size multiplier after ``seconds`` of a ``budget``."""
        done = min(max(seconds / budget, 0.0), 1.0)
        return 1.0 - (1.0 - self.final_step_fraction) * done


METHODS = ("backprop-sgd", "backprop-adam", "ga", "es")
CAR_METHODS = ("ga", "es", "random", "cmaes")


def _make_net(n_in: int, n_out: int, cfg: CompareConfig, seed: int) -> Network:
    sizes = [n_in, *cfg.hidden, n_out]
    acts = [cfg.activation] * len(cfg.hidden) + ["softmax"]
    return Network(sizes, acts, rng=np.random.default_rng(np.random.SeedSequence([seed, 11])))


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
                       tick=lambda s: None) -> dict:
    """Train for ``budget`` seconds; returns the curve ``seconds, evaluations, accuracy``
    and the parameter count."""
    net = _make_net(data.n_inputs, data.n_classes, cfg, seed)
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


def run_cars(method: str, evolve_cfg, seed: int, budget: float, tick=lambda s: None) -> dict:
    """Evolve cars with ``method`` for ``budget`` seconds: best fitness per generation.
    The curve's generations count from 1, as in ``fitness.csv``; the seeds are those of
    :class:`evo.run.EvolutionRun` (0-based index ``g``), so with the same configuration
    the best of generation N is the ``best_ever`` of ``fitness.csv``'s generation N."""
    from evo.backends import make_backend
    from evo.run import ask_rng, generation_seeds
    from evo.tasks import TaskSpec

    spec = TaskSpec("cars", evolve_cfg.cars, evolve_cfg.walkers, evolve_cfg.policy)
    backend = make_backend("serial", spec)
    net = backend.task.network()
    net.init_params(np.random.default_rng(np.random.SeedSequence([seed, 7])))
    s = evolve_cfg.strategy
    settings = getattr(s, method)
    pop = evolve_cfg.population + (evolve_cfg.population % 2 if method == "es" else 0)
    if method == "cmaes":
        pop = max(pop, 2)  # CMA-ES recombines the best pop // 2
    strategy = STRATEGIES[method](net.num_params, pop, settings,
                                  init_params=net.get_params(), init_scale=s.init_scale)
    curve = {"seconds": [], "generation": [], "best": []}
    t0, g = time.perf_counter(), 0
    while time.perf_counter() - t0 < budget:
        params = strategy.ask(ask_rng(seed, g))
        fit = backend.evaluate(params, generation_seeds(seed, g, evolve_cfg.episodes))[
            "fitness"]
        strategy.tell(params, fit)
        g += 1  # generation g (counted from 1) is done
        curve["seconds"].append(time.perf_counter() - t0)
        curve["generation"].append(g)
        curve["best"].append(strategy.best_fitness)
        tick(curve["seconds"][-1])
    return {"curve": curve, "num_params": net.num_params}


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

    from nn.plots import legend_outside

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
    from nn.plots import save_figure

    save_figure(classification_figure(results, title), path)


def cars_figure(results, title):
    """Best fitness by generation (whole-number ticks, from 1) and by second, a line per
    method and seed; one legend, right of the axes."""
    from matplotlib.figure import Figure

    from nn.plots import integer_ticks, legend_outside

    fig = Figure(figsize=(12, 4.2), layout="constrained")
    ax_g, ax_s = fig.subplots(1, 2)
    for m, runs in results.items():
        color = None
        for i, r in enumerate(runs):
            c = r["curve"]
            kw = {"label": m} if i == 0 else {}
            line, = ax_g.plot(c["generation"], c["best"], color=color, alpha=0.8, **kw)
            color = line.get_color()
            ax_s.plot(c["seconds"], c["best"], color=color, alpha=0.8, **kw)
    ax_g.set_xlabel("generation")
    ax_s.set_xlabel("seconds")
    integer_ticks(ax_g)
    for ax in (ax_g, ax_s):
        ax.set_ylabel("best fitness (laps)")
        ax.grid(alpha=0.3)
    legend_outside(fig, ax_g)
    fig.suptitle(title)
    return fig


def plot_cars(results, path, title):
    from nn.plots import save_figure

    save_figure(cars_figure(results, title), path)


def _seconds(t: float) -> str:
    return f"{t:.1f} s" if t >= 1 else f"{t:.2f} s"


def write_report(out: Path, task: str, rows, target, budget, seeds, cfg) -> None:
    lines = [f"# Evolution vs gradient descent: {task}", "",
             f"Budget: {budget:g} training seconds per method and seed; {seeds} seed(s). "
             f"Network: {rows[0]['num_params']:,} parameters for every method (hidden "
             f"{cfg.hidden}, {cfg.activation}, softmax). Step sizes (learning rates, the "
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


def write_cars_report(out: Path, results, budget, seeds) -> None:
    lines = ["# Cars: GA, ES, CMA-ES and random search", "",
             f"Budget: {budget:g} s per method and seed; {seeds} seed(s).", "",
             "| method | best fitness (laps, mean over seeds) | generations | first lap at "
             "generation |", "|---|---:|---:|---:|"]
    for m, runs in results.items():
        best = np.mean([r["curve"]["best"][-1] if r["curve"]["best"] else 0 for r in runs])
        gens = np.mean([len(r["curve"]["best"]) for r in runs])
        laps = [next((g for g, b in zip(r["curve"]["generation"], r["curve"]["best"])
                      if b >= 1.0), None) for r in runs]
        lap = ", ".join("never" if v is None else str(v) for v in laps)
        lines.append(f"| {m} | {best:.3f} | {gens:.0f} | {lap} |")
    lines += ["", "![comparison](compare.png)", ""]
    atomic_write_text(out / "report.md", "\n".join(lines))


def methods_for(task: str) -> tuple[str, ...]:
    return CAR_METHODS if task == "cars" else METHODS


class CompareInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`compare`: the runs that finished were written; ``finished`` of
    ``total`` method-and-seed runs."""

    def __init__(self, finished: int, total: int):
        super().__init__(f"{finished} of {total} runs finished")
        self.finished, self.total = finished, total


def compare(task: str, out: Path, budget: float, seeds: int, cfg: CompareConfig,
            data=None, evolve_cfg=None, progress: bool = True,
            methods: tuple[str, ...] | None = None) -> dict:
    """Run the comparison and write ``compare.png``, ``report.md`` and ``results.json``.
    ``methods``: a subset of the task's methods (default: all of them).

    Ctrl-C stops at once: the run under way is dropped, the ones that finished are written
    as usual (the report says how many), then :class:`CompareInterrupted` is raised."""
    from tqdm import tqdm

    out.mkdir(parents=True, exist_ok=True)
    methods = methods or methods_for(task)
    bar = tqdm(total=round(budget * len(methods) * seeds, 1), unit="s", disable=not progress,
               mininterval=0.5,
               desc=f"compare {task}", bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s")
    results: dict[str, list[dict]] = {m: [] for m in methods}
    total, finished = len(methods) * seeds, 0
    try:
        for seed in range(seeds):
            for m in methods:
                done = bar.n

                def tick(s, done=done, m=m, seed=seed):
                    bar.n = done + min(s, budget)
                    bar.set_postfix(method=m, seed=seed, refresh=False)
                    bar.refresh()

                if task == "cars":
                    r = run_cars(m, evolve_cfg, seed, budget, tick)
                else:
                    r = run_classification(m, data, cfg, seed, budget, tick)
                results[m].append(r)
                finished += 1
                bar.n = done + budget
    except KeyboardInterrupt:
        pass
    finally:
        bar.close()
    results = {m: runs for m, runs in results.items() if runs}
    if results:
        write_results(task, out, budget, seeds, cfg, results,
                      None if finished == total else (finished, total))
    if finished < total:
        raise CompareInterrupted(finished, total)
    return results


def write_results(task, out, budget, seeds, cfg, results, partial=None) -> None:
    """``compare.png``, ``report.md`` and ``results.json``; ``partial``: ``(finished,
    total)`` runs when the comparison was interrupted."""
    import json

    counts = {r["num_params"] for runs in results.values() for r in runs}
    if len(counts) != 1:
        raise RuntimeError(f"methods used different networks: {counts}")
    if task == "cars":
        plot_cars(results, out / "compare.png", f"cars: best fitness, {seeds} seed(s)")
        write_cars_report(out, results, budget, seeds)
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
        {"task": task, "budget_seconds": budget, "seeds": seeds,
         "config": dataclasses.asdict(cfg), "results": results,
         "interrupted": bool(partial)}, default=float))
