"""Benchmark: walker-steps per second of WalkerWorld, against physics alone in the same run.

    .venv/bin/python bench/bench_walker_world.py [--walkers 50] [--repeats 7] [--steps 200]
        [--index]

For the biped and the quadruped it times WalkerWorld.step with a rhythmic gait command
(motor rates, space.step, batched body-state and contact reads, observations) and, in the
same steps, the time spent inside pymunk's space.step (the physics-only reference: the same
bodies in the same states). Prints medians over repeats and the ratio world/physics.

``--index`` also times each world with chipmunk's default broad phase (a bounding-box tree)
instead of the spatial hash the world uses, in alternating repeats, on the top-difficulty
terrain ``procedural:3:1``, and prints the hash's speed-up over the tree.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
import pymunk

from sims.walker_world import WalkerWorld, WalkerWorldConfig


def gait(world: WalkerWorld, t: float) -> np.ndarray:
    """(N, J) a sine wave per joint, phase shifted by walker index."""
    j = np.arange(world.act_dim)
    phase = np.arange(world.n_agents)[:, None] * 0.1
    return 0.6 * np.sin(2.0 * np.pi * 1.2 * t + j[None, :] + phase)


def time_world(world: WalkerWorld, steps: int) -> tuple[float, float]:
    """Seconds for `steps` world steps, and the part of it spent in space.step."""
    world.reset(seed=0)
    space = world.space
    inner = space.step
    spent = [0.0]

    def timed_step(dt: float) -> None:
        t = time.perf_counter()
        inner(dt)
        spent[0] += time.perf_counter() - t

    space.step = timed_step  # type: ignore[method-assign]
    t0 = time.perf_counter()
    for _ in range(steps):
        world.step(gait(world, world.time))
    total = time.perf_counter() - t0
    return total, spent[0]


def index_speedup(name: str, walkers: int, repeats: int, steps: int) -> tuple[float, float]:
    """walker-steps/s of ``name``'s world with the spatial hash and with the default tree,
    medians of alternating repeats."""
    hashed = pymunk.Space.use_spatial_hash
    cfg = WalkerWorldConfig(max_time=1e6, terrain="procedural:3:1")
    times = {"hash": [], "tree": []}
    for _ in range(repeats):
        for kind in times:
            world = WalkerWorld(name, walkers, cfg)
            try:
                if kind == "tree":  # the reference: the world's hash request ignored
                    pymunk.Space.use_spatial_hash = lambda self, dim, count: None
                times[kind].append(time_world(world, steps)[0])
            finally:
                pymunk.Space.use_spatial_hash = hashed
    n = walkers * steps
    return n / statistics.median(times["hash"]), n / statistics.median(times["tree"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--walkers", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--index", action="store_true",
                    help="also time the default bounding-box tree against the spatial hash")
    args = ap.parse_args()
    rows = []
    for name in ("biped", "quadruped"):
        cfg = WalkerWorldConfig(max_time=1e6)
        world = WalkerWorld(name, args.walkers, cfg)
        time_world(world, 20)
        w_t, p_t = [], []
        for _ in range(args.repeats):
            total, physics = time_world(world, args.steps)
            w_t.append(total)
            p_t.append(physics)
        n = args.walkers * args.steps
        w, p = n / statistics.median(w_t), n / statistics.median(p_t)
        rows.append((name, world.n_bodies, world.n_joints, w, p))
        print(f"{name}: world {w:,.0f}  physics-only {p:,.0f} walker-steps/s")
    print()
    print(f"`python {' '.join(sys.argv)}`, {args.walkers} walkers, "
          f"median of {args.repeats} x {args.steps} steps")
    print()
    print("| creature | bodies | joints | world (walker-steps/s) | physics only | "
          "world / physics |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, b, j, w, p in rows:
        print(f"| {name} | {b} | {j} | {w:,.0f} | {p:,.0f} | {w / p:.2f} |")
    if args.index:
        print()
        print("| creature | spatial hash (walker-steps/s) | bounding-box tree | hash / tree |")
        print("|---|---:|---:|---:|")
        for name in ("biped", "quadruped"):
            h, t = index_speedup(name, args.walkers, args.repeats, args.steps)
            print(f"| {name} | {h:,.0f} | {t:,.0f} | {h / t:.2f} |")


if __name__ == "__main__":
    main()
