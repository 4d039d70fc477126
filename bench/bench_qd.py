"""Benchmark: our MAP-Elites (evo.qd.MapElites) against pyribs' in the same run.

    .venv/bin/python bench/bench_qd.py sphere [--dim 100] [--cells 100] [--batch 555]
        [--iterations 1000] [--seeds 0 1 2]
    .venv/bin/python bench/bench_qd.py cars [--population 36] [--generations 20]
        [--cells 10] [--max-time 10] [--seeds 0 1 2]

``ribs`` (pyribs, ``pip install -e '.[qd-ref]'``) is the reference here only; nothing else
imports it.  Each side runs the same evaluations on the same grid, seed by seed:

* ``sphere``: the sphere function of the pyribs tutorials (``--dim`` D, shifted optimum
  at 0.4 * 5.12, the objective normalised to [0, 100]) with the "clipped sum of halves"
  descriptors (each gene outside [-5.12, 5.12] becomes 5.12 / gene; the sums of the first
  and the second half of the genes), on a ``--cells`` x ``--cells`` grid over
  [-D/2 * 5.12, D/2 * 5.12]^2.  pyribs: ``GridArchive`` + one ``IsoLineEmitter`` (batch
  ``--batch``) + ``Scheduler``; ours: ``MapElites`` with population ``--batch``.  Both
  with iso_sigma 0.1 and line_sigma 0.2, and both start from x0 = 0: pyribs samples
  x0 + iso_sigma * N(0, I) while its archive is empty, ours the same (init_scale =
  iso_sigma, no fixed initial generations).
* ``cars``: the cars task (``configs/cars.yaml``'s network and world, ``--max-time`` s
  episodes, one episode per genome, the run's episode seeds), descriptors mean_speed x
  mean_abs_steering on a ``--cells`` x ``--cells`` grid over their natural ranges; the
  same serial backend evaluates both sides' genomes.

Reported per side (medians over seeds): the QD-score, computed the same way from each
final archive (``evo.archive``: sum of max(fitness - 0, 0) over the elites; pyribs' own
figure, ``stats.qd_score`` with offset 0, is printed beside it), coverage, best fitness,
and the optimiser's own seconds (ask + tell, outside evaluations), with their ratio.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time

import numpy as np

SHIFT = 5.12 * 0.4


def sphere(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pyribs tutorials' sphere: ``x (n, D)`` -> objective in [0, 100] (100 at the
    shifted optimum) and the clipped-sum-of-halves descriptors ``(n, 2)``."""
    dim = x.shape[1]
    worst = (-5.12 - SHIFT) ** 2 * dim
    raw = np.sum(np.square(x - SHIFT), axis=1)
    objective = (raw - worst) / (0.0 - worst) * 100
    clipped = x.copy()
    mask = (clipped < -5.12) | (clipped > 5.12)
    clipped[mask] = 5.12 / clipped[mask]
    half = dim // 2
    desc = np.stack([clipped[:, :half].sum(axis=1), clipped[:, half:].sum(axis=1)], axis=1)
    return objective, desc


def _ours(grid, dim, batch, x0, iso, line, seed, steps, evaluate):
    from evo.qd import MapElites, MapElitesSettings

    s = MapElites(dim, batch, MapElitesSettings(iso_sigma=iso, line_sigma=line,
                                                initial_generations=0),
                  init_params=x0, init_scale=iso, grid=grid)
    opt = 0.0
    for g in range(steps):
        rng = np.random.default_rng(np.random.SeedSequence([seed, g, 1]))
        t = time.perf_counter()
        x = s.ask(rng)
        opt += time.perf_counter() - t
        f, d = evaluate(x, g)
        t = time.perf_counter()
        s.tell(x, f, d)
        opt += time.perf_counter() - t
    a = s.archive
    return {"qd_score": a.qd_score, "coverage": a.coverage, "best": a.best, "opt_s": opt,
            "ribs_qd_score": float("nan")}


def _ribs(grid, dim, batch, x0, iso, line, seed, steps, evaluate):
    from ribs.archives import GridArchive as RibsGrid
    from ribs.emitters import IsoLineEmitter
    from ribs.schedulers import Scheduler

    archive = RibsGrid(solution_dim=dim, dims=list(grid.cells),
                       ranges=list(zip(grid.low, grid.high)), seed=seed)
    emitter = IsoLineEmitter(archive, iso_sigma=iso, line_sigma=line, x0=x0,
                             batch_size=batch, seed=seed)
    scheduler = Scheduler(archive, [emitter])
    opt = 0.0
    for g in range(steps):
        t = time.perf_counter()
        x = scheduler.ask()
        opt += time.perf_counter() - t
        f, d = evaluate(np.asarray(x, np.float64), g)
        t = time.perf_counter()
        scheduler.tell(f, d)
        opt += time.perf_counter() - t
    elites = archive.data("objective")
    return {"qd_score": float(np.maximum(elites, 0).sum()),
            "coverage": float(archive.stats.coverage),
            "best": float(archive.stats.obj_max), "opt_s": opt,
            "ribs_qd_score": float(archive.stats.qd_score)}


def run_sphere(args):
    from evo.archive import GridSpec

    d = args.dim
    bound = d / 2 * 5.12
    grid = GridSpec(("half_0", "half_1"), (-bound, -bound), (bound, bound),
                    (args.cells, args.cells))
    x0 = np.zeros(d)
    title = (f"sphere {d}-D, {args.cells}x{args.cells} grid, batch {args.batch} x "
             f"{args.iterations} iterations = {args.batch * args.iterations:,} evaluations")
    out = {"ours": [], "ribs": []}
    for seed in args.seeds:  # interleaved, so the machine's load falls on both alike
        for name, fn in (("ours", _ours), ("ribs", _ribs)):
            out[name].append(fn(grid, d, args.batch, x0, 0.1, 0.2, seed, args.iterations,
                                lambda x, g: sphere(x)))
    return title, out


def run_cars(args):
    from common.config import load_config, named_config
    from evo.backends import SerialBackend
    from evo.config import EvolveConfig
    from evo.run import generation_seeds, grid_spec

    names = ["mean_speed", "mean_abs_steering"]
    cfg = load_config(EvolveConfig, named_config("cars"), [
        f"cars.world.max_time={args.max_time}", "episodes=1", "recheck_episodes=0",
        f"qd.descriptors=[{','.join(names)}]", f"qd.cells=[{args.cells},{args.cells}]"])
    out = {"ours": [], "ribs": []}
    for seed in args.seeds:
        from evo.tasks import TaskSpec

        spec = TaskSpec("cars", cfg.cars, cfg.walkers, cfg.policy, cfg.gym, args.population,
                        tuple(names))
        backend = SerialBackend(spec)
        task = backend.task
        net = task.network()
        net.init_params(np.random.default_rng(np.random.SeedSequence([seed, 7])))
        x0 = task.initial_genome(net.get_params())
        grid = grid_spec(cfg.qd, task.describer.ranges)

        def evaluate(x, g, seed=seed, backend=backend):
            r = backend.evaluate(x, generation_seeds(seed, g, 1))
            return r["fitness"], np.stack([r[f"desc_{n}"] for n in names], axis=1)

        for name, fn in (("ours", _ours), ("ribs", _ribs)):
            out[name].append(fn(grid, len(x0), args.population, x0, 0.1, 0.2, seed,
                                args.generations, evaluate))
    title = (f"cars (max_time {args.max_time:g} s), {args.cells}x{args.cells} grid over "
             f"{' x '.join(names)}, population {args.population} x {args.generations} "
             f"generations")
    return title, out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("problem", choices=["sphere", "cars"])
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--cells", type=int)
    p.add_argument("--batch", type=int, default=555)
    p.add_argument("--iterations", type=int, default=1000)
    p.add_argument("--population", type=int, default=36)
    p.add_argument("--generations", type=int, default=20)
    p.add_argument("--max-time", type=float, default=10.0)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = p.parse_args(argv)
    if args.cells is None:
        args.cells = 100 if args.problem == "sphere" else 10
    try:
        import ribs
    except ImportError:
        print("bench_qd: pyribs is the reference: pip install -e '.[qd-ref]'", file=sys.stderr)
        return 2
    # pyribs compiles parts of itself (numba) on first use: not part of its time here
    from evo.archive import GridSpec

    warm = GridSpec(("a", "b"), (-1.0, -1.0), (1.0, 1.0), (5, 5))
    _ribs(warm, 4, 8, np.zeros(4), 0.1, 0.2, 0, 3, lambda x, g: sphere(x))
    title, res = (run_sphere if args.problem == "sphere" else run_cars)(args)
    print(f"{title}; seeds {args.seeds}; ribs {ribs.__version__}, numpy {np.__version__}, "
          f"{platform.processor() or platform.machine()}")
    print("| implementation | QD-score | coverage | best | optimiser s (ask + tell) | "
          "pyribs' own QD-score |")
    print("|---|---:|---:|---:|---:|---:|")
    med = {}
    for name, runs in res.items():
        med[name] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        m = med[name]
        own = "" if name == "ours" else f"{m['ribs_qd_score']:.6g}"
        print(f"| {name} | {m['qd_score']:.6g} | {m['coverage']:.2%} | {m['best']:.4g} | "
              f"{m['opt_s']:.3f} | {own} |")
    for name, runs in res.items():
        print(f"{name} per seed: " + ", ".join(
            f"qd {r['qd_score']:.6g} / {r['opt_s']:.3f} s" for r in runs))
    print(f"optimiser time ours / ribs: {med['ours']['opt_s'] / med['ribs']['opt_s']:.2f}; "
          f"QD-score ours / ribs: {med['ours']['qd_score'] / med['ribs']['qd_score']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
