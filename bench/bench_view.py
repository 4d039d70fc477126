"""Frames per second of the live window with many cars (or walkers), on whatever OpenGL is
here (software llvmpipe under Xvfb on the 2-core machine).

    xvfb-run -a .venv/bin/python bench/bench_view.py            # 100 cars
    xvfb-run -a .venv/bin/python bench/bench_view.py --task walkers --agents 50

Measures the viewer's real frame loop (neuroevo.watch.Watch.play without frame pacing): each frame
steps the world once (speed x1), runs the population's policy, updates every vertex array,
draws the batch and flips.  Reported: frames per second over the whole episode, and the
share of a frame spent drawing (update + draw + flip) versus simulating.  Where there is no
display the script starts Xvfb itself (or falls back to pyglet's EGL headless mode).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--task", choices=["cars", "walkers"], default="cars")
    p.add_argument("--agents", type=int, default=100)
    p.add_argument("--frames", type=int, default=600)
    p.add_argument("--size", default="1280x720")
    args = p.parse_args()

    from tests.gui import ensure_display

    mode = ensure_display()
    from common.config import build
    from evo.config import EvolveConfig
    from evo.rollout import episode, finish
    from evo.tasks import TaskSpec
    from neuroevo.watch import Watch

    cfg = build(EvolveConfig, {"task": args.task, "population": args.agents,
                               "cars": {"world": {"max_time": 60.0}}}, "bench: ")
    task = TaskSpec(args.task, cfg.cars, cfg.walkers, cfg.policy).build()
    net = task.network()
    rng = np.random.default_rng(0)
    # Drivers that stay on the road for a while: small random weights, full throttle bias.
    thetas = rng.normal(0, 0.3, (args.agents, net.num_params))
    w, h = (int(v) for v in args.size.split("x"))
    watch = Watch(task, size=(w, h), fps=None, offscreen=True)
    world = task.world(args.agents)

    # simulation alone, for the split
    gen = episode(world, net, thetas, seed=0)
    t0 = time.perf_counter()
    sim_steps = 0
    for _ in range(args.frames):
        try:
            next(gen)
        except StopIteration:
            break
        sim_steps += 1
    sim_s = (time.perf_counter() - t0) / max(sim_steps, 1)
    finish(gen)

    gen = episode(world, net, thetas, seed=0)
    watch.attach(world, thetas)
    t0 = time.perf_counter()
    frames = 0
    alive = []
    for _ in range(args.frames):
        watch.poll()
        try:
            next(gen)
        except StopIteration:
            break
        watch.render()
        alive.append(int((~world.done).sum()))
        frames += 1
    dt = time.perf_counter() - t0
    from pyglet import gl

    fps = frames / dt
    print(f"{args.task}: {args.agents} agents, {frames} frames at {w}x{h} "
          f"({mode}, {gl.gl_info.get_renderer()})")
    print(f"frames per second: {fps:.0f}  ({1000 / fps:.2f} ms per frame: simulation "
          f"{1000 * sim_s:.2f} ms, drawing {1000 / fps - 1000 * sim_s:.2f} ms); "
          f"agents alive: {alive[0]} at the start, {alive[-1]} at the end")
    watch.close()


if __name__ == "__main__":
    main()
